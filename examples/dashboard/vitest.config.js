import { defineConfig } from 'vitest/config';

// esbuild compiles JSX with the automatic runtime, so no React plugin is needed.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  test: { environment: 'jsdom' },
});

// The goal of the refactor: this fails while Dashboard is a class and passes once it is a function component.
import { assert, test } from 'vitest';
import Dashboard from './Dashboard.jsx';

test('Dashboard is a function component, not a class', () => {
  const isClass = Boolean(Dashboard.prototype && Dashboard.prototype.isReactComponent);
  assert(!isClass, 'Dashboard must be a function component with hooks (useState, useEffect), not a class');
});

#!/usr/bin/env bash
# Install the JavaScript examples' dependencies (examples/dashboard) from their lockfile so that their tests, and the
# tests that refactor them, can run. Without npm it says so and does nothing (those tests then skip with a reason).
# Idempotent: a tree already installed from the current lockfile is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "setup-examples: npm not found: skipping examples/dashboard (its tests will skip)" >&2
  exit 0
fi

for dir in examples/dashboard; do
  # npm writes node_modules/.package-lock.json at the end of an install: newer than the lockfile means up to date.
  if [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    continue
  fi
  # --ignore-scripts: no dependency needs an install script (esbuild's binary comes as an optional package).
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
done

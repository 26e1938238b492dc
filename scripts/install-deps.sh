#!/usr/bin/env bash
# npm dependencies, exactly as locked; skipped when node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "install-deps: node_modules up to date"
  exit 0
fi
echo "install-deps: npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"

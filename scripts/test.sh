#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what it needs (idempotent), then runs
# type checking, the unit tests (no Docker) and the end-to-end test (real Docker engine).
#   scripts/test.sh            everything
#   scripts/test.sh --unit     unit tests only (still needs promtool/amtool from the bootstrap)
set -euo pipefail
cd "$(dirname "$0")/.."

unit_only=false
for arg in "$@"; do
  case $arg in
    --unit) unit_only=true ;;
    -h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

echo "test: install and build"
# shellcheck source=scripts/lib/toolchain.sh
source scripts/lib/toolchain.sh
prepare_toolchain

echo "test: type check (app and tests)"
npx tsc -p tsconfig.json

echo "test: unit tests"
npx jest --selectProjects unit

if [[ $unit_only == false ]]; then
  scripts/build-local-images.sh
  echo "test: end-to-end (real engine, local Docker)"
  npx jest --selectProjects e2e --runInBand
fi

#!/usr/bin/env bash
# The project's command line (scripts/cli.ts; `npm run <command>` runs it): first the machine's
# part, the npm packages exactly as locked and the app compiled to dist/ (seconds when nothing
# changed), then the command. `scripts/cli.sh --help` lists the commands.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/toolchain.sh
source scripts/lib/toolchain.sh
prepare_app
exec node dist/scripts/cli.js "$@"

# shellcheck shell=bash
# Run from the project root. Progress goes to stderr, so the caller's stdout stays its own.
#   prepare_app                 npm packages and the app compiled to dist/ (no Docker, seconds)
#   prepare_engine [--deploy]   the bootstrap (Docker engine, OpenTofu/Terraform, provider, and the
#                               test tools unless --deploy) and its environment (.tools/env.sh)
#   prepare_toolchain [--deploy]  both
prepare_app() {
  scripts/install-deps.sh >&2
  # Compiled already when no source is newer than the last build (tsc itself takes seconds to
  # find that out).
  local stamp=dist/.tsbuildinfo-app
  if [[ ! -f $stamp ]] || [[ -n $(find main.ts stacks scripts tsconfig.json tsconfig.app.json package-lock.json -newer "$stamp" \( -name '*.ts' -o -name '*.json' \) -print -quit) ]]; then
    node_modules/.bin/tsc -p tsconfig.app.json >&2
  fi
}
prepare_engine() {
  scripts/bootstrap.sh "$@" >&2
  # shellcheck source=/dev/null
  source .tools/env.sh
}
prepare_toolchain() {
  prepare_app
  prepare_engine "$@"
}

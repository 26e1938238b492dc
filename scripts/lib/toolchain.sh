# shellcheck shell=bash
# Run from the project root. Progress goes to stderr, so the caller's stdout stays its own.
#   prepare_app                 npm packages and the app compiled to dist/ (no Docker, seconds)
#   prepare_engine [--deploy]   the bootstrap (Docker engine, OpenTofu/Terraform, provider, and the
#                               test tools unless --deploy) and its environment (.tools/env.sh)
#   prepare_toolchain [--deploy]  both
prepare_app() {
  scripts/install-deps.sh >&2
  npx tsc -p tsconfig.app.json >&2
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

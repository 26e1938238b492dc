# shellcheck shell=bash
# prepare_toolchain [--deploy]: npm packages, the bootstrap (Docker engine, engine, provider, and
# the test tools unless --deploy), its environment (.tools/env.sh) and the app compiled to dist/.
# Progress goes to stderr, so the caller's stdout stays its own. Run from the project root.
prepare_toolchain() {
  scripts/install-deps.sh >&2
  scripts/bootstrap.sh "$@" >&2
  # shellcheck source=/dev/null
  source .tools/env.sh
  npx tsc -p tsconfig.json >&2
}

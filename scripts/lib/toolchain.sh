# shellcheck shell=bash
# Run from the project root. Progress goes to stderr, so the caller's stdout stays its own.
#   prepare_app                 npm packages and the app compiled to dist/ (no Docker, seconds)
#   prune_dist                  removes compiled files whose source is gone (tsc leaves them, and
#                               a stale services/x.js would shadow a services/x/ folder)
#   prepare_engine [--deploy]   the bootstrap (Docker engine, OpenTofu/Terraform, provider, and the
#                               test tools unless --deploy) and its environment (.tools/env.sh)
#   prepare_toolchain [--deploy]  both
#   encryption_engine_problem ENV ENCRYPTED   why the engine cannot run an encrypted stack, if it cannot
prepare_app() {
  scripts/install-deps.sh >&2
  # Compiled already when no source is newer than the last build (tsc itself takes seconds to
  # find that out).
  local stamp=dist/.tsbuildinfo-app
  if [[ ! -f $stamp ]] || [[ -n $(find main.ts stacks scripts tsconfig.json tsconfig.app.json package-lock.json -newer "$stamp" \( -name '*.ts' -o -name '*.json' \) -print -quit) ]]; then
    node_modules/.bin/tsc -p tsconfig.app.json >&2
  fi
  prune_dist
}
prune_dist() {
  local js source
  [[ -d dist ]] || return 0
  while IFS= read -r js; do
    source=${js#dist/}
    source=${source%.js}
    [[ -f $source.ts || -f $source.js ]] || rm -f "$js" "${js%.js}.d.ts" "$js.map"
  done < <(find dist -name '*.js')
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
# encryption_engine_problem ENV ENCRYPTED: OpenTofu's encryption block (encryption.enabled; ENCRYPTED
# is stack-facts' line 6: no, yes or rotating) on an engine without it: says why and how, returns 1.
# Terraform would refuse the block itself, after init; this says it before anything runs.
encryption_engine_problem() {
  local env_name=$1 encrypted=$2 version
  [[ $encrypted != no ]] || return 1
  version=$("$TERRAFORM_BINARY_NAME" version 2>/dev/null | sed -n 1p) # sed, not head: it reads it all (no SIGPIPE)
  [[ $version != OpenTofu* ]] || return 1
  echo "$env_name: encryption.enabled needs OpenTofu; the engine is ${version:-unknown} ($TERRAFORM_BINARY_NAME): set TERRAFORM_BINARY_NAME to tofu, or leave encryption off (README: Encrypted state)"
}

# shellcheck shell=bash
# Run from the project root. Progress goes to stderr, so the caller's stdout stays its own.
#   prepare_app                 npm packages and the app compiled to dist/ (no Docker, seconds)
#   prune_dist                  removes compiled files whose source is gone (tsc leaves them, and
#                               a stale services/x.js would shadow a services/x/ folder)
prepare_app() {
  scripts/install-deps.sh >&2
  # Compiled already when no source is newer than the last build (tsc itself takes seconds to
  # find that out).
  local stamp=dist/.tsbuildinfo-app
  if [[ ! -f $stamp ]] || [[ -n $(find main.ts stacks scripts tsconfig.json tsconfig.app.json package-lock.json -newer "$stamp" \( -name '*.ts' -o -name '*.json' \) -print -quit) ]]; then
    node_modules/.bin/tsc -p tsconfig.app.json >&2
    # tsc leaves its build info untouched when no input changed (a dashboard's JSON is newer, but
    # not an input): the stamp says when the sources were last found compiled.
    touch "$stamp"
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

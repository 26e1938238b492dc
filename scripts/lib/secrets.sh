# shellcheck shell=bash
# load_secrets ENV: export the TF_VAR_* secrets an environment's plan needs. Values already in
# the caller's environment win; missing passwords are generated once into .secrets/<ENV>.env
# (git-ignored, mode 600). PagerDuty, Slack and heartbeat secrets are never generated: set them
# yourself. In CI (CI=true) nothing is generated: a missing secret must stop the plan, naming it.
# Which secrets may be generated is stacks/secrets.json; the file is scripts/lib/secret-file.js's
# (plain JavaScript: no build needed). Run from the project root.
load_secrets() {
  local pairs=() pair
  # NUL-separated NAME=value pairs: values are exported as they are, never evaluated.
  mapfile -t -d '' pairs < <(node scripts/lib/secret-file.js export "$1")
  wait $! || { echo "secrets: could not read or generate .secrets/$1.env" >&2; return 1; }
  for pair in "${pairs[@]}"; do
    export "${pair?}"
  done
}

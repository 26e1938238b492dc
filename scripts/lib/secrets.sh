# shellcheck shell=bash
# load_secrets ENV: export the TF_VAR_* secrets an environment's plan needs. Values already in
# the caller's environment win; missing passwords are generated once into .secrets/<ENV>.env
# (git-ignored, mode 600). PagerDuty, Slack and heartbeat secrets are never generated: set them
# yourself. In CI (CI=true) nothing is generated: a missing secret must stop the plan, naming it.
# Which secrets may be generated is stacks/secrets.json; the file is scripts/lib/secret-file.js's
# (plain JavaScript: no build needed). Run from the project root.
load_secrets() {
  local pairs=() pair needed
  # Only the secrets the environment needs (the callers compiled the app to dist/ beforehand).
  needed=$(node -e 'const p = require("node:path"); const { loadEnvironmentFile } = require("./dist/stacks/environment-files");
    const { requiredSecrets } = require("./dist/stacks/secrets");
    const env = loadEnvironmentFile(p.join(process.env.PM_ENVIRONMENTS_DIR || "environments", `${process.argv[1]}.yaml`));
    console.log(requiredSecrets(env).join(" ") || "-")' "$1" 2>/dev/null) || needed="" # an invalid file: preflight names the field
  # NUL-separated NAME=value pairs: values are exported as they are, never evaluated.
  # shellcheck disable=SC2086 # one name per word
  mapfile -t -d '' pairs < <(node scripts/lib/secret-file.js export "$1" $needed)
  wait $! || { echo "secrets: could not read or generate .secrets/$1.env" >&2; return 1; }
  for pair in "${pairs[@]}"; do
    export "${pair?}"
  done
}

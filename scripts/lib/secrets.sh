# shellcheck shell=bash
# load_secrets ENV: export the TF_VAR_* secrets an environment's plan needs. Values already in
# the caller's environment win; missing passwords are generated once into .secrets/<ENV>.env
# (git-ignored, mode 600). PagerDuty and Slack secrets are never generated: set them yourself.
# In CI (CI=true) nothing is generated: a missing secret must stop the plan, naming it.
load_secrets() {
  local file=.secrets/$1.env name var
  local names
  # The list lives in stacks/secrets.ts (compiled by the caller's `tsc` beforehand).
  names=$(node -p 'require("./dist/stacks/secrets").GENERATABLE_SECRETS.join(" ")')
  for name in $names; do
    var=TF_VAR_$name
    [[ -n ${!var:-} ]] && continue
    [[ ${CI:-} == true ]] && continue
    if [[ ! -f $file ]]; then
      mkdir -p .secrets && chmod 700 .secrets
      (umask 077 && touch "$file")
    fi
    if ! grep -q "^$var=" "$file"; then
      echo "$var=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"$file"
      echo "secrets: generated $var into $file" >&2
    fi
    export "$(grep "^$var=" "$file")"
  done
}

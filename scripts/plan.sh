#!/usr/bin/env bash
# Plans environments with the engine itself and writes each plan as JSON for review, redacted:
# no variable, sensitive value, secret file or secret value is in it (fit for a pull request).
#   scripts/plan.sh [ENV…]            plan (default: every environment) → plans/<ENV>.json, and
#                                     the engine's text of it → plans/<ENV>.plan.log
#   scripts/plan.sh --drift [ENV…]    refresh-only plan: what changed outside the code;
#                                     exits 2 when there is drift
# Then `npm run plan:summary` turns plans/*.json into Markdown (plans/summary.md).
# PM_ENVIRONMENTS_DIR and PM_PLANS_DIR move the environments and plans folders (tests do).
set -euo pipefail
cd "$(dirname "$0")/.."
envs_dir=${PM_ENVIRONMENTS_DIR:-environments}
plans=${PM_PLANS_DIR:-plans}

mode=plan envs=()
for arg in "$@"; do
  case $arg in
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --drift) mode=drift ;;
    -*) echo "error: unknown option $arg (try --help)" >&2; exit 2 ;;
    *) envs+=("$arg") ;;
  esac
done
if [[ ${#envs[@]} -eq 0 ]]; then
  for file in "$envs_dir"/*.yaml; do envs+=("$(basename "$file" .yaml)"); done
fi
for env_name in "${envs[@]}"; do
  [[ -f $envs_dir/$env_name.yaml ]] || { echo "error: no environment '$env_name' in $envs_dir" >&2; exit 2; }
done

# shellcheck source=scripts/lib/toolchain.sh
source scripts/lib/toolchain.sh
prepare_toolchain --deploy
# shellcheck source=scripts/lib/secrets.sh
source scripts/lib/secrets.sh

out=${CDKTF_OUTDIR:-cdktf.out}
CDKTF_OUTDIR=$out node dist/main.js
# The engine's plan JSON holds the secrets: what is written to plans/ is redacted
# (scripts/plan/redact.ts), fit for a pull request; the folder stays private all the same.
(umask 077 && mkdir -p "$plans")
drifted=0
for env_name in "${envs[@]}"; do
  dir=$out/stacks/$env_name
  json=$plans/$env_name.json
  [[ $mode == drift ]] && json=$plans/$env_name.drift.json
  echo "plan: $env_name ($mode)" >&2
  # A subshell per environment, so one environment's secrets never reach the next.
  (
    load_secrets "$env_name"
    # The file, its secrets and its Docker host, named before the engine runs.
    node dist/scripts/preflight.js "$env_name" --no-images >/dev/null
    if problem=$(encryption_engine_problem "$env_name" "$(node dist/scripts/stack-facts.js "$dir/cdk.tf.json" | sed -n 6p)"); then
      echo "plan: $problem" >&2
      exit 1
    fi
    "$TERRAFORM_BINARY_NAME" -chdir="$dir" init -input=false -no-color >/dev/null
    args=(plan -input=false -no-color -lock-timeout=60s -out=plan.bin)
    [[ $mode == drift ]] && args+=(-refresh-only)
    # The engine's own text of the plan, redacted too: it goes into the pull request's comment.
    "$TERRAFORM_BINARY_NAME" -chdir="$dir" "${args[@]}" | node dist/scripts/plan/redact.js --text >"$plans/$env_name.$mode.log"
    (set -o pipefail && umask 077 && "$TERRAFORM_BINARY_NAME" -chdir="$dir" show -json plan.bin | node dist/scripts/plan/redact.js >"$json.tmp")
    mv "$json.tmp" "$json"
  )
  if [[ $mode == drift ]]; then
    code=0
    node dist/scripts/plan/cli.js --drift "$json" || code=$?
    case $code in 0) ;; 2) drifted=1 ;; *) exit "$code" ;; esac
  fi
done
[[ $drifted == 1 ]] && exit 2
exit 0

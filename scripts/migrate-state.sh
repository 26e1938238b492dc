#!/usr/bin/env bash
# Moves an environment's state from its local file to the shared backend its file now names.
#   npm run state:migrate -- ENV
# 1. set `state:` in environments/ENV.yaml (e.g. `state: { backend: pg }`, with PG_CONN_STR set);
# 2. run this: it pushes state/ENV.tfstate to that backend with the engine's own `state push`,
#    refuses if the backend already holds a state for ENV, and keeps the local file as
#    state/ENV.tfstate.migrated;
# 3. `npm run diff -- ENV` then shows no changes.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
env_name=$1
envs_dir=${PM_ENVIRONMENTS_DIR:-environments}
[[ -f $envs_dir/$env_name.yaml ]] || { echo "error: no environment '$env_name' in $envs_dir" >&2; exit 2; }
say() { echo "state:migrate: $*" >&2; }

# shellcheck source=scripts/lib/toolchain.sh
source scripts/lib/toolchain.sh
export TF_INPUT=0
prepare_app
backend=$(node -p "require('./dist/stacks/environment-files').loadEnvironmentFile('$envs_dir/$env_name.yaml').state.backend")
[[ $backend != local ]] || { say "$env_name's state is local: set a shared backend in its file first (README: Team state)"; exit 2; }
local_state=${PM_STATE_DIR:-state}/$env_name.tfstate
[[ -f $local_state ]] || { say "no local state $local_state to move"; exit 2; }
prepare_engine --deploy

out=${CDKTF_OUTDIR:-cdktf.out}
dir=$out/stacks/$env_name
CDKTF_OUTDIR=$out node dist/main.js
# -reconfigure: this working folder may remember the local backend; the file is what counts.
"$TERRAFORM_BINARY_NAME" -chdir="$dir" init -reconfigure -input=false -no-color >/dev/null
# A backend that was just initialised holds an empty state; one with resources is somebody's.
held=$("$TERRAFORM_BINARY_NAME" -chdir="$dir" state pull | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(s.trim()?(JSON.parse(s).resources??[]).length:0))')
if [[ $held != 0 ]]; then
  say "the $backend backend already holds a state for $env_name ($held resources): not overwritten. Compare it with $local_state and move it by hand if you mean to"
  exit 1
fi
"$TERRAFORM_BINARY_NAME" -chdir="$dir" state push "$(realpath "$local_state")"
mv "$local_state" "$local_state.migrated"
say "$env_name's state is now in the $backend backend; the local copy is kept as $local_state.migrated"
say "check: npm run diff -- $env_name (expect no changes)"

#!/usr/bin/env bash
# Deploys, destroys or previews one environment, after installing what it needs.
#   npm run deploy [-- ENV] [--auto-approve]    ENV is a file in environments/ (without .yaml)
#   npm run destroy -- ENV [--auto-approve]
#   npm run diff -- ENV                         plan only
# Without ENV, deploy takes the default: dev when its images can be pulled here, else the offline
# default `local` (built on this machine); it says which, and applies without asking unless the
# plan would delete data. With ENV it shows the plan and asks (--auto-approve: don't ask).
# Before anything slow it checks, in seconds, that every image and secret is there (preflight).
# The engine runs with input disabled and its errors are printed in full.
# Secrets come from TF_VAR_* variables; locally, missing passwords are generated once into
# .secrets/<ENV>.env (git-ignored, mode 600). Nothing is generated in CI (CI=true).
# destroy removes every container, network and volume labelled with ENV on each of its Docker
# hosts, whether its state records them or not (a lost state too), and nothing of another
# environment; with protectData: true it keeps the data volumes and names them. It lists what goes
# before it asks.
# PM_REVIEWED_PLAN=FILE: apply only when the plan matches that redacted plan (a pull request's).
# Its last line says where the time went (checks, build and synth; plan; apply; report); a
# destroy's also says what was removed and what is left.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
command="" env_name="" auto_approve=false
for arg in "$@"; do
  case $arg in
    -h | --help) usage; exit 0 ;;
    --auto-approve) auto_approve=true ;;
    -*) echo "error: unknown option $arg (try --help)" >&2; exit 2 ;;
    *)
      if [[ -z $command ]]; then command=$arg
      elif [[ -z $env_name ]]; then env_name=$arg
      else echo "error: one environment at a time (got $env_name and $arg)" >&2; exit 2; fi ;;
  esac
done
case $command in
  deploy | destroy | diff) ;;
  *) usage >&2; exit 2 ;;
esac
envs_dir=${PM_ENVIRONMENTS_DIR:-environments}
if [[ -z $env_name && $command != deploy ]]; then
  echo "error: name the environment: npm run $command -- ENV (have: $(ls "$envs_dir" | sed -n 's/\.yaml$//p' | xargs))" >&2
  exit 2
fi
if [[ -n $env_name && ! -f $envs_dir/$env_name.yaml ]]; then
  echo "error: no environment '$env_name' (have: $(ls "$envs_dir" | sed -n 's/\.yaml$//p' | xargs))" >&2
  exit 2
fi
say() { echo "$command: $*" >&2; }
# shellcheck source=scripts/lib/phases.sh
source scripts/lib/phases.sh
# Who holds a shared state lock is visible to others in PostgreSQL (see lock_holder).
export PGAPPNAME="pm $command $env_name ${USER:-$(id -un)}@$(hostname -s) pid $$"

# shellcheck source=scripts/lib/toolchain.sh
source scripts/lib/toolchain.sh
# shellcheck source=scripts/lib/secrets.sh
source scripts/lib/secrets.sh
export TF_INPUT=0
prepare_app
scripts/bootstrap.sh --docker-only >&2

implicit_default=false
if [[ -z $env_name ]]; then
  env_name=$(node dist/scripts/preflight.js --default)
  implicit_default=true
  say "no environment named: deploying the default, $env_name"
fi

# Seconds, before any build: the environment file, its images and its secrets.
load_secrets "$env_name"
preflight_args=("$env_name")
[[ $command == deploy ]] || preflight_args+=(--no-images)
local_builds=$(node dist/scripts/preflight.js "${preflight_args[@]}")
say "preflight ok ($SECONDS s)"

out=${CDKTF_OUTDIR:-cdktf.out}
plans=${PM_PLANS_DIR:-plans}
state_dir=${PM_STATE_DIR:-state}
dir=$out/stacks/$env_name
# The stack names its images by tag, so it is synthesized while they are built (and stopped
# with this script when a build fails).
CDKTF_OUTDIR=$out node dist/main.js &
synth=$!
trap 'kill "$synth" 2>/dev/null || true' EXIT
prepare_engine --deploy
if [[ -n $local_builds && $command == deploy ]]; then
  # shellcheck disable=SC2086 # one image name per word
  tags=$(scripts/build-local-images.sh $local_builds)
  # A remote Docker host gets them the way it would without a registry (docker save | load).
  # shellcheck disable=SC2086
  sent=$(node dist/scripts/docker-host.js send "$env_name" $tags)
  [[ -z $sent ]] || say "sent to the Docker host:"$'\n'"$(sed 's/^/  /' <<<"$sent")"
fi
wait "$synth" || { say "synth failed: its errors are above"; exit 1; }
# What init, the destroy and messages need of the synthesized stack (scripts/stack-facts.ts).
stack=$(node dist/scripts/stack-facts.js "$dir/cdk.tf.json")
{ read -r backend; read -r docker_hosts; read -r terraform_block; read -r -a unprotected; read -r state_location; read -r encrypted; } <<<"$stack"
# OpenTofu's encryption block (encryption.enabled): Terraform has none and would refuse the stack.
if problem=$(encryption_engine_problem "$env_name" "$encrypted"); then say "$problem"; exit 1; fi
# State and plans hold the secrets' values: only the owner may read them.
umask 077
mkdir -p "$plans" "$state_dir"
chmod 700 "$plans" "$state_dir"
# The engine keeps a file's mode when it rewrites it: tighten one an older version left readable.
# Encrypted state and plans (OpenTofu): the plan's JSON, which holds the secrets in the clear, does
# not outlive the run either.
trap 'chmod -f 600 "$state_dir/$env_name".tfstate* || true; [[ $encrypted == no ]] || rm -f "${json:-}"' EXIT
log=$plans/$env_name.$command.log

# The engine's own lock message cannot name a PostgreSQL lock's holder (advisory locks carry no
# info): ask the server which session holds one (PGAPPNAME, set above, says whose run it is).
lock_holder() {
  local holder
  if [[ $backend == pg ]]; then
    holder=$(psql "$PG_CONN_STR" -Atc "select a.application_name || ' (server pid ' || a.pid || ', from ' ||
      coalesce(host(a.client_addr), 'a local socket') || ', since ' || to_char(a.backend_start, 'HH24:MI:SS') || ')'
      from pg_locks l join pg_stat_activity a using (pid) where l.locktype = 'advisory' and l.granted" 2>/dev/null) ||
      holder="(psql is needed to name it)"
    say "the state lock of $env_name is held by: ${holder:-nobody any more (try again)}"
    say "it is released when that run ends or its connection drops (README: Team state, Locks)"
  else
    say "if no run holds it any more, release it: $TERRAFORM_BINARY_NAME -chdir=$dir force-unlock <ID above> (README: Team state, Locks)"
  fi
}

# engine ARGS…: runs the engine on the stack; its output goes to the log and, when it fails, its
# errors in full to the terminal (cdktf's own UI prints only "exit code 1" there).
engine() {
  local errors=$plans/$env_name.errors
  if ! "$TERRAFORM_BINARY_NAME" -chdir="$dir" "$@" -no-color >>"$log" 2>"$errors"; then
    cat "$errors" | tee -a "$log" >&2
    say "$TERRAFORM_BINARY_NAME $1 failed: its errors are above, its whole output in $log"
    # The state backend, not a Docker host: init, or an error naming the server (pg) or bucket (s3).
    local server=${state_location#s3://}
    server=${server%%/*}
    if [[ $backend != local ]] && grep -qiE 'dial tcp|connection refused|no such host|timeout|timed out|could not connect' "$errors" &&
      { [[ $1 == init ]] || grep -qF -- "$server" "$errors"; }; then
      say "the $backend state backend ($state_location) cannot be reached: nothing was changed (README: Team state)"
    fi
    if grep -q "Error acquiring the state lock" "$errors"; then lock_holder; fi
    return 1
  fi
  cat "$errors" >>"$log"
  rm -f "$errors"
}
: >"$log"
# -reconfigure: the environment file says where the state lives, not what this folder remembers.
# Skipped when the stack's backend and providers, the connection string and the provider build
# are what the last init of this folder saw.
init_key=$({
  echo "$terraform_block"
  echo "${PG_CONN_STR:-}"
  cat .tools/build/docker-provider/built-from .tools/build/tls-provider/built-from 2>/dev/null || true
} | sha256sum | cut -d' ' -f1)
if [[ ! -f $dir/.terraform/pm-init || $(cat "$dir/.terraform/pm-init") != "$init_key" ]]; then
  engine init -input=false -reconfigure
  echo "$init_key" >"$dir/.terraform/pm-init"
fi
if [[ $backend != local && -f $state_dir/$env_name.tfstate ]] && [[ -z $("$TERRAFORM_BINARY_NAME" -chdir="$dir" state list 2>/dev/null) ]]; then
  say "$env_name's file names the $backend backend, which holds no state for it, but $state_dir/$env_name.tfstate does:"
  say "move it first with \`npm run state:migrate -- $env_name\` (README: Team state)"
  exit 1
fi
rm -f "$dir/adopt.tf.json"
phase "checks, build and synth"
# Every container's create waits for its healthcheck: at the engine's default of 10 operations at
# a time, an environment with more containers than that (dev has 11) waits a second round.
parallelism=-parallelism=64
plan_args=(plan -input=false "-lock-timeout=${PM_LOCK_TIMEOUT:-60s}" "$parallelism" -out=plan.bin)
# The plan as JSON, with the secrets in it, beside the binary plan: never in plans/, whose
# <env>.json is the redacted plan that may leave the machine (scripts/plan.sh).
json=$dir/$env_name.json
# make_plan ARGS…: the plan, and its JSON for the summary, adoption and the report.
make_plan() {
  engine "${plan_args[@]}" "$@"
  "$TERRAFORM_BINARY_NAME" -chdir="$dir" show -json plan.bin >"$json"
}
if [[ $command == destroy && $docker_hosts == 1 ]]; then
  # A destroy plan's refresh finds only records whose object is gone, and reading a network takes
  # the provider 2 s: planned without it, and again with it when a record's object is not on
  # Docker. (A fleet's hosts would each be asked: its destroy refreshes.)
  make_plan -destroy -refresh=false "${unprotected[@]}"
  gone=$(node dist/scripts/adopt.js --gone "$env_name" "$json")
  [[ -z $gone ]] || make_plan -destroy "${unprotected[@]}"
elif [[ $command == destroy ]]; then
  make_plan -destroy "${unprotected[@]}"
else
  make_plan
fi
# Objects an interrupted run created but never recorded are adopted (import blocks), not
# re-created: looked for when the plan creates a container, network or volume, and only once a
# plan got the lock (a run still going holds it, and its objects are its own).
if [[ $command != destroy ]] && grep -qE '"type":"docker_(container|network|volume)"[^}]*"change":\{"actions":\["(create|delete","create)' "$json"; then
  adopted=$(node dist/scripts/adopt.js "$env_name" "$dir" "$json")
  if [[ -n $adopted ]]; then
    say "adopting what an interrupted run left on Docker (the plan shows each):"$'\n'"$(sed 's/^/  /' <<<"$adopted")"
    make_plan
  fi
fi
verdict=0
node dist/scripts/plan/cli.js "$json" || verdict=$?
plan_verdict=$verdict
phase plan
# finish_destroy: removes what the plan did not (objects no state records, protected volumes
# aside); the last line says what went and what is left.
finish_destroy() {
  local outcome
  outcome=$(node dist/scripts/sweep.js finish "$env_name" "$on_docker") || {
    say "$env_name: the destroy did not finish (errors above)${outcome:+; $outcome}"
    exit 1
  }
  phase leftovers
  say "$env_name: $outcome, $(timing)"
}
if [[ $command == destroy && $verdict =~ ^[023]$ ]]; then
  # Whatever the state remembers (a lost one remembers nothing): every object labelled with the
  # environment, on each of its hosts, goes too; what is on Docker now is kept for the last line.
  on_docker=$plans/$env_name.on-docker
  extra=$(node dist/scripts/sweep.js plan "$env_name" "$json" "$on_docker")
  if [[ -n $extra ]]; then
    say "no state records these objects of $env_name; the destroy removes them too:"$'\n'"$(sed 's/^/  /' <<<"$extra")"
    [[ $verdict != 0 ]] || verdict=2
    if grep -q '^volume ' <<<"$extra"; then
      say "CAUTION: the data in those volumes is deleted with them"
      verdict=3
    fi
  fi
fi
case $verdict in
  0)
    if [[ $command == deploy ]]; then
      # Rotating the state's key (encryption.previousKey): with no changes too, the state is written
      # again, with the new key (the engine writes it on apply, not on plan).
      if [[ $encrypted == rotating ]]; then
        "$TERRAFORM_BINARY_NAME" -chdir="$dir" apply -input=false -no-color plan.bin >>"$log" 2>&1 ||
          { tail -n 20 "$log" >&2; say "$env_name: the state could not be written with the new key (whole output in $log)"; exit 1; }
        say "$env_name: state written with encryption.key"
      fi
      node dist/scripts/report.js "$env_name" "$json"
      phase report
      say "$env_name: no changes, $(timing)"
    elif [[ $command == destroy ]]; then
      finish_destroy
    else
      say "$env_name: no changes, $(timing)"
    fi
    exit 0 ;;
  2 | 3) ;;
  *) exit "$verdict" ;;
esac
[[ $command == diff ]] && exit 0
# CI on main: only the plan a pull request showed is applied (README: Reviewing plans in pull requests).
if [[ -n ${PM_REVIEWED_PLAN:-} && $command == deploy ]]; then
  node dist/scripts/plan/redact.js <"$json" >"$json.redacted"
  if ! node dist/scripts/plan/compare.js "$PM_REVIEWED_PLAN" "$json.redacted"; then
    say "not applied: this plan is not the one reviewed in $PM_REVIEWED_PLAN (differences above)"
    exit 1
  fi
fi

if [[ $auto_approve == true ]]; then :
elif [[ $implicit_default == true && $verdict == 2 ]]; then
  say "applying without asking: the default environment, and no data is lost"
elif [[ -t 0 ]]; then
  read -r -p "$command: apply these changes to $env_name? Only 'yes' is accepted: " answer
  [[ $answer == yes ]] || { say "not applied"; exit 1; }
else
  say "not applied: no terminal to confirm on. Review the plan above (full text in $log), then add --auto-approve"
  exit 1
fi
phase_restart

# A container no state records would keep the network and volumes in use.
[[ $command != destroy ]] || node dist/scripts/sweep.js containers "$env_name" "$json"
# Applies exactly the plan shown; containers are waited for until healthy.
if [[ $plan_verdict != 0 ]] && ! "$TERRAFORM_BINARY_NAME" -chdir="$dir" apply -input=false "$parallelism" -no-color plan.bin 2>&1 | tee -a "$log" >&2; then
  if grep -qE 'already (exists|in use)' "$log"; then
    say "a Docker object with one of $env_name's names is not in its state. Objects labelled" \
      "org.protocol-monitoring.environment=$env_name are adopted by the next \`npm run deploy -- $env_name\`;" \
      "anything else with that name is not this environment's: rename or remove it."
  fi
  exit 1
fi
phase apply
if [[ $command == destroy ]]; then
  finish_destroy
  exit 0
fi
node dist/scripts/report.js "$env_name" "$json"
phase report
say "done $(timing)"

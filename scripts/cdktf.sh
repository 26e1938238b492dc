#!/usr/bin/env bash
# Runs a cdktf command (deploy, destroy, diff) on one environment, after installing what it needs.
#   scripts/cdktf.sh COMMAND [ENV] [cdktf options…]    ENV defaults to dev
#   npm run deploy -- prod --auto-approve   ·   npm run destroy -- dev   ·   npm run diff -- dev
# Secrets come from TF_VAR_* variables. When one is missing, a random value is generated once
# into .secrets/<ENV>.env (git-ignored, mode 600) and reused later; PagerDuty and Slack secrets
# are never generated: set TF_VAR_pagerduty_routing_key / TF_VAR_slack_webhook_url yourself.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,7p' "$0"; }
case "${1:-}" in
  deploy|destroy|diff) command=$1; shift ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac
env_name=${1:-dev}
[[ $# -gt 0 ]] && shift
if [[ ! -f environments/$env_name.yaml ]]; then
  echo "error: no environment '$env_name' (have: $(ls environments | sed 's/\.yaml$//' | xargs))" >&2
  exit 2
fi

# shellcheck source=scripts/lib/toolchain.sh
source scripts/lib/toolchain.sh
prepare_toolchain --deploy
# shellcheck source=scripts/lib/secrets.sh
source scripts/lib/secrets.sh
load_secrets "$env_name"

# No `providers lock`: it would ask the registry even for a provider from the local mirror.
exec npx cdktf "$command" "$env_name" --skip-provider-lock "$@"

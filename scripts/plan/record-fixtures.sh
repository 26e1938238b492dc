#!/usr/bin/env bash
# Records the plan JSON fixtures of __tests__/fixtures/plans with the real engine and local
# Docker: a throw-away environment is planned from scratch, deployed, then planned again with
# no change, with one scrape target added, and with Alertmanager (and its volume) removed.
# Only `resource_changes` is kept. Run it when the provider or the plan format changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap.sh >/dev/null
# shellcheck source=/dev/null
source .tools/env.sh
scripts/build-local-images.sh >/dev/null
# shellcheck source=/dev/null
source <(sed -n 's/^LOCAL_IMAGE_/export LOCAL_IMAGE_/p' .tools/local-images.env)

name=fixture-$RANDOM
work=$(mktemp -d)
out=__tests__/fixtures/plans
export PM_ENVIRONMENTS_DIR=$work/environments PM_STATE_DIR=$work/state CDKTF_OUTDIR=$work/out
export TF_VAR_slack_webhook_url=https://hooks.slack.invalid/FIXTURE-SECRET
mkdir -p "$PM_ENVIRONMENTS_DIR" "$out"
dir=$CDKTF_OUTDIR/stacks/$name
tf() { "$TERRAFORM_BINARY_NAME" -chdir="$dir" "$@" -input=false -no-color >/dev/null; }
cleanup() { [[ -d $dir ]] && tf destroy -auto-approve || true; rm -rf "$work"; }
trap cleanup EXIT

environment() { # environment SERVICES EXTRA_TARGETS
  cat >"$PM_ENVIRONMENTS_DIR/$name.yaml" <<YAML
name: $name
services: [$1]
images: {prometheus: $LOCAL_IMAGE_PROMETHEUS, nodeExporter: $LOCAL_IMAGE_NODE_EXPORTER, alertmanager: $LOCAL_IMAGE_ALERTMANAGER}
ports: {prometheus: 39190, alertmanager: 39193}
alerting: {slack: {channel: "#fixtures"}}
scrape: {targets: [$2]}
YAML
  npx tsc -p tsconfig.app.json && node dist/main.js
}
record() { # record FIXTURE
  tf plan -out=plan.bin
  "$TERRAFORM_BINARY_NAME" -chdir="$dir" show -json plan.bin |
    node -e 'const p = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write(JSON.stringify({ format_version: p.format_version, resource_changes: p.resource_changes }, null, 1) + "\n")' >"$out/$1.json"
  echo "recorded $out/$1.json"
}

environment "prometheus, nodeExporter, alertmanager" ""
tf init
record create
tf apply -auto-approve
record no-op
environment "prometheus, nodeExporter, alertmanager" '{job: spire_server, targets: ["host.docker.internal:9988"]}'
record scrape-target-added
environment "prometheus, nodeExporter" ""
record alertmanager-removed

#!/usr/bin/env bash
# A demo with live Protocol data: the default environment (as `npm run deploy` chooses it) plus
# the Protocol simulator (testing/protocol-sim: a test double, never part of a deployment) where
# that environment looks for the Protocol services, on the Docker host's ports 8000, 8001, 8080
# and 9988.
#   npm run demo                 deploy (if needed) and start the simulator
#   npm run demo -- stop         remove the simulator (the stack stays: npm run destroy -- ENV)
# Switch a failure mode with the control API on 127.0.0.1:8099 (README: "A demo with live data").
set -euo pipefail
cd "$(dirname "$0")/.."
container=protocol-monitoring-demo-simulator
say() { echo "demo: $*" >&2; }

case ${1:-start} in
  stop)
    docker rm -f "$container" >/dev/null 2>&1 && say "simulator removed" || say "no simulator running"
    exit 0 ;;
  start) ;;
  -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: npm run demo [-- stop]" >&2; exit 2 ;;
esac

scripts/deploy.sh deploy
# shellcheck source=/dev/null
source .tools/env.sh
env_name=$(node dist/scripts/preflight.js --default 2>/dev/null)
image=$(scripts/build-local-images.sh protocol-sim)

# Prometheus reaches the Docker host as host.docker.internal (host-gateway), read the way its
# container resolves it (the bridge's IPAM config is empty on an engine never restarted); the
# control API and `npm run health` use 127.0.0.1. Nothing is published beyond the host.
gateway=$(docker run --rm --add-host host.docker.internal:host-gateway --entrypoint cat "$image" /etc/hosts |
  awk '$2 == "host.docker.internal" { print $1 }')
[[ $gateway =~ ^[0-9.]+$ ]] || { say "error: host-gateway resolved to '$gateway', not an IPv4 address"; exit 1; }
publish=()
for port in 8000 8001 8080 9988; do publish+=(-p "127.0.0.1:$port:$port" -p "$gateway:$port:$port"); done
# Where the environment runs Logstash, the simulator's logs go there the way a real service's
# would: Docker's gelf log driver to Logstash's published port (UDP).
logging=()
logstash_port=$(node -p "const e = require('./dist/stacks/environment-files').loadEnvironmentFile('${PM_ENVIRONMENTS_DIR:-environments}/$env_name.yaml'); e.services.includes('logstash') ? e.ports.logstash : ''")
[[ -z $logstash_port ]] || logging=(--log-driver gelf --log-opt "gelf-address=udp://127.0.0.1:$logstash_port")

docker rm -f "$container" >/dev/null 2>&1 || true
docker run -d --name "$container" --restart unless-stopped "${publish[@]}" -p 127.0.0.1:8099:8099 \
  "${logging[@]}" "$image" simulate --agent '' --x509 '' --postgres-exporter '' >/dev/null
prometheus=$(node -p "require('./dist/stacks/environment-files').loadEnvironmentFile('${PM_ENVIRONMENTS_DIR:-environments}/$env_name.yaml').ports.prometheus")
cat >&2 <<EOF
demo: the simulator answers as registries A and B, the TEG layer and SPIRE; Prometheus ($env_name) scrapes it.
  npm run health -- $env_name                            every Protocol service ok
  curl -X POST 127.0.0.1:8099/modes/registry-b/down      registry B stops answering
  curl -s 127.0.0.1:$prometheus/api/v1/alerts            RegistryDown pending within seconds
  curl -X DELETE 127.0.0.1:8099/modes                    everything back to normal
  curl 127.0.0.1:8099/                                   every service and failure mode
  npm run demo -- stop                                   remove the simulator
EOF

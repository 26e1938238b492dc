#!/bin/sh
# Elasticsearch setup, safe to run again: sets the kibana_system password and creates (or
# updates) the logstash_writer, prometheus_monitor and grafana_reader roles and users. The bootstrap password
# (ELASTIC_PASSWORD) only applies on the cluster's first start, so these are set through the API.
# Then it stays up, healthy, so that `apply` fails when setup fails (the docker provider ignores
# a one-shot container's exit code); a failure exits and the restart policy retries.
set -eu
rm -f /tmp/es-setup.done

ES_URL="${ES_URL:-http://elasticsearch:9200}"
# The passwords are files in SECRETS_DIR, one per secret, never in this container's environment.
SECRETS_DIR="${SECRETS_DIR:-/usr/share/elasticsearch/config/secrets}"
secret() { # secret NAME: its value, or nothing when the environment has no such secret
  if [ -f "${SECRETS_DIR}/$1" ]; then cat "${SECRETS_DIR}/$1"; fi
}
ELASTIC_PASSWORD=$(secret elastic_password)
KIBANA_SYSTEM_PASSWORD=$(secret kibana_system_password)
LOGSTASH_WRITER_PASSWORD=$(secret logstash_writer_password)
MONITOR_PASSWORD=$(secret elasticsearch_monitor_password)
GRAFANA_ES_PASSWORD=$(secret grafana_es_password)
[ -n "$ELASTIC_PASSWORD" ] || { echo "es-setup: no ${SECRETS_DIR}/elastic_password" >&2; exit 1; }

es() { # es METHOD PATH [JSON]
  curl -fsS --max-time 10 -u "elastic:${ELASTIC_PASSWORD}" -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "${ES_URL}$2"
  echo
}

echo "es-setup: waiting for ${ES_URL}"
tries=0
until curl -fsS --max-time 5 -u "elastic:${ELASTIC_PASSWORD}" "${ES_URL}/_cluster/health" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "es-setup: Elasticsearch did not answer in time" >&2; exit 1; }
  sleep 2
done

echo "es-setup: kibana_system password"
es POST /_security/user/kibana_system/_password "{\"password\":\"${KIBANA_SYSTEM_PASSWORD}\"}"

echo "es-setup: logstash_writer role and user"
es PUT /_security/role/logstash_writer '{"cluster":["monitor","manage_index_templates","manage_ilm"],"indices":[{"names":["protocol-logs-*"],"privileges":["write","create","create_index","manage","manage_ilm"]}]}'
es PUT /_security/user/logstash_writer "{\"password\":\"${LOGSTASH_WRITER_PASSWORD}\",\"roles\":[\"logstash_writer\"]}"

# Read-only monitoring: the Elasticsearch exporter (cluster health, node stats) and the blackbox
# probe of /_cluster/health. The monitor cluster privilege only: no index is readable.
MONITOR_USER="${MONITOR_USER:-prometheus_monitor}"
echo "es-setup: ${MONITOR_USER} role and user"
es PUT "/_security/role/${MONITOR_USER}" '{"cluster":["monitor"]}'
es PUT "/_security/user/${MONITOR_USER}" "{\"password\":\"${MONITOR_PASSWORD}\",\"roles\":[\"${MONITOR_USER}\"]}"

if [ -n "${GRAFANA_ES_PASSWORD:-}" ]; then # only when Grafana runs beside Elasticsearch
  echo "es-setup: grafana_reader role and user"
  es PUT /_security/role/grafana_reader '{"cluster":["monitor"],"indices":[{"names":["protocol-logs-*"],"privileges":["read","view_index_metadata"]}]}'
  es PUT /_security/user/grafana_reader "{\"password\":\"${GRAFANA_ES_PASSWORD}\",\"roles\":[\"grafana_reader\"]}"
fi

echo "es-setup: done"
touch /tmp/es-setup.done
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done

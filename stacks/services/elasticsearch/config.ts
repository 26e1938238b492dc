import type { SecretName } from "../../secrets";

/** Where the setup job's script is uploaded. */
export const ELASTICSEARCH_SETUP_SCRIPT = "/usr/local/bin/es-setup.sh";
/** Where Elasticsearch and its setup job find their passwords, one file per secret (never in their environment). */
export const ELASTICSEARCH_SECRETS_DIR = "/usr/share/elasticsearch/config/secrets";
export const secretFile = (name: SecretName) => `${ELASTICSEARCH_SECRETS_DIR}/${name}`;

// Elastic ships Elasticsearch, Logstash and Kibana in lockstep: keep them on one version.
export const ELASTIC_VERSION = "9.5.7";
/** Why Elasticsearch, Logstash and Kibana have no local build. */
export const ELASTIC_NO_LOCAL_BUILD = { none: "Elastic's images are not packaged anywhere a machine without a registry reaches" } as const;

/**
 * The read-only monitoring user the setup job creates (a role with the `monitor` cluster privilege
 * and nothing else): the Elasticsearch exporter reads cluster health and node stats as it, and the
 * blackbox exporter's probe of /_cluster/health logs in as it.
 */
export const ELASTICSEARCH_MONITOR_USER = "prometheus_monitor";

/** JVM options for a heap of half the container's memory, as Elastic recommends (Elasticsearch, Logstash). */
export function jvmHeap(memoryMb: number): string {
  const heapMb = Math.floor(memoryMb / 2);
  return `-Xms${heapMb}m -Xmx${heapMb}m`;
}



/**
 * The one place that knows each service's pinned image, port, paths and default limits.
 * Constructs, configs and tests read from here instead of repeating literals.
 */

export const SERVICE_NAMES = [
  "prometheus",
  "grafana",
  "nodeExporter",
  "alertmanager",
  "elasticsearch",
  "logstash",
  "kibana",
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Services whose UI or API is published on the Docker host. Node Exporter is scraped over the private network only. */
export const PUBLISHED_SERVICES = [
  "prometheus",
  "grafana",
  "alertmanager",
  "elasticsearch",
  "logstash",
  "kibana",
] as const satisfies readonly ServiceName[];

export type PublishedService = (typeof PUBLISHED_SERVICES)[number];

export interface ServiceSpec {
  /** Pinned upstream image; environments may override it (e.g. with locally built test images). */
  readonly image: string;
  /** Port the program listens on inside the container. */
  readonly port: number;
  /** Host port used when the environment file does not choose one. */
  readonly defaultHostPort?: number;
  /** Name other containers use on the private network. */
  readonly hostname: string;
  /** Where the named data volume is mounted, if the service keeps data. */
  readonly dataPath?: string;
  /** Memory limit in MiB when the environment file does not set one. */
  readonly defaultMemoryMb: number;
  /** scripts/build-local-images.sh builds this image's release here, so no registry is needed. */
  readonly localBuild?: boolean;
}

// Elastic ships Elasticsearch, Logstash and Kibana in lockstep: keep them on one version.
const ELASTIC_VERSION = "9.5.7";

export const SERVICES: Readonly<Record<ServiceName, ServiceSpec>> = {
  prometheus: {
    image: "prom/prometheus:v3.5.5",
    port: 9090,
    defaultHostPort: 9090,
    hostname: "prometheus",
    dataPath: "/prometheus",
    defaultMemoryMb: 1024,
    localBuild: true,
  },
  grafana: {
    image: "grafana/grafana:13.2.3",
    port: 3000,
    defaultHostPort: 3000,
    hostname: "grafana",
    dataPath: "/var/lib/grafana",
    defaultMemoryMb: 512,
  },
  nodeExporter: {
    image: "prom/node-exporter:v1.12.1",
    port: 9100,
    hostname: "node-exporter",
    defaultMemoryMb: 128,
    localBuild: true,
  },
  alertmanager: {
    image: "prom/alertmanager:v0.34.0",
    port: 9093,
    defaultHostPort: 9093,
    hostname: "alertmanager",
    dataPath: "/alertmanager",
    defaultMemoryMb: 256,
    localBuild: true,
  },
  elasticsearch: {
    image: `docker.elastic.co/elasticsearch/elasticsearch:${ELASTIC_VERSION}`,
    port: 9200,
    defaultHostPort: 9200,
    hostname: "elasticsearch",
    dataPath: "/usr/share/elasticsearch/data",
    defaultMemoryMb: 2048,
  },
  logstash: {
    image: `docker.elastic.co/logstash/logstash:${ELASTIC_VERSION}`,
    // The JSON-lines TCP input; Beats (5044) and the monitoring API (9600) are fixed below.
    port: 5000,
    defaultHostPort: 5000,
    hostname: "logstash",
    defaultMemoryMb: 1024,
  },
  kibana: {
    image: `docker.elastic.co/kibana/kibana:${ELASTIC_VERSION}`,
    port: 5601,
    defaultHostPort: 5601,
    hostname: "kibana",
    defaultMemoryMb: 1024,
  },
};

export const LOGSTASH_API_PORT = 9600;
/** Logstash's GELF input (UDP), published on the same host port number as its TCP input. */
export const LOGSTASH_GELF_PORT = 12201;

/** Paths inside the containers where generated configs are uploaded. */
export const CONFIG_PATHS = {
  prometheusConfig: "/etc/prometheus/prometheus.yml",
  prometheusRulesDir: "/etc/prometheus/rules",
  alertmanagerConfig: "/etc/alertmanager/alertmanager.yml",
  alertmanagerTemplatesDir: "/etc/alertmanager/templates",
  alertmanagerSecretsDir: "/etc/alertmanager/secrets",
  alertmanagerCa: "/etc/alertmanager/ca.pem",
  grafanaDatasources: "/etc/grafana/provisioning/datasources/datasources.yml",
  grafanaDashboardProvider: "/etc/grafana/provisioning/dashboards/provider.yml",
  grafanaDashboardsDir: "/etc/grafana/dashboards",
  logstashPipeline: "/usr/share/logstash/pipeline/logstash.conf",
  elasticsearchSetupScript: "/usr/local/bin/es-setup.sh",
} as const;

/** Grafana datasource uids, fixed so dashboards can reference them. */
export const DATASOURCE_UIDS = { prometheus: "prometheus", elasticsearch: "elasticsearch" } as const;

/** Label put on every Docker object so tests and operators can find an environment's objects. */
export const ENVIRONMENT_LABEL = "org.protocol-monitoring.environment";

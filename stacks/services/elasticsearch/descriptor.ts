import { defineService, runs } from "../../descriptor";
import type { Environment } from "../../environment";
import { servesTls } from "../../web-config";
import { ELASTIC_NO_LOCAL_BUILD, ELASTIC_VERSION, ELASTICSEARCH_MONITOR_USER, ELASTICSEARCH_SECRETS_DIR } from "./config";

/**
 * Single-node Elasticsearch with security on, plus the setup job that creates its service users
 * (kibana_system's password, logstash_writer, grafana_reader, prometheus_monitor): the services that need Elasticsearch
 * start once the setup is done.
 */
export const elasticsearch = defineService({
  name: "elasticsearch",
  title: "Elasticsearch",
  image: `docker.elastic.co/elasticsearch/elasticsearch:${ELASTIC_VERSION}`,
  localBuild: ELASTIC_NO_LOCAL_BUILD,
  port: 9200,
  hostPort: 9200,
  ownTls: { dir: ELASTICSEARCH_SECRETS_DIR },
  dataPath: "/usr/share/elasticsearch/data",
  memoryMb: 2048,
  user: "1000:0",
  // The setup job creates every service user, whichever of their services run.
  secrets: (env) => [
    "elastic_password",
    "logstash_writer_password",
    "kibana_system_password",
    "elasticsearch_monitor_password",
    ...(runs(env, "grafana") ? (["grafana_es_password"] as const) : []),
  ],
  health: {
    path: "/_cluster/health",
    client: "curl",
    waitQuery: "wait_for_status=yellow&timeout=3s",
    auth: { user: "elastic", secret: "elastic_password", env: "ELASTIC_PASSWORD" },
    probeAuth: { user: ELASTICSEARCH_MONITOR_USER, secret: "elasticsearch_monitor_password" },
    judge: (body) => {
      const color = (JSON.parse(body) as { status?: string }).status;
      // A single node can never place replicas, so yellow is its normal state; red means lost data.
      return { status: color === "red" || !color ? "degraded" : "ok", detail: `cluster ${color ?? "unknown"}` };
    },
  },
});

/** How Elasticsearch's clients on the private network reach it: https with webAuth (checked against the CA), else http. */
export function elasticsearchUrl(env: Pick<Environment, "webAuth">): string {
  return `${servesTls(env, elasticsearch) ? "https" : "http"}://${elasticsearch.hostname}:${elasticsearch.port}`;
}

import { ServiceContainer } from "../../container";
import type { SecretName } from "../../secrets";
import { defineService, runs } from "../../descriptor";
import { serviceContainer } from "../../service";
import type { Environment } from "../../environment";
import { ownTlsPaths, servesTls } from "../../web-config";

/** Where the setup job's script is uploaded. */
export const ELASTICSEARCH_SETUP_SCRIPT = "/usr/local/bin/es-setup.sh";
/** Where Elasticsearch and its setup job find their passwords, one file per secret (never in their environment). */
export const ELASTICSEARCH_SECRETS_DIR = "/usr/share/elasticsearch/config/secrets";
const secretFile = (name: SecretName) => `${ELASTICSEARCH_SECRETS_DIR}/${name}`;

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
  build: (scope, ctx) => {
    const { env, secrets } = ctx;
    // webAuth: HTTPS with a certificate of the environment's CA; every client checks it against the CA.
    const tls = ownTlsPaths(env, elasticsearch);
    serviceContainer(scope, ctx, {
      env: {
        "discovery.type": "single-node",
        "cluster.name": `${env.name}-logs`,
        ES_JAVA_OPTS: jvmHeap(env.memoryMb[elasticsearch.name]),
        // Only applies on the first start of an empty data volume; later changes go through the setup job.
        ELASTIC_PASSWORD: secrets.get("elastic_password"),
        "xpack.security.enabled": "true",
        // Without webAuth: plain HTTP on the private network, published on the loopback bind address only.
        "xpack.security.http.ssl.enabled": tls ? "true" : "false",
        ...(tls
          ? { "xpack.security.http.ssl.certificate": tls.cert, "xpack.security.http.ssl.key": tls.key, "xpack.security.http.ssl.certificate_authorities": tls.ca }
          : {}),
        "xpack.license.self_generated.type": "basic",
      },
      secretsInEnvironment: {
        ELASTIC_PASSWORD:
          "the image's entrypoint reads ELASTIC_PASSWORD_FILE only from a file of mode 400 or 600 that its user (1000) can read, and the provider's uploads belong to root",
      },
    });
    const setupSecrets = (["elastic_password", "kibana_system_password", "logstash_writer_password", "elasticsearch_monitor_password", "grafana_es_password"] as const).filter((name) => secrets.has(name));

    new ServiceContainer(scope, "setup", {
      ctx,
      service: `${elasticsearch.hostname}-setup`,
      image: env.images[elasticsearch.name],
      memoryMb: 128,
      user: "1000:0",
      entrypoint: ["/bin/sh", ELASTICSEARCH_SETUP_SCRIPT],
      env: {
        ES_URL: elasticsearchUrl(env),
        SECRETS_DIR: ELASTICSEARCH_SECRETS_DIR,
        MONITOR_USER: ELASTICSEARCH_MONITOR_USER,
        // curl checks Elasticsearch's certificate against the CA (curl reads this variable itself).
        ...(tls ? { CURL_CA_BUNDLE: tls.ca } : {}),
      },
      secretFiles: { ...Object.fromEntries(setupSecrets.map((name) => [secretFile(name), secrets.get(name)])), ...(tls && ctx.pki ? { [tls.ca]: ctx.pki.caPem } : {}) },
      files: { [ELASTICSEARCH_SETUP_SCRIPT]: ctx.assets.file(ctx.service, "setup.sh") },
      // Healthy once setup.sh finished: apply fails when the setup fails. It starts with
      // Elasticsearch, not after it: setup.sh waits for Elasticsearch itself.
      healthcheck: "test -f /tmp/es-setup.done",
    });
    // Nothing waits for it either: Kibana and Logstash retry their logins until the setup job
    // has made their users, and report unhealthy until then, so apply still waits for them.
    return { ready: [] };
  },
});

/** How Elasticsearch's clients on the private network reach it: https with webAuth (checked against the CA), else http. */
export function elasticsearchUrl(env: Pick<Environment, "webAuth">): string {
  return `${servesTls(env, elasticsearch) ? "https" : "http"}://${elasticsearch.hostname}:${elasticsearch.port}`;
}

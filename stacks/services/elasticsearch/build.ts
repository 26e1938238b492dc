import { ServiceContainer } from "../../container";
import { serviceContainer } from "../../service";
import { ownTlsPaths } from "../../web-config";
import type { ServiceBuild } from "../../descriptor";
import { ELASTICSEARCH_MONITOR_USER, ELASTICSEARCH_SECRETS_DIR, ELASTICSEARCH_SETUP_SCRIPT, jvmHeap, secretFile } from "./config";
import { elasticsearchUrl } from "./descriptor";

/** Its resources: the container and what it uploads. */
export const build: ServiceBuild = (scope, ctx) => {
  const elasticsearch = ctx.service;
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
};

import { defineService } from "../../descriptor";
import { serviceContainer } from "../../service";
import { servesTls } from "../../web-config";
import { ELASTICSEARCH_MONITOR_USER, elasticsearch, elasticsearchUrl } from "../elasticsearch";

const PORT = 9114;
const CA_FILE = "/etc/elasticsearch_exporter/secrets/ca.crt";

/**
 * prometheus-community/elasticsearch_exporter: the log cluster's health, heap and disk (cluster
 * health, this node's stats) for ElasticsearchClusterRed and the heap and disk-watermark alerts.
 * It reads as prometheus_monitor (the `monitor` cluster privilege only), which the setup job
 * creates: it starts with Elasticsearch and its scrapes fail until the setup is done.
 */
export const elasticsearchExporter = defineService({
  name: "elasticsearchExporter",
  title: "Elasticsearch exporter",
  image: "quay.io/prometheuscommunity/elasticsearch-exporter:v1.11.0",
  localBuild: {
    goModule: "github.com/prometheus-community/elasticsearch_exporter",
    binaries: { elasticsearch_exporter: "/bin/elasticsearch_exporter" },
    entrypoint: ["/bin/elasticsearch_exporter"],
  },
  port: PORT,
  memoryMb: 64,
  user: "65534:65534",
  needs: [elasticsearch.name],
  secrets: () => ["elasticsearch_monitor_password"],
  health: { path: "/healthz", client: "wget" },
  scrape: { job: "elasticsearch" },
  metrics: { sources: ["elasticsearch_exporter"] },
  build: (scope, ctx) => {
    // webAuth: Elasticsearch serves HTTPS, checked against the environment's CA.
    const ca = servesTls(ctx.env, elasticsearch) ? ctx.pki?.caPem : undefined;
    return serviceContainer(scope, ctx, {
      command: [
        `--es.uri=${elasticsearchUrl(ctx.env)}`,
        ...(ca ? [`--es.ca=${CA_FILE}`] : []),
        "--es.timeout=5s",
        `--web.listen-address=:${PORT}`,
      ],
      // A Terraform reference: uploaded as it is (secretFiles), not escaped as literal text.
      ...(ca ? { secretFiles: { [CA_FILE]: ca } } : {}),
      // The exporter adds these to es.uri itself, so the password is in no command line.
      env: { ES_USERNAME: ELASTICSEARCH_MONITOR_USER, ES_PASSWORD: ctx.secrets.get("elasticsearch_monitor_password") },
      secretsInEnvironment: { ES_PASSWORD: "elasticsearch_exporter 1.11 takes the password from ES_PASSWORD or from --es.uri (a command line), never from a file" },
      // Uploads need a writable root (docker cp): read-only unless the CA is uploaded.
      readOnlyRootFs: !ca,
    });
  },
});

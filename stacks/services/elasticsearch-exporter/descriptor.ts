import { defineService } from "../../descriptor";
import { elasticsearch } from "../elasticsearch/descriptor";

export const PORT = 9114;
export const CA_FILE = "/etc/elasticsearch_exporter/secrets/ca.crt";

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
});

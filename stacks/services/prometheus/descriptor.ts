import { defineService } from "../../descriptor";
import { DATA_PATH, PORT, PROMETHEUS_PATHS, prometheusSecrets } from "./config";

/** Prometheus: scrapes the stack and the Protocol's services, evaluates the rules, alerts Alertmanager. Every environment runs it. */
export const prometheus = defineService({
  name: "prometheus",
  title: "Prometheus",
  image: "prom/prometheus:v3.5.5",
  localBuild: {
    goModule: "github.com/prometheus/prometheus",
    moduleVersion: "prometheus-v0",
    packages: ["/cmd/prometheus", "/cmd/promtool"],
    // As prom/prometheus's Dockerfile. No web UI: its assets are an npm build, not in the Go module
    // (the API, /-/ready and /-/healthy work without it).
    binaries: { prometheus: "/bin/prometheus", promtool: "/bin/promtool" },
    files: { "documentation/examples/prometheus.yml": "/etc/prometheus/prometheus.yml", LICENSE: "/LICENSE", NOTICE: "/NOTICE" },
    dirs: [DATA_PATH],
    owned: ["/etc/prometheus", DATA_PATH],
    volume: DATA_PATH,
    workdir: DATA_PATH,
    entrypoint: ["/bin/prometheus"],
    cmd: ["--config.file=/etc/prometheus/prometheus.yml", `--storage.tsdb.path=${DATA_PATH}`],
  },
  port: PORT,
  hostPort: 9090,
  dataPath: DATA_PATH,
  memoryMb: 1024,
  user: "65534:65534",
  required: true,
  secrets: prometheusSecrets,
  webConfig: { secretsDir: PROMETHEUS_PATHS.secretsDir },
  health: { path: "/-/ready", client: "wget" },
  // It scrapes itself over loopback.
  scrape: { job: "prometheus", host: "localhost" },
  url: true,
  // client_library: the Go client's process and runtime metrics, which it exports too.
  metrics: { sources: ["prometheus", "client_library"] },
});

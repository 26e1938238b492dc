import { defineService } from "../../descriptor";
import { ALERTMANAGER_PATHS, alertmanagerSecrets, DATA_PATH } from "./config";

/** Alertmanager: routes Prometheus's alerts to PagerDuty, Slack and the heartbeat service (alerting: in the environment). */
export const alertmanager = defineService({
  name: "alertmanager",
  title: "Alertmanager",
  image: "prom/alertmanager:v0.34.0",
  localBuild: {
    goModule: "github.com/prometheus/alertmanager",
    packages: ["/cmd/alertmanager", "/cmd/amtool"],
    // As prom/alertmanager's Dockerfile. Its web UI (ui/app/dist, an npm/Elm build) is not in the
    // Go module: a placeholder page is built in; templates are compiled in.
    uiPlaceholder: "ui/app/dist/index.html.gz",
    binaries: { alertmanager: "/bin/alertmanager", amtool: "/bin/amtool" },
    files: { "examples/ha/alertmanager.yml": "/etc/alertmanager/alertmanager.yml" },
    dirs: ["/alertmanager"],
    owned: ["/etc/alertmanager", "/alertmanager"],
    volume: "/alertmanager",
    workdir: "/alertmanager",
    entrypoint: ["/bin/alertmanager"],
    cmd: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
  },
  port: 9093,
  hostPort: 9093,
  dataPath: DATA_PATH,
  memoryMb: 256,
  user: "65534:65534",
  secrets: alertmanagerSecrets,
  webConfig: { secretsDir: ALERTMANAGER_PATHS.secretsDir },
  health: { path: "/-/ready", client: "wget" },
  scrape: { job: "alertmanager" },
  url: true,
  metrics: { sources: ["alertmanager"] },
});

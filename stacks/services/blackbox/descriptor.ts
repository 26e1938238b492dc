import { defineService } from "../../descriptor";
import type { Environment } from "../../environment";
import { PORT, PROBE_JOB, probes, probeSecrets } from "./config";

/**
 * The blackbox exporter: `npm run health`'s checks as continuous probes (probe_success,
 * probe_duration_seconds), alerted on by ProbeFailed and ProtocolHealthCheckFailed.
 */
export const blackbox = defineService({
  name: "blackbox",
  title: "Blackbox exporter",
  image: "prom/blackbox-exporter:v0.28.0",
  localBuild: {
    goModule: "github.com/prometheus/blackbox_exporter",
    // As prom/blackbox-exporter's Dockerfile (upstream runs it as root for ICMP; this stack probes
    // over HTTP and TCP only, as nobody).
    binaries: { blackbox_exporter: "/bin/blackbox_exporter" },
    files: { "blackbox.yml": "/etc/blackbox_exporter/config.yml", LICENSE: "/LICENSE", NOTICE: "/NOTICE" },
    entrypoint: ["/bin/blackbox_exporter"],
    cmd: ["--config.file=/etc/blackbox_exporter/config.yml"],
  },
  port: PORT,
  memoryMb: 64,
  user: "65534:65534",
  secrets: probeSecrets,
  health: { path: "/-/healthy", client: "wget" },
  scrape: { job: "blackbox_exporter", moreJobs: (env) => [probeJob(env)] },
  metrics: { sources: ["blackbox_exporter"] },
});

/**
 * Prometheus's multi-target pattern: one job whose targets are the probed URLs, each scraped as
 * /probe?target=<url>&module=<module> on the exporter. Each series carries `service` (whose
 * endpoint it is), `url`, and as `instance` the probed host:port, the same instance its scrape
 * job has, so that a target that is down mutes its probe's alert (Alertmanager's inhibition).
 */
export function probeJob(env: Environment): Record<string, unknown> {
  return {
    job_name: PROBE_JOB,
    metrics_path: "/probe",
    static_configs: probes(env).map((probe) => ({ targets: [probe.url], labels: { __param_module: probe.module, service: probe.service } })),
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "url" },
      { source_labels: ["__param_target"], regex: "[a-z]+://([^/]+).*", target_label: "instance" },
      { target_label: "__address__", replacement: `${blackbox.hostname}:${PORT}` },
    ],
  };
}

import * as path from "node:path";
import { CONFIG_PATHS, SERVICES } from "../catalog";
import type { Environment } from "../environment";
import { toYaml } from "./yaml";

/** A rule file shipped in assets/rules and uploaded next to prometheus.yml. */
export interface RuleFile {
  readonly name: string;
  readonly content: string;
}

type ScrapeConfig = Record<string, unknown>;

function staticJob(job: string, targets: string[], extra: Record<string, unknown> = {}): ScrapeConfig {
  return { job_name: job, ...extra, static_configs: [{ targets }] };
}

const address = (service: keyof typeof SERVICES) => `${SERVICES[service].hostname}:${SERVICES[service].port}`;

/** Jobs for the stack's own components that expose Prometheus metrics. */
function stackJobs(env: Environment): ScrapeConfig[] {
  const jobs = [staticJob("prometheus", [`localhost:${SERVICES.prometheus.port}`])];
  if (env.services.includes("nodeExporter")) jobs.push(staticJob("node", [address("nodeExporter")]));
  if (env.services.includes("alertmanager")) jobs.push(staticJob("alertmanager", [address("alertmanager")]));
  if (env.services.includes("grafana")) jobs.push(staticJob("grafana", [address("grafana")]));
  return jobs;
}

function protocolJobs(env: Environment): ScrapeConfig[] {
  const jobs = env.scrape.targets.map((target) =>
    staticJob(target.job, target.targets, {
      metrics_path: target.metricsPath,
      scheme: target.scheme,
      ...(target.scrapeInterval ? { scrape_interval: target.scrapeInterval } : {}),
    }),
  );
  const consul = env.scrape.consul;
  if (consul) {
    jobs.push({
      job_name: consul.job,
      consul_sd_configs: [{ server: consul.server, services: consul.services }],
      // Keep `job` as configured (the seed overwrote it); carry the Consul service name as its own label.
      relabel_configs: [{ source_labels: ["__meta_consul_service"], target_label: "service" }],
    });
  }
  return jobs;
}

export function prometheusConfig(env: Environment, ruleFiles: readonly RuleFile[]): string {
  const config: Record<string, unknown> = {
    global: {
      scrape_interval: env.scrape.interval,
      evaluation_interval: env.scrape.evaluationInterval,
      external_labels: { environment: env.name },
    },
    rule_files: ruleFiles.map((rule) => path.posix.join(CONFIG_PATHS.prometheusRulesDir, rule.name)),
    ...(env.services.includes("alertmanager")
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [address("alertmanager")] }] }] } }
      : {}),
    scrape_configs: [...stackJobs(env), ...protocolJobs(env)],
  };
  return toYaml(config);
}

/** Command-line flags; retention lives here because Prometheus takes it only as flags. */
export function prometheusFlags(env: Environment): string[] {
  return [
    `--config.file=${CONFIG_PATHS.prometheusConfig}`,
    `--storage.tsdb.path=${SERVICES.prometheus.dataPath}`,
    `--storage.tsdb.retention.time=${env.retention.time}`,
    `--storage.tsdb.retention.size=${env.retention.size}`,
    `--web.listen-address=:${SERVICES.prometheus.port}`,
  ];
}

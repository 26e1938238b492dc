import * as path from "node:path";
import { filesIn } from "../container";
import { loadedRuleFiles, renderRuleFile, ruleParameters, type RuleFile } from "../config/rules";
import { toYaml } from "../config/yaml";
import type { Environment } from "../environment";
import { defineService, runningServices, serviceContainer } from "../service";
import { alertmanager } from "./alertmanager";

/** Paths inside the container where the generated configuration is uploaded. */
export const PROMETHEUS_PATHS = {
  config: "/etc/prometheus/prometheus.yml",
  rulesDir: "/etc/prometheus/rules",
} as const;

const PORT = 9090;
const DATA_PATH = "/prometheus";

/** Prometheus: scrapes the stack and the Protocol's services, evaluates the rules, alerts Alertmanager. Every environment runs it. */
export const prometheus = defineService({
  name: "prometheus",
  title: "Prometheus",
  image: "prom/prometheus:v3.5.5",
  localBuild: true,
  port: PORT,
  hostPort: 9090,
  dataPath: DATA_PATH,
  memoryMb: 1024,
  user: "65534:65534",
  required: true,
  health: { path: "/-/ready", client: "wget" },
  // It scrapes itself over loopback.
  scrape: { job: "prometheus", host: "localhost" },
  url: true,
  // client_library: the Go client's process and runtime metrics, which it exports too.
  metrics: { sources: ["prometheus", "client_library"], ruleFiles: ["stack.rules.yml"] },
  build: (scope, ctx) => {
    const ruleFiles = Object.entries(ctx.assets.folder("rules", ".rules.yml")).map(([name, content]) => ({ name, content }));
    const parameters = ruleParameters(ctx.env);
    // Only the rule files whose metrics the environment has (stacks/config/rules.ts).
    const loaded = loadedRuleFiles(ctx.env, ruleFiles);
    const rendered = Object.fromEntries(loaded.map((rule) => [rule.name, renderRuleFile(rule, parameters).content]));
    return serviceContainer(scope, ctx, {
      command: prometheusFlags(ctx.env),
      files: {
        [PROMETHEUS_PATHS.config]: prometheusConfig(ctx.env, loaded),
        ...filesIn(PROMETHEUS_PATHS.rulesDir, rendered),
      },
      // Protocol services run on the Docker host; Linux engines only resolve this name when told to.
      extraHosts: { "host.docker.internal": "host-gateway" },
    });
  },
});

type ScrapeConfig = Record<string, unknown>;

function staticJob(job: string, targets: string[], extra: Record<string, unknown> = {}): ScrapeConfig {
  return { job_name: job, ...extra, static_configs: [{ targets }] };
}

/** The job of every service the environment runs that has one (its descriptor's `scrape`). */
function stackJobs(env: Environment): ScrapeConfig[] {
  return runningServices(env).flatMap((service) => {
    const scrape = service.scrape;
    if (!scrape) return [];
    return [staticJob(scrape.job, [`${scrape.host ?? service.hostname}:${service.port}`], { ...scrape.settings?.(env) }), ...(scrape.moreJobs?.(env) ?? [])];
  });
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
    rule_files: ruleFiles.map((rule) => path.posix.join(PROMETHEUS_PATHS.rulesDir, rule.name)),
    ...(env.services.includes(alertmanager.name)
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [`${alertmanager.hostname}:${alertmanager.port}`] }] }] } }
      : {}),
    scrape_configs: [...stackJobs(env), ...protocolJobs(env)],
  };
  return toYaml(config);
}

/** Command-line flags; retention lives here because Prometheus takes it only as flags. */
export function prometheusFlags(env: Environment): string[] {
  return [
    `--config.file=${PROMETHEUS_PATHS.config}`,
    `--storage.tsdb.path=${DATA_PATH}`,
    `--storage.tsdb.retention.time=${env.retention.time}`,
    `--storage.tsdb.retention.size=${env.retention.size}`,
    `--web.listen-address=:${PORT}`,
  ];
}

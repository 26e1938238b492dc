import * as path from "node:path";
import { filesIn } from "../../container";
import type { RuleFile } from "../../assets";
import { loadedRuleFiles, renderRuleFile, ruleParameters } from "./rules";
import { toYaml } from "../../yaml";
import type { Environment } from "../../environment";
import type { SecretName } from "../../secrets";
import { defineService, runningServices } from "../../descriptor";
import { serviceContainer } from "../../service";
import { behindWebAuth, servesTls, webClient } from "../../web-config";
import { alertmanager } from "../alertmanager";
import { FLEET_SCRAPE_USER, nodeExporter } from "../node-exporter";

/** Paths inside the container where the generated configuration is uploaded. */
export const PROMETHEUS_PATHS = {
  config: "/etc/prometheus/prometheus.yml",
  rulesDir: "/etc/prometheus/rules",
  /** The environment's CA, the passwords it scrapes with (password_file), its own web config. */
  secretsDir: "/etc/prometheus/secrets",
} as const;

const secretPath = (name: string) => `${PROMETHEUS_PATHS.secretsDir}/${name}`;
/** The CA that the fleet's exporters' and (webAuth) the stack's own certificates are checked against. */
const CA_FILE = secretPath("ca.pem");

/** The secrets Prometheus reads: the web password (webAuth), the fleet's scrape password (hosts:). */
function prometheusSecrets(env: Environment): SecretName[] {
  return [...(env.webAuth.enabled ? (["web_password"] as const) : []), ...(env.hosts.length ? (["fleet_scrape_password"] as const) : [])];
}

const PORT = 9090;
const DATA_PATH = "/prometheus";

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
  build: (scope, ctx) => {
    const parameters = ruleParameters(ctx.env);
    // Only the rule files whose metrics the environment has (rules.ts).
    const loaded = loadedRuleFiles(ctx.env, ctx.assets.ruleFiles(ctx.env.catalog));
    const rendered = Object.fromEntries(loaded.map((rule) => [rule.name, renderRuleFile(rule, parameters).content]));
    const { env, secrets, pki } = ctx;
    // The passwords it authenticates with and the CA it checks servers against, as files (prometheus.yml holds none).
    const secretFiles: Record<string, string> = Object.fromEntries(prometheusSecrets(env).map((name) => [secretPath(name), secrets.get(name)]));
    if (pki) secretFiles[CA_FILE] = pki.caPem;
    // webAuth (its webConfig): serviceContainer adds HTTPS with basic auth.
    return serviceContainer(scope, ctx, {
      command: prometheusFlags(env),
      files: {
        [PROMETHEUS_PATHS.config]: prometheusConfig(env, loaded),
        ...filesIn(PROMETHEUS_PATHS.rulesDir, rendered),
      },
      secretFiles: Object.keys(secretFiles).length ? secretFiles : undefined,
      // Protocol services run on the Docker host; Linux engines only resolve this name when told to.
      extraHosts: { "host.docker.internal": "host-gateway" },
    });
  },
});

type ScrapeConfig = Record<string, unknown>;

/** How Prometheus reaches a service behind webAuth: HTTPS, the CA, the web user and password. */
function webAuthClient(env: Environment): Record<string, unknown> {
  return webClient(CA_FILE, env.webAuth.user, secretPath("web_password"));
}

/**
 * The fleet's exporters (hosts:): one target per host at its address, labelled with its name
 * (instance and host), over HTTPS checked against the environment's CA, with basic auth. A job of
 * its own (its scheme and credentials differ from the stack host's exporter), relabelled to the
 * node job so that rules and dashboards see one job.
 */
function fleetJob(env: Environment): ScrapeConfig[] {
  if (!env.hosts.length) return [];
  return [
    {
      job_name: `${nodeExporter.scrape!.job}_fleet`,
      ...webClient(CA_FILE, FLEET_SCRAPE_USER, secretPath("fleet_scrape_password")),
      static_configs: env.hosts.map((host) => ({ targets: [`${host.address.includes(":") ? `[${host.address}]` : host.address}:${host.port}`], labels: { instance: host.name, host: host.name } })),
      relabel_configs: [{ target_label: "job", replacement: nodeExporter.scrape!.job }],
    },
  ];
}

function staticJob(job: string, targets: string[], extra: Record<string, unknown> = {}, labels?: Readonly<Record<string, string>>): ScrapeConfig {
  return { job_name: job, ...extra, static_configs: [{ targets, ...(labels ? { labels } : {}) }] };
}

/** The job of every service the environment runs that has one (its descriptor's `scrape`). */
function stackJobs(env: Environment): ScrapeConfig[] {
  return runningServices(env).flatMap((service) => {
    const scrape = service.scrape;
    if (!scrape) return [];
    // Behind webAuth: HTTPS as the web user; serving TLS of its own (Grafana): HTTPS checked against the CA.
    const webAuth = behindWebAuth(env, service) ? webAuthClient(env) : servesTls(env, service) ? { scheme: "https", tls_config: { ca_file: CA_FILE } } : {};
    const job = staticJob(scrape.job, [`${scrape.host ?? service.hostname}:${service.port}`], { ...scrape.settings?.(env), ...webAuth }, scrape.labels?.(env));
    return [job, ...(scrape.moreJobs?.(env) ?? [])];
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
      ? { alerting: { alertmanagers: [{ ...(behindWebAuth(env, alertmanager) ? webAuthClient(env) : {}), static_configs: [{ targets: [`${alertmanager.hostname}:${alertmanager.port}`] }] }] } }
      : {}),
    scrape_configs: [...stackJobs(env), ...fleetJob(env), ...protocolJobs(env)],
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

import * as path from "node:path";
import { toYaml } from "../../yaml";
import type { Environment } from "../../environment";
import type { SecretName } from "../../secrets";
import { runningServices } from "../../descriptor";
import { behindWebAuth, servesTls, webClient } from "../../web-config";
import { alertmanager } from "../alertmanager/descriptor";
import { FLEET_SCRAPE_USER, nodeExporter } from "../node-exporter/descriptor";

/** Paths inside the container where the generated configuration is uploaded. */
export const PROMETHEUS_PATHS = {
  config: "/etc/prometheus/prometheus.yml",
  rulesDir: "/etc/prometheus/rules",
  /** The environment's CA, the passwords it scrapes with (password_file), its own web config. */
  secretsDir: "/etc/prometheus/secrets",
} as const;

export const secretPath = (name: string) => `${PROMETHEUS_PATHS.secretsDir}/${name}`;
/** The CA that the fleet's exporters' and (webAuth) the stack's own certificates are checked against. */
export const CA_FILE = secretPath("ca.pem");

/** The secrets Prometheus reads: the web password (webAuth), the fleet's scrape password (hosts:). */
export function prometheusSecrets(env: Environment): SecretName[] {
  return [...(env.webAuth.enabled ? (["web_password"] as const) : []), ...(env.hosts.length ? (["fleet_scrape_password"] as const) : [])];
}

export const PORT = 9090;
export const DATA_PATH = "/prometheus";


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

/** prometheus.yml, loading the rule files of the given names from the rules folder. */
export function prometheusConfig(env: Environment, ruleFiles: readonly string[]): string {
  const config: Record<string, unknown> = {
    global: {
      scrape_interval: env.scrape.interval,
      evaluation_interval: env.scrape.evaluationInterval,
      external_labels: { environment: env.name },
    },
    rule_files: ruleFiles.map((name) => path.posix.join(PROMETHEUS_PATHS.rulesDir, name)),
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

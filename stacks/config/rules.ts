import type { Environment } from "../environment";
import type { RuleFile } from "./prometheus";

/**
 * Rule files in assets/rules are data with a few placeholders, `[[ name ]]`, for the values an
 * operator tunes per environment (thresholds in environments/*.yaml) and the runbook base URL.
 * `[[ ]]` is neither PromQL nor Go-template syntax, so it cannot clash with either.
 */
export type RuleParameters = Environment["thresholds"] & {
  readonly runbookBaseUrl: string;
  /** The job the agents are scraped under (Consul discovery's job, "agents" by default). */
  readonly agentsJob: string;
};

export function ruleParameters(env: Environment): RuleParameters {
  return {
    ...env.thresholds,
    runbookBaseUrl: env.alerting.runbookBaseUrl.replace(/\/+$/, ""),
    agentsJob: agentsJob(env),
  };
}

export function renderRuleFile(file: RuleFile, parameters: RuleParameters): RuleFile {
  const content = file.content.replace(/\[\[\s*(\w+)\s*\]\]/g, (_, name: string) => {
    if (!(name in parameters)) throw new Error(`assets/rules/${file.name}: unknown placeholder [[ ${name} ]]`);
    return String(parameters[name as keyof RuleParameters]);
  });
  return { name: file.name, content };
}

// ---------------------------------------------------------------------------------------------
// Which rule files an environment loads
// ---------------------------------------------------------------------------------------------

/** The components that export metrics: the `source` of every entry in assets/metrics.yml. */
export const METRIC_SOURCES = [
  "prometheus",
  "client_library",
  "alertmanager",
  "node_exporter",
  "grafana",
  "registry",
  "teg",
  "spire",
  "agent",
  "x509-certificate-exporter",
  "elasticsearch_exporter",
  "postgres_exporter",
  "cadvisor",
] as const;
export type MetricSource = (typeof METRIC_SOURCES)[number];

/**
 * Exporters the stack does not run: an environment has their metrics when it scrapes a job
 * whose name starts with this (a `scrape.targets` entry such as `job: elasticsearch`).
 */
export const EXPORTER_JOB_PREFIXES: Readonly<Partial<Record<MetricSource, string>>> = {
  "x509-certificate-exporter": "x509",
  elasticsearch_exporter: "elasticsearch",
  postgres_exporter: "postgres",
  cadvisor: "cadvisor",
};

function agentsJob(env: Environment): string {
  return env.scrape.consul?.job ?? "agents";
}

/** Every job the environment's Prometheus scrapes. */
function scrapedJobs(env: Environment): string[] {
  const jobs = env.scrape.targets.map((t) => t.job);
  if (env.scrape.consul) jobs.push(env.scrape.consul.job);
  return jobs;
}

/** The metric sources an environment has: the stack services it runs and the jobs it scrapes. */
export function exportedSources(env: Environment): Set<MetricSource> {
  const jobs = scrapedJobs(env);
  const sources = new Set<MetricSource>(["prometheus", "client_library"]);
  const add = (source: MetricSource, when: boolean) => when && sources.add(source);
  add("alertmanager", env.services.includes("alertmanager"));
  add("node_exporter", env.services.includes("nodeExporter"));
  add("grafana", env.services.includes("grafana"));
  add("registry", jobs.some((job) => job.startsWith("registry_")));
  add("teg", jobs.includes("teg_layer"));
  add("spire", jobs.includes("spire_server"));
  add("agent", jobs.includes(agentsJob(env)));
  for (const [source, prefix] of Object.entries(EXPORTER_JOB_PREFIXES)) add(source as MetricSource, jobs.some((job) => job.startsWith(prefix as string)));
  return sources;
}

/**
 * What each rule file needs to be loaded: the source of the metrics its alerts read, or
 * "always". Rules about a service the environment does not run or scrape are not loaded there,
 * so no loaded alert is silent for want of its metrics. Files of dormant alerts (annotation
 * `dormant`: their metric has no source in any shipped environment yet) are always loaded:
 * they show on Prometheus's rules page and start working when the metric appears.
 */
export const RULE_FILE_NEEDS: Readonly<Record<string, MetricSource | "always">> = {
  "stack.rules.yml": "prometheus",
  "alertmanager.rules.yml": "alertmanager",
  "host.rules.yml": "node_exporter",
  "registry.rules.yml": "registry",
  "teg.rules.yml": "teg",
  "agents.rules.yml": "agent",
  "security.rules.yml": "always",
  "elasticsearch.rules.yml": "always",
  "database.rules.yml": "always",
};

/** The rule files an environment loads, in the order given. */
export function loadedRuleFiles(env: Environment, files: readonly RuleFile[]): RuleFile[] {
  const sources = exportedSources(env);
  return files.filter((file) => {
    const needs = RULE_FILE_NEEDS[file.name];
    if (needs === undefined) throw new Error(`assets/rules/${file.name}: not in RULE_FILE_NEEDS (stacks/config/rules.ts): say what it needs to be loaded`);
    return needs === "always" || sources.has(needs);
  });
}

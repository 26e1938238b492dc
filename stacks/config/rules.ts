import type { Environment } from "../environment";
import { runningServices, type ServiceDescriptor } from "../descriptor";

/** A rule file shipped in assets/rules, uploaded beside the scraper's configuration. */
export interface RuleFile {
  readonly name: string;
  readonly content: string;
}

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

/** A component that exports metrics: the `source` of an entry in assets/metrics.yml. */
export type MetricSource = string;

/**
 * Sources an environment has because it scrapes their jobs (`scrape.targets`, `scrape.consul`):
 * the Protocol's services, and exporters the stack does not run itself (yet), known by a job name
 * that starts with a prefix (`job: postgres_registry`). The stack's own services say what they
 * export in their descriptors (`metrics.sources`); an exporter that becomes a service moves there.
 */
const anyJobStartingWith = (prefix: string) => (jobs: readonly string[]) => jobs.some((job) => job.startsWith(prefix));
const SCRAPED_SOURCES: Readonly<Record<MetricSource, (jobs: readonly string[], env: Environment) => boolean>> = {
  registry: anyJobStartingWith("registry_"),
  teg: (jobs) => jobs.includes("teg_layer"),
  spire: (jobs) => jobs.includes("spire_server"),
  agent: (jobs, env) => jobs.includes(agentsJob(env)),
  "x509-certificate-exporter": anyJobStartingWith("x509"),
  postgres_exporter: anyJobStartingWith("postgres"),
};

/** Every metric source there is: the services' and the scraped ones. */
export function metricSources(catalog: readonly ServiceDescriptor[]): MetricSource[] {
  return [...new Set([...catalog.flatMap((service) => service.metrics?.sources ?? []), ...Object.keys(SCRAPED_SOURCES)])];
}

function agentsJob(env: Environment): string {
  return env.scrape.consul?.job ?? "agents";
}

/** Every job the environment scrapes beyond the stack's own services. */
function scrapedJobs(env: Environment): string[] {
  const jobs = env.scrape.targets.map((t) => t.job);
  if (env.scrape.consul) jobs.push(env.scrape.consul.job);
  return jobs;
}

/** The metric sources an environment has: the stack services it runs and the jobs it scrapes. */
export function exportedSources(env: Environment): Set<MetricSource> {
  const jobs = scrapedJobs(env);
  const sources = new Set<MetricSource>(runningServices(env).flatMap((service) => service.metrics?.sources ?? []));
  for (const [source, scraped] of Object.entries(SCRAPED_SOURCES)) if (scraped(jobs, env)) sources.add(source);
  return sources;
}

/**
 * What each rule file not owned by a service needs to be loaded: the source of the metrics its
 * alerts read, or "always". Rules about something the environment does not run or scrape are not
 * loaded there, so no loaded alert is silent for want of its metrics. Files of dormant alerts
 * (annotation `dormant`: their metric has no source in any shipped environment yet) are always
 * loaded: they show on the rules page and start working when the metric appears. A service's own
 * rule files (`metrics.ruleFiles` in its descriptor) are loaded where it runs.
 */
export const RULE_FILE_NEEDS: Readonly<Record<string, MetricSource | "always">> = {
  "registry.rules.yml": "registry",
  "teg.rules.yml": "teg",
  "agents.rules.yml": "agent",
  "security.rules.yml": "always",
  "database.rules.yml": "always",
};

/** What every rule file needs: RULE_FILE_NEEDS, and each service's files its first metric source. */
export function ruleFileNeeds(catalog: readonly ServiceDescriptor[]): Record<string, MetricSource | "always"> {
  const needs: Record<string, MetricSource | "always"> = { ...RULE_FILE_NEEDS };
  for (const service of catalog) {
    for (const file of service.metrics?.ruleFiles ?? []) {
      if (file in needs) throw new Error(`assets/rules/${file}: claimed by service ${service.name} and by another owner`);
      needs[file] = service.metrics?.sources[0] ?? "always";
    }
  }
  return needs;
}

/** The rule files an environment loads, in the order given. */
export function loadedRuleFiles(env: Environment, files: readonly RuleFile[]): RuleFile[] {
  const sources = exportedSources(env);
  const needs = ruleFileNeeds(env.catalog);
  return files.filter((file) => {
    const need = needs[file.name];
    if (need === undefined) {
      throw new Error(`assets/rules/${file.name}: not in RULE_FILE_NEEDS (stacks/config/rules.ts) nor in a service's metrics.ruleFiles: say what it needs to be loaded`);
    }
    return need === "always" || sources.has(need);
  });
}

import { PROTOCOL_OWNER, type RuleFile } from "../../assets";
import { runningServices } from "../../descriptor";
import type { Environment } from "../../environment";

/**
 * Rule files (a service's `rules/`, the Protocol's in stacks/protocol/rules) are data with a few placeholders, `[[ name ]]`, for the values an
 * operator tunes per environment (thresholds in environments/*.yaml) and `runbooks`, the URL of
 * the file's folder's runbooks/ (from alerting.runbookBaseUrl).
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
    runbookBaseUrl: env.alerting.runbookBaseUrl,
    agentsJob: agentsJob(env),
  };
}

/**
 * Where a rule file's runbooks are linked: its folder's runbooks/ under the base URL, the
 * repository as the team reads it ("." for links within the repository).
 */
export function runbooksUrl(runbookBaseUrl: string, folder: string): string {
  return runbookBaseUrl === "." ? `${folder}/runbooks` : `${runbookBaseUrl}/${folder}/runbooks`;
}

export function renderRuleFile(file: RuleFile, parameters: RuleParameters): RuleFile {
  // `runbooks`: the file's own folder's, so the runbooks live beside the rules.
  const values: Readonly<Record<string, unknown>> = { ...parameters, runbooks: runbooksUrl(parameters.runbookBaseUrl, file.folder) };
  const content = file.content.replace(/\[\[\s*(\w+)\s*\]\]/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`${file.folder}/rules/${file.name}: unknown placeholder [[ ${name} ]]`);
    return String(values[name]);
  });
  return { ...file, content };
}

// ---------------------------------------------------------------------------------------------
// Which rule files an environment loads
// ---------------------------------------------------------------------------------------------

/** A component that exports metrics: the `source` of an entry of the metric catalog (each folder's metrics.yml). */
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

/** The sources of what the environment scrapes rather than runs (the Protocol's services and the exporters beside them): stacks/protocol/metrics.yml's. */
export const SCRAPED_SOURCE_NAMES: readonly MetricSource[] = Object.keys(SCRAPED_SOURCES);

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
 * What each of the Protocol's rule files needs to be loaded: the source of the metrics its alerts
 * read, or "always". Rules about something the environment does not run or scrape are not loaded
 * there, so no loaded alert is silent for want of its metrics. Files of dormant alerts (annotation
 * `dormant`: their metric has no source in any shipped environment yet) are always loaded: they
 * show on the rules page and start working when the metric appears. A service's own rule files
 * (its folder's `rules/`) are loaded where it runs.
 */
export const PROTOCOL_RULE_FILE_NEEDS: Readonly<Record<string, MetricSource | "always">> = {
  "registry.rules.yml": "registry",
  "teg.rules.yml": "teg",
  "agents.rules.yml": "agent",
  "security.rules.yml": "always",
  "database.rules.yml": "always",
};

/** Why a rule file is loaded: the service it belongs to runs, or the Protocol source it needs is there (or "always"). */
export function ruleFileNeed(file: RuleFile): { readonly service: string } | { readonly source: MetricSource | "always" } {
  if (file.owner !== PROTOCOL_OWNER) return { service: file.owner };
  const source = PROTOCOL_RULE_FILE_NEEDS[file.name];
  if (source === undefined) {
    throw new Error(`${file.folder}/rules/${file.name}: not in PROTOCOL_RULE_FILE_NEEDS (stacks/services/prometheus/rules.ts): say what it needs to be loaded`);
  }
  return { source };
}

/** The rule files an environment loads, in the order given. */
export function loadedRuleFiles(env: Environment, files: readonly RuleFile[]): RuleFile[] {
  const sources = exportedSources(env);
  return files.filter((file) => {
    const need = ruleFileNeed(file);
    if ("service" in need) return env.services.includes(need.service);
    return need.source === "always" || sources.has(need.source);
  });
}

import type { Environment } from "../environment";
import type { RuleFile } from "./prometheus";

/**
 * Rule files in assets/rules are data with a few placeholders, `[[ name ]]`, for the values an
 * operator tunes per environment (thresholds in environments/*.yaml) and the runbook base URL.
 * `[[ ]]` is neither PromQL nor Go-template syntax, so it cannot clash with either.
 */
export type RuleParameters = Environment["thresholds"] & {
  readonly runbookBaseUrl: string;
  /** How many registry / TEG jobs the environment scrapes: "absent" alerts stay off where there are none. */
  readonly registryJobs: number;
  readonly tegJobs: number;
  /** 1 when the environment runs an Alertmanager, else 0. */
  readonly alertmanagers: number;
};

export function ruleParameters(env: Environment): RuleParameters {
  const jobs = env.scrape.targets.map((t) => t.job);
  return {
    ...env.thresholds,
    runbookBaseUrl: env.alerting.runbookBaseUrl.replace(/\/+$/, ""),
    registryJobs: jobs.filter((job) => job.startsWith("registry_")).length,
    tegJobs: jobs.filter((job) => job === "teg_layer").length,
    alertmanagers: env.services.includes("alertmanager") ? 1 : 0,
  };
}

export function renderRuleFile(file: RuleFile, parameters: RuleParameters): RuleFile {
  const content = file.content.replace(/\[\[\s*(\w+)\s*\]\]/g, (_, name: string) => {
    if (!(name in parameters)) throw new Error(`assets/rules/${file.name}: unknown placeholder [[ ${name} ]]`);
    return String(parameters[name as keyof RuleParameters]);
  });
  return { name: file.name, content };
}

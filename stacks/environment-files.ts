import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { isPublished } from "./descriptor";
import { type Catalog, type Environment, EnvironmentError, parseEnvironment } from "./environment";
import { SERVICES } from "./services";
import { ownRuleFileProblems } from "./services/prometheus/alert-changes";

/**
 * Environment files on disk: where they are, reading one (with its alerting CA file), reading all
 * and checking they can live side by side. Only this module, assets.ts and main.ts touch the file
 * system for the stack. The catalog is the shipped one (stacks/services) unless a test gives its own.
 */

/** Where the environment files are: PM_ENVIRONMENTS_DIR (the tests' throw-away folders), else `<root>/environments`. */
export function environmentsDir(root: string): string {
  return process.env.PM_ENVIRONMENTS_DIR ?? path.join(root, "environments");
}

/** The file of the environment named `name`. */
export function environmentFile(root: string, name: string): string {
  return path.join(environmentsDir(root), `${name}.yaml`);
}

export function loadEnvironmentFile(file: string, catalog: Catalog = SERVICES): Environment {
  let data: unknown;
  try {
    data = parseYaml(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new EnvironmentError(`${file}: cannot be read as YAML: ${(error as Error).message}`);
  }
  const env = parseEnvironment(data, file, catalog);
  /** A file the environment file names, relative to it. */
  const read = (field: string, relative: string) => {
    const absolute = path.resolve(path.dirname(file), relative);
    try {
      return fs.readFileSync(absolute, "utf8");
    } catch (error) {
      throw new EnvironmentError(`${file}: invalid environment\n  ${field}: cannot read ${absolute}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const pem = env.alerting.caFile === undefined ? undefined : read("alerting.caFile", env.alerting.caFile);
  if (pem !== undefined && !pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new EnvironmentError(`${file}: invalid environment\n  alerting.caFile: ${path.resolve(path.dirname(file), env.alerting.caFile as string)} holds no PEM certificate`);
  }
  const ownRuleFiles = env.alerts.ruleFiles.map((relative, i) => ({ path: relative, content: read(`alerts.ruleFiles[${i}]`, relative) }));
  const problems = ownRuleFiles.flatMap(ownRuleFileProblems);
  if (problems.length) throw new EnvironmentError(`${file}: invalid environment\n${problems.map((p) => `  alerts.ruleFiles: ${p}`).join("\n")}`);
  return { ...env, ...(pem !== undefined ? { alertingCaPem: pem } : {}), ...(ownRuleFiles.length ? { ownRuleFiles } : {}) };
}

/** Loads every environments/*.yaml file, sorted by name, and checks they can live side by side. */
export function loadEnvironments(directory: string, catalog: Catalog = SERVICES): Environment[] {
  const files = fs
    .readdirSync(directory)
    .filter((f) => f.endsWith(".yaml"))
    .sort();
  const environments = files.map((f) => loadEnvironmentFile(path.join(directory, f), catalog));
  assertNoClashes(environments);
  return environments;
}

/** Two environments on one Docker host must not share a name or a host port. */
export function assertNoClashes(environments: readonly Environment[]): void {
  const claimed = new Map<string, string>();
  for (const env of environments) {
    const keys = [`name ${env.name}`];
    for (const service of env.catalog.filter(isPublished)) {
      if (env.services.includes(service.name)) keys.push(`host port ${env.ports[service.name]}`);
    }
    for (const key of keys) {
      const claim = `${env.docker.host} ${key}`;
      const owner = claimed.get(claim);
      if (owner) throw new EnvironmentError(`${env.source}: ${key} on ${env.docker.host} is already used by ${owner}`);
      claimed.set(claim, env.source);
    }
  }
}

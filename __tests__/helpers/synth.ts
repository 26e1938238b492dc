import * as fs from "node:fs";
import { SERVICES } from "../../stacks/services";
import * as path from "node:path";
import { Testing, type App } from "cdktf";
import { loadAssets } from "../../stacks/assets";
import { loadEnvironmentFile } from "../../stacks/environment-files";
import { type Environment, type EnvironmentFile, parseEnvironment } from "../../stacks/environment";
import { MonitoringStack } from "../../stacks/monitoring-stack";
import { alertmanager, ALERTMANAGER_PATHS } from "../../stacks/services/alertmanager";
import { ELASTICSEARCH_SETUP_SCRIPT } from "../../stacks/services/elasticsearch";
import { grafana, GRAFANA_PATHS } from "../../stacks/services/grafana";
import { LOGSTASH_PIPELINE } from "../../stacks/services/logstash";
import { PROMETHEUS_PATHS } from "../../stacks/services/prometheus";
import { tempDir } from "./temp";

export const ROOT = path.resolve(__dirname, "../..");
/** The assets as the stack reads them. */
export const STACK_ASSETS = loadAssets(ROOT);
/** The shipped files the tests look at by name. */
export const ASSETS = {
  ruleFiles: STACK_ASSETS.ruleFiles(SERVICES),
  dashboards: STACK_ASSETS.folder(grafana, "dashboards", ".json"),
  alertmanagerTemplates: STACK_ASSETS.folder(alertmanager, "templates", ".tmpl"),
} as const;

/** Where the services upload their files (each path is its service descriptor's), by one name for the tests. */
export const CONFIG_PATHS = {
  prometheusConfig: PROMETHEUS_PATHS.config,
  prometheusRulesDir: PROMETHEUS_PATHS.rulesDir,
  alertmanagerConfig: ALERTMANAGER_PATHS.config,
  alertmanagerTemplatesDir: ALERTMANAGER_PATHS.templatesDir,
  alertmanagerSecretsDir: ALERTMANAGER_PATHS.secretsDir,
  alertmanagerCa: ALERTMANAGER_PATHS.ca,
  grafanaDatasources: GRAFANA_PATHS.datasources,
  grafanaDashboardProvider: GRAFANA_PATHS.dashboardProvider,
  grafanaDashboardsDir: GRAFANA_PATHS.dashboardsDir,
  logstashPipeline: LOGSTASH_PIPELINE,
  elasticsearchSetupScript: ELASTICSEARCH_SETUP_SCRIPT,
} as const;
/** Every file in environments/, by name. */
export const SHIPPED_ENVIRONMENTS = fs
  .readdirSync(path.join(ROOT, "environments"))
  .filter((file) => file.endsWith(".yaml"))
  .map((file) => path.basename(file, ".yaml"))
  .sort();

export function shippedEnvironment(name: string): Environment {
  return loadEnvironmentFile(path.join(ROOT, "environments", `${name}.yaml`));
}

export function environment(overrides: Partial<EnvironmentFile> = {}): Environment {
  return parseEnvironment({ name: "unit", ...overrides }, "unit-test", SERVICES);
}

export interface SynthesizedStack {
  resource: Record<string, Record<string, Record<string, unknown>>>;
  variable: Record<string, Record<string, unknown>>;
  output: Record<string, { value: string }>;
  terraform: { backend: Record<string, Record<string, unknown>> };
}

// One out folder for a test file's apps, removed after it: Testing.app() alone makes a new
// /tmp/cdktf.outdir.* for every app and leaves it.
const APPS_OUTDIR = tempDir("pm-unit-apps");

/** A cdktf app for a test (nothing is written unless it is synthesized to disk). */
export function testApp(): App {
  return Testing.app({ outdir: APPS_OUTDIR });
}

/** One environment's stack, as main.ts builds it. */
export function buildStack(env: Environment): MonitoringStack {
  return new MonitoringStack(testApp(), { env, assets: STACK_ASSETS, statePath: `/state/${env.name}.tfstate` });
}

/** Synthesizes one environment's stack (the hardening aspect included) and returns the parsed Terraform JSON. */
export function synth(env: Environment): SynthesizedStack {
  return JSON.parse(Testing.synth(buildStack(env))) as SynthesizedStack;
}

export type ContainerJson = {
  name: string;
  image: string;
  upload?: { file: string; content: string }[];
  [key: string]: unknown;
};

export function containers(stack: SynthesizedStack): ContainerJson[] {
  return Object.values(stack.resource.docker_container ?? {}) as ContainerJson[];
}

export function containerNamed(stack: SynthesizedStack, name: string): ContainerJson {
  const found = containers(stack).find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}; have ${containers(stack).map((c) => c.name).join(", ")}`);
  return found;
}

export function uploadedFile(container: ContainerJson, file: string): string {
  const upload = container.upload?.find((u) => u.file === file);
  if (!upload) throw new Error(`${container.name} has no upload ${file}`);
  // Undo the Terraform escaping, as Terraform does when it writes the file.
  return upload.content.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
}

/** The docker_image resource a container's `image` refers to. */
export function imageOf(stack: SynthesizedStack, container: ContainerJson): { name: string; keep_locally: boolean } {
  const match = /^\$\{docker_image\.([\w-]+)\.image_id\}$/.exec(container.image);
  if (!match) throw new Error(`${container.name} does not use a docker_image: ${container.image}`);
  return stack.resource.docker_image[match[1]] as { name: string; keep_locally: boolean };
}

import * as fs from "node:fs";
import * as path from "node:path";
import type { RuleFile } from "./config/prometheus";

/** Hand-written files in assets/ that the stack uploads as they are. Read once, at synth. */
export interface StackAssets {
  readonly ruleFiles: readonly RuleFile[];
  readonly dashboards: Readonly<Record<string, string>>;
  readonly alertmanagerTemplates: Readonly<Record<string, string>>;
  readonly logstashPipeline: string;
  readonly elasticsearchSetupScript: string;
}

function readDir(directory: string, suffix: string): Record<string, string> {
  const names = fs.readdirSync(directory).filter((f) => f.endsWith(suffix)).sort();
  return Object.fromEntries(names.map((name) => [name, fs.readFileSync(path.join(directory, name), "utf8")]));
}

export function loadAssets(assetsDir: string): StackAssets {
  const read = (...parts: string[]) => fs.readFileSync(path.join(assetsDir, ...parts), "utf8");
  return {
    ruleFiles: Object.entries(readDir(path.join(assetsDir, "rules"), ".rules.yml")).map(([name, content]) => ({ name, content })),
    dashboards: readDir(path.join(assetsDir, "dashboards"), ".json"),
    alertmanagerTemplates: readDir(path.join(assetsDir, "alertmanager"), ".tmpl"),
    logstashPipeline: read("logstash", "pipeline.conf"),
    elasticsearchSetupScript: read("elasticsearch", "setup.sh"),
  };
}

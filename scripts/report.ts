import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { SERVICE_NAMES } from "../stacks/catalog";
import { loadEnvironmentFile, type Environment } from "../stacks/environment";
import { OFFLINE_DEFAULT } from "./preflight";

/**
 * `node dist/scripts/report.js ENV STACK_DIR`: after a deploy, one short paragraph: what runs
 * and where, and what the environment leaves out (for the offline default, why).
 */

const DISPLAY: Record<(typeof SERVICE_NAMES)[number], string> = {
  prometheus: "Prometheus",
  grafana: "Grafana",
  nodeExporter: "Node Exporter",
  alertmanager: "Alertmanager",
  elasticsearch: "Elasticsearch",
  logstash: "Logstash",
  kibana: "Kibana",
};

const OFFLINE_REASON =
  "they have no local build: Grafana's licence (AGPL) keeps it out of this project's builds, and Elastic's images are not packaged " +
  "anywhere a machine without a registry reaches. Where a registry answers, `npm run deploy -- dev` runs all seven.";

export function deployReport(env: Environment, urls: Readonly<Record<string, string>>): string {
  const running = env.services.map((service) => {
    const url = urls[`${service}_url`];
    return url ? `${DISPLAY[service]} ${url}` : DISPLAY[service];
  });
  const lines = [`${env.name} is running: ${running.join(", ")}.`];
  const leftOut = SERVICE_NAMES.filter((service) => !env.services.includes(service)).map((s) => DISPLAY[s]);
  if (leftOut.length) {
    lines.push(`Left out: ${leftOut.join(", ")}${env.name === OFFLINE_DEFAULT ? `; ${OFFLINE_REASON}` : " (not in the environment's services)."}`);
  }
  lines.push(`Check it with \`npm run health -- ${env.name}\`; remove it with \`npm run destroy -- ${env.name}\`.`);
  return lines.join("\n");
}

function main([name, stackDir]: string[]): number {
  const root = path.resolve(__dirname, "../..");
  const env = loadEnvironmentFile(path.join(process.env.PM_ENVIRONMENTS_DIR ?? path.join(root, "environments"), `${name}.yaml`));
  const engine = process.env.TERRAFORM_BINARY_NAME ?? "terraform";
  const shown = spawnSync(engine, [`-chdir=${stackDir}`, "output", "-json"], { encoding: "utf8" });
  if (shown.status !== 0) {
    console.error(shown.stderr);
    return 1;
  }
  const outputs = JSON.parse(shown.stdout) as Record<string, { value: string }>;
  console.log(deployReport(env, Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.value]))));
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import { buildLocalImages } from "../deploy";
import { ROOT, engineBinary, prepareEngine } from "../lib/engine";
import { localImages } from "../lib/local-machine";

/**
 * `node dist/scripts/plan/record-fixtures.js` (after `npm run build`): records the plan JSON
 * fixtures of __tests__/fixtures/plans with the real engine and local Docker. A throw-away
 * environment is planned from scratch, deployed, then planned again with no change, with one
 * scrape target added, and with Alertmanager (and its volume) removed. Only `resource_changes` is
 * kept. Run it when the provider or the plan format changes.
 */

const FIXTURES = path.join(ROOT, "__tests__/fixtures/plans");

function main(): void {
  prepareEngine();
  buildLocalImages(["prometheus", "node-exporter", "alertmanager"]);
  const images = localImages(ROOT);
  const name = `fixture-${process.pid}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "pm-fixtures-"));
  const variables = {
    ...process.env,
    PM_ENVIRONMENTS_DIR: path.join(work, "environments"),
    PM_STATE_DIR: path.join(work, "state"),
    CDKTF_OUTDIR: path.join(work, "out"),
    TF_VAR_slack_webhook_url: "https://hooks.slack.invalid/FIXTURE-SECRET",
  };
  const dir = path.join(work, "out", "stacks", name);
  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { cwd: ROOT, env: variables, encoding: "utf8", maxBuffer: 1 << 30 });
    if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stderr}`);
    return result.stdout;
  };
  const engine = (...args: string[]) => run(engineBinary(), [`-chdir=${dir}`, ...args, "-input=false", "-no-color"]);
  const environment = (services: string[], targets: object[]) => {
    fs.mkdirSync(variables.PM_ENVIRONMENTS_DIR, { recursive: true });
    const file = {
      name,
      services,
      images: { prometheus: images.prometheus, nodeExporter: images.nodeExporter, alertmanager: images.alertmanager },
      ports: { prometheus: 39190, alertmanager: 39193 },
      alerting: { slack: { channel: "#fixtures" }, runbookBaseUrl: "https://example.org/protocol-monitoring" },
      scrape: { targets },
    };
    fs.writeFileSync(path.join(variables.PM_ENVIRONMENTS_DIR, `${name}.yaml`), stringify(file));
    run(process.execPath, [path.join(ROOT, "dist/main.js")]);
  };
  const record = (fixture: string) => {
    engine("plan", "-out=plan.bin");
    const plan = JSON.parse(run(engineBinary(), [`-chdir=${dir}`, "show", "-json", "plan.bin"])) as { format_version: string; resource_changes: unknown };
    fs.writeFileSync(path.join(FIXTURES, `${fixture}.json`), `${JSON.stringify({ format_version: plan.format_version, resource_changes: plan.resource_changes }, null, 1)}\n`);
    console.log(`recorded ${path.relative(ROOT, FIXTURES)}/${fixture}.json`);
  };
  try {
    environment(["prometheus", "nodeExporter", "alertmanager"], []);
    engine("init");
    record("create");
    engine("apply", "-auto-approve");
    record("no-op");
    environment(["prometheus", "nodeExporter", "alertmanager"], [{ job: "spire_server", targets: ["host.docker.internal:9988"] }]);
    record("scrape-target-added");
    environment(["prometheus", "nodeExporter"], []);
    record("alertmanager-removed");
  } finally {
    if (fs.existsSync(dir)) spawnSync(engineBinary(), [`-chdir=${dir}`, "destroy", "-auto-approve", "-input=false", "-no-color"], { env: variables, stdio: "ignore" });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) main();

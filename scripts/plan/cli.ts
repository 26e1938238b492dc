import * as fs from "node:fs";
import * as path from "node:path";
import { exitCode, renderMarkdown, summarizePlan, type PlanJson, type ResourceChange } from "./summary";

const USAGE = `Usage: npm run plan:summary [-- PLAN.json…]      (default: plans/*.json)
       node dist/scripts/plan/cli.js --drift PLAN.json
Writes Markdown to stdout (and plans/summary.md; PM_PLANS_DIR moves the folder). Exit code: 0 no changes, 2 changes,
3 changes that delete data. With --drift: 0 when nothing changed outside the code, 2 when something did.`;

function readPlan(file: string): PlanJson & { resource_drift?: ResourceChange[] } {
  return JSON.parse(fs.readFileSync(file, "utf8")) as PlanJson & { resource_drift?: ResourceChange[] };
}

function main(args: string[]): number {
  if (args.includes("-h") || args.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  if (args[0] === "--drift") {
    const drift = readPlan(args[1]).resource_drift ?? [];
    // Drift entries read like changes: from the recorded state to what Docker reports now.
    const summary = { ...summarizePlan(`${path.basename(args[1], ".drift.json")} (drift)`, { resource_changes: drift }), drift: true };
    console.log(renderMarkdown([summary]));
    return summary.changes.length ? 2 : 0;
  }
  const plansDir = process.env.PM_PLANS_DIR ?? "plans";
  const files = args.length
    ? args
    : fs.existsSync(plansDir)
      ? fs.readdirSync(plansDir).filter((f) => f.endsWith(".json") && !f.endsWith(".drift.json")).sort().map((f) => path.join(plansDir, f))
      : [];
  if (!files.length) {
    console.error("no plan JSON found: run `npm run plan` first");
    return 1;
  }
  const summaries = files.map((file) => summarizePlan(path.basename(file, ".json"), readPlan(file)));
  const markdown = renderMarkdown(summaries);
  fs.mkdirSync(plansDir, { recursive: true });
  fs.writeFileSync(path.join(plansDir, "summary.md"), markdown);
  console.log(markdown);
  return exitCode(summaries);
}

process.exitCode = main(process.argv.slice(2));

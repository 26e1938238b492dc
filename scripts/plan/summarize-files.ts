import * as fs from "node:fs";
import * as path from "node:path";
import { exitCode, renderMarkdown, summarizePlan, type PlanJson, type ResourceChange } from "./summary";

/**
 * `npm run plan:summary` and the drift check: plan JSON files (the engine's, or plans/ENV.json,
 * redacted) as Markdown on stdout.
 */

type PlanWithDrift = PlanJson & { resource_drift?: ResourceChange[] };

const readPlan = (file: string): PlanWithDrift => JSON.parse(fs.readFileSync(file, "utf8")) as PlanWithDrift;

/** The plans folder: PM_PLANS_DIR, else plans/. */
export const plansDir = (): string => process.env.PM_PLANS_DIR ?? "plans";

/**
 * Summarizes the plans (default: plans/*.json) on stdout and into plans/summary.md. Returns the
 * exit code: 0 no changes, 2 changes, 3 changes that delete data; 1 when there is no plan.
 */
export function summarizePlanFiles(files: readonly string[]): number {
  const dir = plansDir();
  const chosen = files.length
    ? files
    : fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => f.endsWith(".json") && !f.endsWith(".drift.json")).sort().map((f) => path.join(dir, f))
      : [];
  if (!chosen.length) {
    console.error("no plan JSON found: run `npm run plan` first");
    return 1;
  }
  const summaries = chosen.map((file) => summarizePlan(path.basename(file, ".json"), readPlan(file)));
  const markdown = renderMarkdown(summaries);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "summary.md"), markdown);
  console.log(markdown);
  return exitCode(summaries);
}

/** What a refresh-only plan found changed outside the code, on stdout; 2 when something did, else 0. */
export function summarizeDrift(file: string): number {
  const drift = readPlan(file).resource_drift ?? [];
  // Drift entries read like changes: from the recorded state to what Docker reports now.
  const summary = { ...summarizePlan(`${path.basename(file, ".drift.json")} (drift)`, { resource_changes: drift }), drift: true };
  console.log(renderMarkdown([summary]));
  return summary.changes.length ? 2 : 0;
}

import * as fs from "node:fs";
import { summarizePlan, type PlanJson, type SummarizedChange } from "./summary";

/**
 * Whether a fresh plan is the one a reviewer approved: both redacted plan JSONs are summarized as
 * the pull request showed them (each change's action, the attributes it changes, its file diffs)
 * and compared change by change. Markers of secret values are random for each plan, so a secret
 * that changed in between is not seen here; every other difference is.
 *
 *   node dist/scripts/plan/compare.js REVIEWED.json FRESH.json   exit 0 when they match, 1 with
 *                                                                each difference when they do not
 */

function describe(change: SummarizedChange): string {
  const attributes = change.attributes.map((a) => `${a.name}${a.forcesReplacement ? " (forces replacement)" : ""}`).join(", ");
  return `${change.action}${attributes ? ` of ${attributes}` : ""}${change.files.length ? `, files ${change.files.map((f) => f.path).join(", ")}` : ""}`;
}

/** The differences between the reviewed plan and the fresh one, one line each; none when they match. */
export function planDifferences(reviewed: PlanJson, fresh: PlanJson): string[] {
  const byAddress = (plan: PlanJson) => new Map(summarizePlan("", plan).changes.map((change) => [change.address, change]));
  const [before, now] = [byAddress(reviewed), byAddress(fresh)];
  const differences: string[] = [];
  for (const address of [...new Set([...before.keys(), ...now.keys()])].sort()) {
    const [was, is] = [before.get(address), now.get(address)];
    if (!is) differences.push(`${address}: reviewed ${describe(was as SummarizedChange)}, now no change`);
    else if (!was) differences.push(`${address}: not in the reviewed plan, now ${describe(is)}`);
    else if (JSON.stringify(was) !== JSON.stringify(is)) {
      const files = is.files.filter((file) => JSON.stringify(was.files.find((f) => f.path === file.path)) !== JSON.stringify(file)).map((file) => `\n  now in ${file.path}:\n${file.diff.replace(/^/gm, "    ")}`);
      differences.push(`${address}: reviewed ${describe(was)}, now ${describe(is)}${files.join("")}`);
    }
  }
  return differences;
}

if (require.main === module) {
  const [reviewedFile, freshFile] = process.argv.slice(2);
  if (!reviewedFile || !freshFile) {
    console.error("usage: node dist/scripts/plan/compare.js REVIEWED.json FRESH.json");
    process.exitCode = 2;
  } else {
    const read = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as PlanJson;
    const differences = planDifferences(read(reviewedFile), read(freshFile));
    if (differences.length) {
      console.error(`the plan differs from the one reviewed (${differences.length}):\n${differences.map((d) => `- ${d}`).join("\n")}`);
      process.exitCode = 1;
    } else console.log("the plan is the one reviewed");
  }
}

import * as fs from "node:fs";
import * as path from "node:path";
import { environmentFile, loadEnvironmentFile } from "../../stacks/environment-files";
import { CommandFailure } from "../lib/failure";
import { secretVariables } from "../lib/secret-file";
import { ROOT, encryptionEngineProblem, prepareEngine, runEngine } from "../lib/engine";
import { dockerHost, preflight, preflightFailure } from "../preflight";
import { readStackFacts } from "../stack-facts";
import { redactPlan, redactText, secretValues, type Json } from "./redact";
import { plansDir, summarizeDrift } from "./summarize-files";
import { stackDir, synthesize } from "../lib/app";

/**
 * `npm run plan` and `npm run drift`: plans environments with the engine itself and writes each
 * plan as JSON for review, redacted: no variable, sensitive value, secret file or secret value is
 * in it (fit for a pull request). plan → plans/<ENV>.json and the engine's text of it,
 * plans/<ENV>.plan.log; drift (a refresh-only plan: what changed outside the code) →
 * plans/<ENV>.drift.json, and 2 when there is drift.
 */
export async function planForReview(envNames: readonly string[], drift: boolean): Promise<number> {
  prepareEngine("--deploy");
  await synthesize();
  // The engine's plan JSON holds the secrets: what is written to plans/ is redacted; the folder stays private all the same.
  const plans = plansDir();
  fs.mkdirSync(plans, { recursive: true, mode: 0o700 });
  const mode = drift ? "drift" : "plan";
  let drifted = false;
  for (const envName of envNames) {
    process.stderr.write(`plan: ${envName} (${mode})\n`);
    const json = path.join(plans, drift ? `${envName}.drift.json` : `${envName}.json`);
    await planOne(envName, stackDir(envName), json, path.join(plans, `${envName}.${mode}.log`), drift);
    if (drift && summarizeDrift(json) === 2) drifted = true;
  }
  return drifted ? 2 : 0;
}

/** One environment, with its own secrets only (never the previous environment's). */
async function planOne(envName: string, dir: string, json: string, textLog: string, drift: boolean): Promise<void> {
  const variables = { ...process.env, ...secretVariables(ROOT, envName, process.env, (line) => process.stderr.write(`${line}\n`)) };
  // The file, its secrets and its Docker host, named before the engine runs.
  const env = loadEnvironmentFile(environmentFile(ROOT, envName));
  const { problems } = await preflight(env, dockerHost(env), { variables, images: false });
  if (problems.length) throw preflightFailure(env, problems);
  const problem = encryptionEngineProblem(envName, readStackFacts(dir).encrypted);
  if (problem) throw new CommandFailure(`plan: ${problem}`);
  const engine = (args: string[]) => runEngine(dir, args, `plan: ${envName}`, variables);
  const secrets = secretValues(variables);
  engine(["init", "-input=false", "-no-color"]);
  // The engine's own text of the plan, redacted too: it goes into the pull request's comment.
  const text = engine(["plan", "-input=false", "-no-color", "-lock-timeout=60s", "-out=plan.bin", ...(drift ? ["-refresh-only"] : [])]);
  fs.writeFileSync(textLog, redactText(text, secrets), { mode: 0o600 });
  const redacted = redactPlan(JSON.parse(engine(["show", "-json", "plan.bin"])) as Json, secrets);
  fs.writeFileSync(`${json}.tmp`, `${JSON.stringify(redacted, null, 1)}\n`, { mode: 0o600 });
  fs.renameSync(`${json}.tmp`, json);
}

import * as fs from "node:fs";
import * as path from "node:path";
import { environmentFile, loadEnvironmentFile } from "../stacks/environment-files";
import { CommandFailure } from "./lib/failure";
import { ROOT, prepareEngine, runEngine } from "./lib/engine";
import { stackDir, synthesize } from "./lib/app";

/**
 * `npm run state:migrate -- ENV`: moves an environment's state from its local file to the shared
 * backend its file now names, with the engine's own `state push`; refuses when the backend already
 * holds a state for ENV, and keeps the local file as state/ENV.tfstate.migrated.
 */
export async function migrateState(envName: string): Promise<number> {
  const say = (line: string) => process.stderr.write(`state:migrate: ${line}\n`);
  process.env.TF_INPUT = "0";
  const { backend } = loadEnvironmentFile(environmentFile(ROOT, envName)).state;
  if (backend === "local") throw new CommandFailure(`state:migrate: ${envName}'s state is local: set a shared backend in its file first (docs/team-state.md)`, 2);
  const localState = path.join(process.env.PM_STATE_DIR ?? "state", `${envName}.tfstate`);
  if (!fs.existsSync(localState)) throw new CommandFailure(`state:migrate: no local state ${localState} to move`, 2);
  prepareEngine("--deploy");

  const dir = stackDir(envName);
  await synthesize();
  const engine = (args: string[]) => runEngine(dir, args, "state:migrate");
  // -reconfigure: this working folder may remember the local backend; the file is what counts.
  engine(["init", "-reconfigure", "-input=false", "-no-color"]);
  // A backend that was just initialised holds an empty state; one with resources is somebody's.
  const pulled = engine(["state", "pull"]).trim();
  const held = pulled ? ((JSON.parse(pulled) as { resources?: unknown[] }).resources ?? []).length : 0;
  if (held) {
    throw new CommandFailure(
      `state:migrate: the ${backend} backend already holds a state for ${envName} (${held} resources): not overwritten. Compare it with ${localState} and move it by hand if you mean to`,
    );
  }
  engine(["state", "push", path.resolve(localState)]);
  fs.renameSync(localState, `${localState}.migrated`);
  say(`${envName}'s state is now in the ${backend} backend; the local copy is kept as ${localState}.migrated`);
  say(`check: npm run diff -- ${envName} (expect no changes)`);
  return 0;
}

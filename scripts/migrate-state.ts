import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { environmentFile, loadEnvironmentFile } from "../stacks/environment-files";
import { CommandFailure } from "./lib/failure";
import { ROOT, engineBinary, prepareEngine } from "./lib/engine";
import { appArgs } from "./lib/app";

/**
 * `npm run state:migrate -- ENV`: moves an environment's state from its local file to the shared
 * backend its file now names, with the engine's own `state push`; refuses when the backend already
 * holds a state for ENV, and keeps the local file as state/ENV.tfstate.migrated.
 */
export function migrateState(envName: string): number {
  const say = (line: string) => process.stderr.write(`state:migrate: ${line}\n`);
  process.env.TF_INPUT = "0";
  const { backend } = loadEnvironmentFile(environmentFile(ROOT, envName)).state;
  if (backend === "local") throw new CommandFailure(`state:migrate: ${envName}'s state is local: set a shared backend in its file first (docs/team-state.md)`, 2);
  const localState = path.join(process.env.PM_STATE_DIR ?? "state", `${envName}.tfstate`);
  if (!fs.existsSync(localState)) throw new CommandFailure(`state:migrate: no local state ${localState} to move`, 2);
  prepareEngine("--deploy");

  const out = process.env.CDKTF_OUTDIR ?? "cdktf.out";
  const dir = path.join(out, "stacks", envName);
  const synth = spawnSync(process.execPath, appArgs(), { env: { ...process.env, CDKTF_OUTDIR: out }, stdio: "inherit" });
  if (synth.status !== 0) throw new CommandFailure("state:migrate: synth failed: its errors are above");
  const engine = (args: string[]) => {
    const result = spawnSync(engineBinary(), [`-chdir=${dir}`, ...args], { encoding: "utf8", maxBuffer: 1 << 30 });
    if (result.status !== 0) throw new CommandFailure(`${result.stderr}state:migrate: ${path.basename(engineBinary())} ${args.join(" ")} failed: its errors are above`);
    return result.stdout;
  };
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

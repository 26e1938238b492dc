import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { CommandFailure } from "./failure";
import { ROOT } from "./engine";

/** The CDK library the app runs on: cdktf (archived upstream, the default) or its fork cdktn. */
export type CdkLibrary = "cdktf" | "cdktn";

/** The library PM_CDK names (a value given instead, in tests); anything else is refused, naming it. */
export function cdkLibrary(chosen = process.env.PM_CDK ?? "cdktf"): CdkLibrary {
  if (chosen !== "cdktf" && chosen !== "cdktn") throw new CommandFailure(`error: PM_CDK=${chosen}: cdktf (the default) or cdktn`, 2);
  return chosen;
}

/** Node's arguments that synthesize every environment (the compiled app), on the library PM_CDK names. */
export function appArgs(library: CdkLibrary = cdkLibrary()): string[] {
  const preload = library === "cdktn" ? ["--require", path.join(ROOT, "dist/scripts/lib/use-cdktn.js")] : [];
  return [...preload, path.join(ROOT, "dist/main.js")];
}

/** Where synth writes the stacks: CDKTF_OUTDIR, else cdktf.out/. */
export const synthOutDir = (): string => process.env.CDKTF_OUTDIR ?? "cdktf.out";

/** The folder of an environment's synthesized stack. */
export const stackDir = (envName: string): string => path.join(synthOutDir(), "stacks", envName);

/** Starts the app's synth of every environment (a child: cdktf's App); stop it with the returned child. */
export function startSynth(): { child: ChildProcess; done: Promise<void> } {
  const child = spawn(process.execPath, appArgs(), { env: { ...process.env, CDKTF_OUTDIR: synthOutDir() }, stdio: "inherit" });
  const done = new Promise<void>((resolve, reject) =>
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new CommandFailure("synth failed: its errors are above")))),
  );
  return { child, done };
}

/** Synthesizes every environment, to its end. */
export function synthesize(): Promise<void> {
  return startSynth().done;
}

import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { ROOT } from "./synth";

/** Path of a command-line tool installed by scripts/bootstrap.sh (or found on PATH). */
export function tool(name: string): string {
  const local = path.join(ROOT, ".tools", "bin", name);
  if (fs.existsSync(local)) return local;
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`${name} not found: run scripts/bootstrap.sh (npm test does) to install it into .tools/bin`);
  }
}

/** Runs a tool and returns its combined output; throws with that output when it fails. */
export function run(command: string, args: string[], options: { cwd?: string } = {}): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: "pipe", ...options });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`${path.basename(command)} ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

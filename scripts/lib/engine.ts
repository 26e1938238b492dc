import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { CommandFailure } from "./failure";

/** The project root: the folder of package.json above this file (compiled to dist/scripts/lib/, or run from source in the tests). */
export const ROOT = projectRoot(__dirname);

function projectRoot(start: string): string {
  for (let dir = start; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(path.join(dir, "stacks"))) return dir;
  }
  throw new Error(`no project root above ${start}`);
}

/**
 * The machine set-up (scripts/bootstrap.sh: Docker engine, OpenTofu/Terraform, providers, and the
 * test tools unless `--deploy`/`--docker-only`), its progress on stderr; then its environment
 * (.tools/env.sh: PATH, TERRAFORM_BINARY_NAME, the engine's CLI config) in this process.
 */
export function prepareEngine(...bootstrapArgs: string[]): void {
  bootstrap(...bootstrapArgs);
  if (bootstrapArgs.includes("--docker-only")) return;
  Object.assign(process.env, engineEnvironment());
}

/** Runs scripts/bootstrap.sh; its output goes to stderr, so stdout stays the caller's. */
export function bootstrap(...args: string[]): void {
  const result = spawnSync(path.join(ROOT, "scripts/bootstrap.sh"), args, { cwd: ROOT, stdio: ["inherit", process.stderr, process.stderr] });
  if (result.status !== 0) throw new CommandFailure("", result.status ?? 1);
}

/** The variables .tools/env.sh sets, read the way a shell sources it (it is written for bash). */
export function engineEnvironment(): NodeJS.ProcessEnv {
  const file = path.join(ROOT, ".tools/env.sh");
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: scripts/bootstrap.sh writes it`);
  const result = spawnSync("bash", ["-c", 'source "$1" && env -0', "env.sh", file], { encoding: "utf8", env: process.env });
  if (result.status !== 0) throw new Error(`could not read ${file}: ${result.stderr}`);
  const read: NodeJS.ProcessEnv = {};
  for (const pair of result.stdout.split("\0")) {
    const equals = pair.indexOf("=");
    if (equals > 0) read[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return read;
}

/** The engine the bootstrap chose (OpenTofu or Terraform). */
export function engineBinary(): string {
  const binary = process.env.TERRAFORM_BINARY_NAME;
  if (!binary) throw new Error("TERRAFORM_BINARY_NAME is not set: the bootstrap sets it (.tools/env.sh)");
  return binary;
}

/**
 * Runs the engine on a synthesized stack and returns what it printed; when it fails, its errors in
 * full on stderr and a CommandFailure saying which step (`what` names the run, e.g. "plan: dev").
 */
export function runEngine(dir: string, args: readonly string[], what: string, variables: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(engineBinary(), [`-chdir=${dir}`, ...args], { env: variables, encoding: "utf8", maxBuffer: 1 << 30 });
  if (result.status === 0) return result.stdout;
  process.stderr.write(result.stderr);
  throw new CommandFailure(`${what}: ${path.basename(engineBinary())} ${args[0]} failed: its errors are above`);
}

/** Whether the synthesized stack encrypts its state: "no", "yes" or "rotating" (encryption.previousKey). */
export type Encryption = "no" | "yes" | "rotating";

/**
 * OpenTofu's encryption block on an engine without it: why and what to do. Terraform would refuse
 * the block itself, after init; this says it before anything runs.
 */
export function encryptionEngineProblem(envName: string, encrypted: Encryption): string | undefined {
  if (encrypted === "no") return undefined;
  const binary = engineBinary();
  const version = spawnSync(binary, ["version"], { encoding: "utf8" }).stdout?.split("\n")[0] ?? "";
  if (version.startsWith("OpenTofu")) return undefined;
  return `${envName}: encryption.enabled needs OpenTofu; the engine is ${version || "unknown"} (${binary}): set TERRAFORM_BINARY_NAME to tofu, or leave encryption off (docs/team-state.md, Encrypted state)`;
}

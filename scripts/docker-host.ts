import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import type { Environment } from "../stacks/environment";
import { nodeExporter } from "../stacks/services/node-exporter";

/** A Docker API endpoint: the stack's (`docker:`) or a fleet host's (`hosts[].docker`). */
export interface DockerEndpoint {
  readonly host: string;
  readonly certPath?: string;
  readonly sshOpts?: readonly string[];
}

/** The docker CLI's environment for an environment's Docker host, or any endpoint (unix, ssh, or tcp with TLS). */
export function dockerEnv(target: Environment | DockerEndpoint): NodeJS.ProcessEnv {
  const endpoint: DockerEndpoint = "docker" in target ? target.docker : target;
  const variables: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: endpoint.host };
  if (endpoint.certPath) Object.assign(variables, { DOCKER_CERT_PATH: endpoint.certPath, DOCKER_TLS_VERIFY: "1" });
  if (endpoint.host.startsWith("ssh://") && endpoint.sshOpts?.length) variables.PATH = `${sshWithOptions(endpoint.sshOpts)}${path.delimiter}${process.env.PATH ?? ""}`;
  return variables;
}

const sshFolders = new Map<string, string>();

/**
 * The docker CLI reaches an ssh:// host through the `ssh` on its PATH and takes no ssh options
 * of its own (the provider passes sshOpts itself): a folder, first on the CLI's PATH, whose
 * `ssh` runs the real one with the options. One per set of options, removed when this process ends.
 */
function sshWithOptions(options: readonly string[]): string {
  const key = JSON.stringify(options);
  const made = sshFolders.get(key);
  if (made) return made;
  const real = (process.env.PATH ?? "").split(path.delimiter).map((dir) => path.join(dir, "ssh")).find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!real) throw new Error("an ssh:// Docker host needs ssh on PATH (Debian: openssh-client)");
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "pm-ssh-"));
  fs.writeFileSync(path.join(folder, "ssh"), `#!/bin/sh\nexec ${[real, ...options].map(quote).join(" ")} "$@"\n`, { mode: 0o700 });
  if (!sshFolders.size) {
    const remove = () => sshFolders.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true }));
    process.on("exit", remove);
    // Interrupted too: removed, then the signal's own end.
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        remove();
        process.kill(process.pid, signal);
      });
    }
  }
  sshFolders.set(key, folder);
  return folder;
}

/** Runs a command to its end or the timeout: its exit code (null when it could not run or timed out) and what it said. */
export function runAsync(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, timeout: timeoutMs });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (error) => resolve({ code: null, output: error.message }));
    child.on("close", (code, signal) => resolve({ code: signal ? null : code, output: signal ? `${output}\ntimed out after ${timeoutMs / 1000} s` : output }));
  });
}

/** Why an endpoint's Docker API does not answer (the docker CLI's last word), or nothing when it does. */
async function unanswered(endpoint: DockerEndpoint, timeoutMs: number): Promise<string | undefined> {
  const { code, output } = await runAsync("docker", ["version", "--format", "{{.Server.Version}}"], dockerEnv(endpoint), timeoutMs);
  return code === 0 ? undefined : output.trim().split("\n").pop() || `exit ${code}`;
}

/** Why the environment's Docker host does not answer, or nothing when it does. */
export async function hostProblem(env: Environment, timeoutMs = 20_000): Promise<string | undefined> {
  const reason = await unanswered(env.docker, timeoutMs);
  return reason && `the Docker host ${env.docker.host} cannot be reached: ${reason}`;
}

/** Why each fleet host that does not answer does not, naming it; asked side by side (a large fleet takes one timeout, not one per host). */
export async function fleetProblems(env: Environment, timeoutMs = 20_000): Promise<string[]> {
  const answers = await Promise.all(env.hosts.map((host) => unanswered(host.docker, timeoutMs)));
  return env.hosts.flatMap((host, index) => (answers[index] === undefined ? [] : [`fleet host ${host.name} (${host.docker.host}) cannot be reached: ${answers[index]}`]));
}

/** Every tagged image a Docker engine has: `repository:tag` → image ID (one call, however many images are asked about). */
function imageIds(variables: NodeJS.ProcessEnv): Map<string, string> {
  const listed = spawnSync("docker", ["image", "ls", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"], { env: variables, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`docker image ls on ${variables.DOCKER_HOST ?? "this machine"}: ${listed.stderr.trim()}`);
  return new Map(listed.stdout.split("\n").filter(Boolean).map((line) => line.split(" ", 2) as [string, string]));
}

/**
 * Images built on this machine reach a remote Docker host the way they would without a registry:
 * `docker save | docker load`, only when the host lacks that very image. Returns what was sent.
 */
export function sendLocalImages(target: Environment | DockerEndpoint, references: readonly string[]): string[] {
  const remote = dockerEnv(target);
  // The engine the images were built on: the one this shell's docker talks to.
  const local = process.env;
  if (!references.length) return [];
  // The host's own engine (this shell's, whatever it is called) has the same ID for each: nothing to send.
  const [here, there] = [imageIds(local), imageIds(remote)];
  const sent: string[] = [];
  for (const reference of references) {
    const id = here.get(reference);
    if (!id) throw new Error(`${reference} is not on this machine's Docker engine`);
    if (there.get(reference) === id) continue;
    const copy = spawnSync("sh", ["-c", 'docker save "$1" | DOCKER_HOST="$2" DOCKER_CERT_PATH="$3" DOCKER_TLS_VERIFY="$4" PATH="$5" docker load -q', "sh", reference, remote.DOCKER_HOST ?? "", remote.DOCKER_CERT_PATH ?? "", remote.DOCKER_TLS_VERIFY ?? "", remote.PATH ?? ""], {
      env: local,
      encoding: "utf8",
    });
    if (copy.status !== 0) throw new Error(`sending ${reference} to ${remote.DOCKER_HOST} failed: ${copy.stderr.trim()}`);
    sent.push(reference);
  }
  return sent;
}

/** The images each fleet host runs (its Node Exporter's). */
export function fleetImages(env: Environment): string[] {
  return env.hosts.length ? [env.images[nodeExporter.name]] : [];
}

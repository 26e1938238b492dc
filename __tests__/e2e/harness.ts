import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { ENVIRONMENT_LABEL } from "../../stacks/labels";
import { SERVICES } from "../../stacks/services";
import { hostGatewayAddress, localImages as readLocalImages, reservePorts, type PortReservation } from "../../scripts/lib/local-machine";
import { ROOT } from "../helpers/synth";

/** Small helpers for the end-to-end test: shell commands, Docker queries, polling, timing. */

export function sh(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; allowFailure?: boolean } = {}) {
  const result = spawnSync(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, encoding: "utf8", maxBuffer: 64 << 20 });
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

export function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8" }).trim();
}

/** Names of every container, volume and network that carries the environment's label (on the engine `run` asks). */
export function dockerObjects(envName: string, run: (...args: string[]) => string = docker) {
  const filter = `label=${ENVIRONMENT_LABEL}=${envName}`;
  const list = (...args: string[]) => run(...args, "--filter", filter).split("\n").filter(Boolean).sort();
  return {
    containers: list("ps", "-a", "--format", "{{.Names}}"),
    volumes: list("volume", "ls", "--format", "{{.Name}}"),
    networks: list("network", "ls", "--format", "{{.Name}}"),
  };
}

/** Container name → "id startedAt restartCount", to prove a container was not touched. */
export function fingerprint(envName: string): Record<string, string> {
  const names = dockerObjects(envName).containers;
  return Object.fromEntries(names.map((n) => [n, docker("inspect", "-f", "{{.Id}} {{.State.StartedAt}} {{.RestartCount}}", n)]));
}

export function removeEverything(envName: string): void {
  const objects = dockerObjects(envName);
  if (objects.containers.length) sh("docker", ["rm", "-f", ...objects.containers], { allowFailure: true });
  if (objects.volumes.length) sh("docker", ["volume", "rm", "-f", ...objects.volumes], { allowFailure: true });
  if (objects.networks.length) sh("docker", ["network", "rm", ...objects.networks], { allowFailure: true });
}

export function printLogs(envName: string): void {
  for (const name of dockerObjects(envName).containers) {
    const state = sh("docker", ["inspect", "-f", "{{.State.Status}} health={{if .State.Health}}{{.State.Health.Status}}{{end}} exit={{.State.ExitCode}}", name], { allowFailure: true }).stdout.trim();
    const logs = sh("docker", ["logs", "--tail", "40", name], { allowFailure: true });
    process.stdout.write(`----- ${name} (${state}) -----\n${logs.stdout}${logs.stderr}\n`);
  }
}

export async function poll<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

export async function getJson<T = unknown>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/**
 * One GET, HTTPS checked against `ca` (the environment's CA) or plain HTTP, with basic auth when
 * given: the status and body. A refused or reset connection answers status 0, its error the body.
 */
export function request(url: string, { ca, auth }: { ca?: string; auth?: { user: string; password: string } } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const options = { ca: ca || undefined, timeout: 5000, headers: auth ? { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}` } : {} };
    const req = (url.startsWith("https:") ? https : http).get(url, options, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (error) => resolve({ status: 0, body: error.message }));
  });
}

/** Host ports that nothing listens on right now, spaced out from a random base. */
export function timed<T>(record: Record<string, number>, label: string, fn: () => T): T {
  const start = process.hrtime.bigint();
  try {
    return fn();
  } finally {
    record[label] = Number(process.hrtime.bigint() - start) / 1e9;
  }
}

/** Images the project's scripts built for this machine (scripts/build-local-images.sh). */
export const localImages = (): Record<string, string> => readLocalImages(ROOT);
export { hostGatewayAddress, reservePorts, type PortReservation };

/** The local images of the stack's services (an environment's `images:`), without the simulator's. */
export function stackImages(): Record<string, string> {
  const images = localImages();
  return Object.fromEntries(SERVICES.filter((service) => images[service.name]).map((service) => [service.name, images[service.name]]));
}

/**
 * Steps that build on each other: once one fails, the rest fail at once instead of slowly, and
 * the first failure prints the containers' state and logs of the given environments.
 */
export function sequentialSteps(...environments: string[]) {
  let failed = false;
  return async function step<T>(fn: () => Promise<T> | T): Promise<T> {
    if (failed) throw new Error("not run: an earlier step failed");
    try {
      return await fn();
    } catch (error) {
      if (!failed) environments.forEach(printLogs);
      failed = true;
      throw error;
    }
  };
}

/**
 * A test file's throw-away folders under a fresh temp folder (`work`, which its afterAll removes):
 * environments, state, plans and synthesized output, and the variables that point the scripts at
 * them.
 */
export function workspace(name: string) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `pm-${name}-`));
  const dirs = { environments: path.join(work, "environments"), state: path.join(work, "state"), plans: path.join(work, "plans"), out: path.join(work, "out") };
  const variables = { PM_ENVIRONMENTS_DIR: dirs.environments, PM_STATE_DIR: dirs.state, PM_PLANS_DIR: dirs.plans, CDKTF_OUTDIR: dirs.out };
  return { work, dirs, variables };
}

/**
 * scripts/cli.sh deploy as `npm run deploy` runs it, with the given environment and no terminal (stdin
 * a pipe left open, so a prompt would hang until the timeout): exit status, signal, output, seconds.
 */
export function deployScript(env: NodeJS.ProcessEnv, args: string[], timeoutSeconds = 600) {
  const start = Date.now();
  const result = spawnSync(path.join(ROOT, "scripts/cli.sh"), args, { cwd: ROOT, env, encoding: "utf8", timeout: timeoutSeconds * 1000 });
  return { status: result.status, signal: result.signal, output: `${result.stdout}${result.stderr}`, seconds: (Date.now() - start) / 1000 };
}

/**
 * A second Docker engine in a network namespace of its own, serving its API over TLS and SSH
 * (scripts/test-docker-host.sh): where it is, the docker CLI on it as a client elsewhere reaches
 * it, an environment's objects on it (stopTestDockerHost removes it).
 */
export function startTestDockerHost(folder: string) {
  const started = spawnSync(path.join(ROOT, "scripts/test-docker-host.sh"), ["start", folder], { encoding: "utf8" });
  if (started.status !== 0) throw new Error(`the second Docker engine did not start:\n${started.stderr}`);
  const at = Object.fromEntries(started.stdout.trim().split("\n").map((line) => line.split("=", 2))) as {
    HOST: string;
    ADDRESS: string;
    CERT_PATH: string;
    SSH_HOST: string;
    SSH_KEY: string;
    SSH_KNOWN_HOSTS: string;
  };
  const remoteDocker = (...args: string[]): string => {
    const result = spawnSync("docker", args, { env: { ...process.env, DOCKER_HOST: at.HOST, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: at.CERT_PATH }, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`docker ${args.join(" ")} on ${at.HOST}: ${result.stderr}`);
    return result.stdout.trim();
  };
  return {
    ...at,
    docker: remoteDocker,
    objects: (envName: string) => dockerObjects(envName, remoteDocker),
  };
}

/** Stops such an engine, even one that failed to start, and removes its namespace and folder; what is left, if anything. */
export function stopTestDockerHost(folder: string): string[] {
  spawnSync(path.join(ROOT, "scripts/test-docker-host.sh"), ["stop", folder]);
  return [fs.existsSync(folder) && folder, spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.includes("pmh-") && "a pmh- namespace"].filter((left): left is string => Boolean(left));
}
export type TestDockerHost = ReturnType<typeof startTestDockerHost>;

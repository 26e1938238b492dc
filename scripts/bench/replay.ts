import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";

/**
 * The floor a deploy is measured against: the same resources as a plan (`show -json`) has them,
 * created with plain `docker` commands, every container at once, with the same healthchecks,
 * until all are healthy. No planning, no state, no ordering: what Docker alone needs.
 */

type Values = Record<string, unknown>;
interface PlannedResource {
  address: string;
  type: string;
  values: Values;
}
interface PlanJson {
  planned_values: { root_module: { resources?: PlannedResource[] } };
  configuration: { root_module: { resources?: { address: string; expressions?: { image?: { references?: string[] } } }[] } };
}

export interface Replay {
  network: string;
  /** `--label` arguments of the network and volumes: the environment's, so cleanup finds them. */
  labels: string[];
  volumes: string[];
  containers: { name: string; args: string[]; uploads: { file: string; content: string; mode: string }[] }[];
}

const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

/** `docker create` arguments for each planned container, from the plan's resolved values. */
export function replayOf(plan: PlanJson): Replay {
  const resources = plan.planned_values.root_module.resources ?? [];
  const byAddress = new Map(resources.map((r) => [r.address, r]));
  const configuration = new Map((plan.configuration.root_module.resources ?? []).map((r) => [r.address, r]));
  const networkValues = resources.find((r) => r.type === "docker_network")?.values ?? {};
  const network = networkValues.name as string;
  const labels = list<{ label: string; value: string }>(networkValues.labels).flatMap((l) => ["--label", `${l.label}=${l.value}`]);
  const volumes = resources.filter((r) => r.type === "docker_volume").map((r) => r.values.name as string);
  const containers = resources
    .filter((r) => r.type === "docker_container")
    .map((r) => {
      const v = r.values;
      // The image ID is known only after apply: the configuration says which docker_image it is.
      const imageRef = configuration.get(r.address)?.expressions?.image?.references?.find((ref) => ref.startsWith("docker_image.") && !ref.endsWith(".image_id"));
      const image = byAddress.get(imageRef ?? "")?.values.name as string;
      const args = ["--name", v.name as string, "--hostname", v.hostname as string];
      for (const e of list<string>(v.env)) args.push("--env", e);
      for (const l of list<{ label: string; value: string }>(v.labels)) args.push("--label", `${l.label}=${l.value}`);
      for (const n of list<{ aliases?: string[] }>(v.networks_advanced)) {
        args.push("--network", network);
        for (const alias of n.aliases ?? []) args.push("--network-alias", alias);
      }
      for (const p of list<{ internal: number; external: number; ip: string; protocol?: string }>(v.ports)) args.push("-p", `${p.ip}:${p.external}:${p.internal}/${p.protocol ?? "tcp"}`);
      for (const m of list<{ volume_name: string; container_path: string }>(v.volumes)) args.push("-v", `${m.volume_name}:${m.container_path}`);
      for (const m of list<{ source: string; target: string; type: string; read_only?: boolean }>(v.mounts)) {
        args.push("--mount", `type=${m.type},source=${m.source},target=${m.target}${m.read_only ? ",readonly" : ""}`);
      }
      for (const h of list<{ host: string; ip: string }>(v.host)) args.push("--add-host", `${h.host}:${h.ip}`);
      if (v.user) args.push("--user", v.user as string);
      if (v.pid_mode) args.push("--pid", v.pid_mode as string);
      if (v.read_only) args.push("--read-only");
      for (const [mount, options] of Object.entries((v.tmpfs as Record<string, string>) ?? {})) args.push("--tmpfs", `${mount}:${options}`);
      if (v.memory) args.push("--memory", `${v.memory}m`, "--memory-swap", `${v.memory_swap ?? v.memory}m`);
      if (v.restart) args.push("--restart", v.restart as string);
      for (const option of list<string>(v.security_opts)) args.push("--security-opt", option);
      for (const cap of list<{ drop?: string[] }>(v.capabilities).flatMap((c) => c.drop ?? [])) args.push("--cap-drop", cap);
      if (v.log_driver) args.push("--log-driver", v.log_driver as string);
      for (const [key, value] of Object.entries((v.log_opts as Record<string, string>) ?? {})) args.push("--log-opt", `${key}=${value}`);
      const [health] = list<{ test: string[]; interval: string; timeout: string; retries: number; start_period: string }>(v.healthcheck);
      if (health) {
        args.push("--health-cmd", health.test.slice(1).join(" "), "--health-interval", health.interval, "--health-timeout", health.timeout);
        args.push("--health-retries", String(health.retries), "--health-start-period", health.start_period);
      }
      const entrypoint = list<string>(v.entrypoint);
      if (entrypoint.length) args.push("--entrypoint", entrypoint[0]);
      args.push(image, ...entrypoint.slice(1), ...list<string>(v.command));
      const uploads = list<{ file: string; content: string; permissions?: string }>(v.upload).map((u) => ({ file: u.file, content: u.content, mode: u.permissions || "0644" }));
      return { name: v.name as string, args, uploads };
    });
  return { network, labels, volumes, containers };
}

function docker(...args: string[]): void {
  const result = spawnSync("docker", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`docker ${args.slice(0, 3).join(" ")}…: ${result.stderr.trim()}`);
}

function dockerAsync(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { stdio: ["ignore", "ignore", "pipe"] });
    let errors = "";
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`docker ${args.slice(0, 3).join(" ")}…: ${errors.trim()}`))));
  });
}

/** Creates one container with its files (docker cp of a folder holding them) and starts it. */
async function startContainer(container: Replay["containers"][number]): Promise<void> {
  await dockerAsync(["create", ...container.args]);
  if (container.uploads.length) {
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), "pm-replay-"));
    for (const upload of container.uploads) {
      const target = path.join(tree, upload.file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, upload.content, { mode: Number.parseInt(upload.mode, 8) });
    }
    await dockerAsync(["cp", `${tree}/.`, `${container.name}:/`]);
    fs.rmSync(tree, { recursive: true, force: true });
  }
  await dockerAsync(["start", container.name]);
}

async function allHealthy(names: readonly string[], timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const states = spawnSync("docker", ["inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", ...names], { encoding: "utf8" }).stdout.trim().split("\n");
    if (states.length === names.length && states.every((s) => s === "healthy")) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not all healthy within ${timeoutMs / 1000} s: ${names.join(", ")}`);
}

/** Everything at once, then (unless told not to) wait for every healthcheck. */
export async function replayDeploy(replay: Replay, waitForHealth = true): Promise<void> {
  docker("network", "create", ...replay.labels, replay.network);
  for (const volume of replay.volumes) docker("volume", "create", ...replay.labels, volume);
  // Settled, not raced: a failure must not leave containers being created behind the cleanup.
  const started = await Promise.allSettled(replay.containers.map(startContainer));
  const failure = started.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failure) throw failure.reason;
  if (waitForHealth) await allHealthy(replay.containers.map((c) => c.name));
}

/** What a config change costs Docker: one container removed, created with its files, healthy again. */
export async function replayReplace(replay: Replay, name: string): Promise<void> {
  const container = replay.containers.find((c) => c.name === name);
  if (!container) throw new Error(`no container ${name} in the replay`);
  docker("rm", "-f", name);
  await startContainer(container);
  await allHealthy([name]);
}

/** As the provider destroys: each container stopped gracefully (SIGTERM, up to its grace period), then removed. */
export async function replayDestroy(replay: Replay): Promise<void> {
  await Promise.all(replay.containers.map(async (c) => {
    await dockerAsync(["stop", "-t", "30", c.name]);
    await dockerAsync(["rm", c.name]);
  }));
  docker("network", "rm", replay.network);
  await Promise.all(replay.volumes.map((v) => dockerAsync(["volume", "rm", v])));
}

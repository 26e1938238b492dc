/**
 * Shared state and the faults a deploy meets in real life, each recovered by one command:
 * an environment moved from a local state file to PostgreSQL (a fresh checkout then plans no
 * changes); a run holding the state lock is named to the run it blocks; the engine SIGKILLed
 * during an apply (a CI timeout, an OOM kill) and during a destroy; the Docker engine restarted
 * under a running stack. No data volume is ever deleted by recovery, and a second environment on
 * the same engine is untouched throughout.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { parse, stringify } from "yaml";
import type { EnvironmentFile } from "../../stacks/environment";
import { ROOT } from "../helpers/synth";
import { docker, dockerObjects, getJson, localImages, poll, printLogs, removeEverything, reservePorts, workspace } from "./harness";

jest.setTimeout(10 * 60_000);

const runId = crypto.randomBytes(3).toString("hex");
const name = `rec-${runId}`;
const peer = `rec-${runId}-peer`;
const { work, dirs: workDirs, variables } = workspace(name);
const dirs = { ...workDirs, pg: path.join(os.tmpdir(), `pm-${name}-pg`) };
const scriptEnv: NodeJS.ProcessEnv = { ...process.env, ...variables, CI: "true" };
const report = (line: string) => process.stdout.write(`e2e recovery: ${line}\n`);
const deployScript = path.join(ROOT, "scripts/cli.sh");
const envFile = path.join(dirs.environments, `${name}.yaml`);
let prometheusUrl = "";

function script(file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(file, args, { cwd: ROOT, env: { ...scriptEnv, ...extraEnv }, encoding: "utf8", timeout: 300_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function run(...args: string[]): string {
  const result = script(deployScript, args);
  if (result.status !== 0) {
    [name, peer].forEach(printLogs);
    throw new Error(`cli.sh ${args.join(" ")} exited ${result.status}:\n${result.output}`);
  }
  return result.output;
}

function editEnvironment(change: (file: EnvironmentFile) => EnvironmentFile) {
  fs.writeFileSync(envFile, stringify(change(parse(fs.readFileSync(envFile, "utf8")) as EnvironmentFile)));
}

function engineApplies(): string[] {
  const stackDir = path.join(dirs.out, "stacks", name);
  return spawnSync("pgrep", ["-f", "--", `-chdir=${stackDir} apply`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
}

/** Starts a deploy in the background and waits (tightly: a destroy takes seconds) until its engine applies and `ready` holds. */
const started: ReturnType<typeof spawn>[] = [];
async function startUntilApplying(args: string[], ready: () => boolean = () => true) {
  const child = spawn(deployScript, args, { cwd: ROOT, env: scriptEnv, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const deadline = Date.now() + 180_000;
  let pids: string[] = [];
  while (!(pids = engineApplies()).length || !ready()) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`cli.sh ${args.join(" ")} never reached its apply:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pids, exited, output: () => output };
}

/** What must not change in the peer: which objects exist, by ID (restarts by the engine are fine). */
function identity(env: string): string[] {
  const objects = dockerObjects(env);
  return [...objects.containers.map((c) => `${c} ${docker("inspect", "-f", "{{.Id}}", c)}`), ...objects.volumes, ...objects.networks].sort();
}

const allHealthy = (env: string) =>
  poll(
    `every container of ${env} healthy`,
    async () => {
      const names = dockerObjects(env).containers;
      const states = names.map((c) => docker("inspect", "-f", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", c));
      return names.length && states.every((s) => s === "running healthy") ? true : undefined;
    },
    120_000,
  );

beforeAll(async () => {
  fs.mkdirSync(dirs.environments, { recursive: true });
  const reserved = await reservePorts(3);
  await reserved.release(); // the first deploy is the next test
  const [p1, p2, p3] = reserved.ports;
  prometheusUrl = `http://127.0.0.1:${p1}`;
  const images = localImages();
  const write = (file: string, content: EnvironmentFile) => fs.writeFileSync(path.join(dirs.environments, `${file}.yaml`), stringify(content));
  write(name, {
    name,
    services: ["prometheus", "alertmanager", "nodeExporter"],
    images: { prometheus: images.prometheus, alertmanager: images.alertmanager, nodeExporter: images.nodeExporter },
    ports: { prometheus: p1, alertmanager: p2 },
    scrape: { interval: "5s", evaluationInterval: "5s" },
  });
  write(peer, { name: peer, services: ["prometheus"], images: { prometheus: images.prometheus }, ports: { prometheus: p3 } });
  const started = spawnSync(path.join(ROOT, "scripts/test-postgres.sh"), ["start", dirs.pg], { encoding: "utf8" });
  if (started.status !== 0) throw new Error(`PostgreSQL did not start:\n${started.stderr}`);
  scriptEnv.PG_CONN_STR = started.stdout.trim();
});

afterAll(() => {
  for (const child of started) if (child.exitCode === null) child.kill("SIGKILL");
  for (const pid of engineApplies()) process.kill(Number(pid), "SIGKILL");
  for (const env of [name, peer]) {
    if (dockerObjects(env).containers.length) script(deployScript, ["destroy", env, "--auto-approve"]);
    removeEverything(env);
  }
  spawnSync(path.join(ROOT, "scripts/test-postgres.sh"), ["stop", dirs.pg]);
  fs.rmSync(work, { recursive: true, force: true });
});

let peerBefore: string[];

test("an environment moves its state from a local file to PostgreSQL; a fresh checkout plans no changes", () => {
  run("deploy", peer, "--auto-approve");
  peerBefore = identity(peer);
  run("deploy", name, "--auto-approve");

  editEnvironment((file) => ({ ...file, state: { backend: "pg" } }));
  const early = script(deployScript, ["diff", name]);
  expect(early.status).toBe(1);
  expect(early.output).toContain(`move it first with \`npm run state:migrate -- ${name}\``);

  const migrated = script(path.join(ROOT, "scripts/cli.sh"), ["state:migrate", name]);
  expect(migrated.output).toContain(`${name}'s state is now in the pg backend`);
  expect(fs.existsSync(path.join(dirs.state, `${name}.tfstate`))).toBe(false);
  expect(run("diff", name)).toContain(`${name}: no changes`);
  // Another machine: no synth output, no state folder, no plans: only the repository and the database.
  const fresh = { CDKTF_OUTDIR: path.join(work, "fresh-out"), PM_STATE_DIR: path.join(work, "fresh-state"), PM_PLANS_DIR: path.join(work, "fresh-plans") };
  const elsewhere = script(deployScript, ["diff", name], fresh);
  expect(elsewhere.output).toContain(`${name}: no changes`);
  expect(elsewhere.status).toBe(0);
  report("state moved to PostgreSQL; a fresh checkout plans no changes");
});

test("a run holding the state lock is named to the run it blocks; killed midway, the next deploy finishes its work and keeps the data", async () => {
  const sampleTime = Math.floor(Date.now() / 1000) - 2;
  type Query = { data: { result: unknown[] } };
  const samplesAt = async (time: number) => (await getJson<Query>(`${prometheusUrl}/api/v1/query?query=up{job="prometheus"}&time=${time}`)).data.result;
  await poll("a sample before the change", async () => ((await samplesAt(sampleTime)).length ? true : undefined));
  const volume = `${name}-prometheus-data`;
  // A user's file in the data volume: a volume re-created by recovery would lose it.
  const planted = crypto.randomBytes(8).toString("hex");
  docker("run", "--rm", "-v", `${volume}:/data`, "--entrypoint", "/bin/sh", localImages().prometheus, "-c", `echo ${planted} > /data/planted`);

  // A config change replaces Prometheus; its apply is frozen while it holds the lock, once the new
  // container exists: created by the killed run and recorded nowhere, it is what recovery adopts.
  editEnvironment((file) => ({ ...file, retention: { time: "20d" } }));
  const oldPrometheus = docker("inspect", "-f", "{{.Id}}", `${name}-prometheus`);
  const replacing = () => {
    const now = spawnSync("docker", ["inspect", "-f", "{{.Id}}", `${name}-prometheus`], { encoding: "utf8" }).stdout.trim();
    return now !== "" && now !== oldPrometheus;
  };
  const first = await startUntilApplying(["deploy", name, "--auto-approve"], replacing);
  for (const pid of first.pids) process.kill(Number(pid), "SIGSTOP");
  let second: ReturnType<typeof script>;
  try {
    second = script(deployScript, ["deploy", name, "--auto-approve"], { PM_LOCK_TIMEOUT: "2s" });
  } finally {
    // Killed while frozen: what a CI timeout does. Its connection drops, and the lock with it.
    for (const pid of first.pids) process.kill(Number(pid), "SIGKILL");
  }
  expect(second.status).toBe(1);
  expect(second.output).toContain("Error acquiring the state lock");
  expect(second.output).toMatch(new RegExp(`the state lock of ${name} is held by: pm deploy ${name} \\S+ pid \\d+`));
  report(`blocked run told: ${/the state lock of .*/.exec(second.output)?.[0]}`);
  expect(await first.exited).not.toBe(0);
  const left = dockerObjects(name);
  report(`killed mid-apply; on Docker: ${left.containers.join(", ")}`);

  const recovery = run("deploy", name, "--auto-approve");
  const adopted = /adopting what an interrupted run left on Docker[^\n]*\n((?: {2}.+\n)*)/.exec(recovery)?.[1]?.trim() ?? "";
  expect(adopted).toContain(`${name}-prometheus`);
  report(`recovered; adopted: ${adopted.replace(/\n\s*/g, "; ")}`);
  await allHealthy(name);
  expect(docker("exec", `${name}-prometheus`, "cat", "/prometheus/planted")).toBe(planted);
  await poll("Prometheus ready", async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined));
  expect(await samplesAt(sampleTime)).toHaveLength(1);
  expect(run("diff", name)).toContain(`${name}: no changes`);
});

test("a restarted Docker engine brings every container back by its restart policy, and the plan stays empty", async () => {
  // The engine this machine's Docker clients talk to (its pid file is the default one); other
  // engines on the machine, such as the remote-host tests' own, are left alone.
  const pid = Number(fs.readFileSync("/var/run/docker.pid", "utf8"));
  process.kill(pid, "SIGTERM");
  await poll("dockerd to stop", async () => (spawnSync("kill", ["-0", String(pid)]).status !== 0 ? true : undefined), 60_000);
  const restart = spawnSync(path.join(ROOT, "scripts/bootstrap.sh"), ["--docker-only"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  expect(restart.status).toBe(0);
  report("dockerd stopped and started again");
  await allHealthy(name);
  await allHealthy(peer);
  expect(run("diff", name)).toContain(`${name}: no changes`);
});

test("a destroy killed midway is finished by the next destroy, leaving nothing; the peer was never touched", async () => {
  const before = dockerObjects(name).containers.length;
  const destroy = await startUntilApplying(["destroy", name, "--auto-approve"], () => dockerObjects(name).containers.length < before);
  for (const pid of destroy.pids) process.kill(Number(pid), "SIGKILL");
  expect(await destroy.exited).not.toBe(0);
  const left = dockerObjects(name);
  report(`killed mid-destroy; on Docker: ${[...left.containers, ...left.volumes, ...left.networks].join(", ") || "nothing"}`);
  run("destroy", name, "--auto-approve");
  expect(dockerObjects(name)).toEqual({ containers: [], volumes: [], networks: [] });
  expect(identity(peer)).toEqual(peerBefore);
});

/**
 * A remote Docker host for real: a second engine in a network namespace this test makes
 * (scripts/test-docker-host.sh), serving the Docker API over TLS only. The whole stack deploys to
 * it over tcp:// (images sent there as docker save | load, configs arriving by upload), plans no
 * changes the second time, and is destroyed without a trace; a host that cannot be reached
 * stops the deploy in seconds, naming it. The namespace, the engine and its folders are always
 * removed.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import type { EnvironmentFile } from "../../stacks/environment";
import { ENVIRONMENT_LABEL } from "../../stacks/labels";
import { ROOT } from "../helpers/synth";
import { localImages, sequentialSteps } from "./harness";

jest.setTimeout(10 * 60_000);

const runId = crypto.randomBytes(3).toString("hex");
const name = `remote-${runId}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), `pm-${name}-`));
const engineDir = path.join(os.tmpdir(), `pm-${name}-engine`);
const dirs = { environments: path.join(work, "environments"), state: path.join(work, "state"), plans: path.join(work, "plans"), out: path.join(work, "out") };
const scriptEnv = { ...process.env, PM_ENVIRONMENTS_DIR: dirs.environments, PM_STATE_DIR: dirs.state, PM_PLANS_DIR: dirs.plans, CDKTF_OUTDIR: dirs.out, CI: "true" };
const report = (line: string) => process.stdout.write(`e2e remote: ${line}\n`);
const step = sequentialSteps();
let engine: { HOST: string; ADDRESS: string; CERT_PATH: string; SOCKET: string };

function deployScript(...args: string[]) {
  const start = Date.now();
  const result = spawnSync(path.join(ROOT, "scripts/deploy.sh"), args, { cwd: ROOT, env: scriptEnv, encoding: "utf8", timeout: 600_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`, seconds: (Date.now() - start) / 1000 };
}

/** The docker CLI on the remote engine, as a client elsewhere reaches it: over TLS. */
function remoteDocker(...args: string[]): string {
  const result = spawnSync("docker", args, { env: { ...process.env, DOCKER_HOST: engine.HOST, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: engine.CERT_PATH }, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")} on ${engine.HOST}: ${result.stderr}`);
  return result.stdout.trim();
}

const remoteObjects = () => {
  const filter = ["--filter", `label=${ENVIRONMENT_LABEL}=${name}`];
  const list = (...args: string[]) => remoteDocker(...args, ...filter).split("\n").filter(Boolean).sort();
  return { containers: list("ps", "-a", "--format", "{{.Names}}"), volumes: list("volume", "ls", "-q"), networks: list("network", "ls", "--format", "{{.Name}}") };
};

function writeEnvironment(file: string, host: string) {
  const images = localImages();
  const environment: EnvironmentFile = {
    name: file,
    docker: { host, certPath: engine.CERT_PATH },
    services: ["prometheus", "alertmanager", "nodeExporter"],
    images: { prometheus: images.prometheus, alertmanager: images.alertmanager, nodeExporter: images.nodeExporter },
  };
  fs.writeFileSync(path.join(dirs.environments, `${file}.yaml`), stringify(environment));
}

beforeAll(() => {
  fs.mkdirSync(dirs.environments, { recursive: true });
  const started = spawnSync(path.join(ROOT, "scripts/test-docker-host.sh"), ["start", engineDir], { encoding: "utf8" });
  if (started.status !== 0) throw new Error(`the second Docker engine did not start:\n${started.stderr}`);
  engine = Object.fromEntries(started.stdout.trim().split("\n").map((line) => line.split("=", 2))) as typeof engine;
  report(`second engine at ${engine.HOST} (TLS), in a network namespace of its own`);
  writeEnvironment(name, engine.HOST);
});

afterAll(() => {
  spawnSync(path.join(ROOT, "scripts/test-docker-host.sh"), ["stop", engineDir]);
  fs.rmSync(work, { recursive: true, force: true });
  const left = [fs.existsSync(engineDir) && engineDir, spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.includes("pmh-") && "a pmh- namespace"].filter(Boolean);
  report(`cleanup: ${left.length ? `LEFT ${left.join(", ")}` : "no namespace, engine or folder left"}`);
});

test("the whole stack deploys to the remote engine over TLS and is healthy there", () =>
  step(async () => {
    const run = deployScript("deploy", name, "--auto-approve");
    if (run.status !== 0) throw new Error(run.output);
    expect(run.output).toContain("sent to the Docker host:");
    expect(run.output).toMatch(new RegExp(`^\\s+protocol-monitoring-local/prometheus:\\S+ → ${engine.HOST}$`, "m"));
    const objects = remoteObjects();
    expect(objects.containers).toEqual([`${name}-alertmanager`, `${name}-node-exporter`, `${name}-prometheus`]);
    for (const container of objects.containers) {
      expect(`${container} ${remoteDocker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", container)}`).toBe(`${container} running healthy`);
    }
    // The config arrived by upload: it is in the container on the remote engine.
    expect(remoteDocker("exec", `${name}-prometheus`, "cat", "/etc/prometheus/prometheus.yml")).toContain(`environment: ${name}`);
    report(`deployed to ${engine.HOST} in ${run.seconds.toFixed(0)} s: ${objects.containers.join(", ")} healthy`);
  }));

test("a second plan shows no changes", () =>
  step(async () => {
    const run = deployScript("diff", name);
    expect(run.output).toContain(`${name}: no changes`);
  }));

test("a Docker host that cannot be reached stops the deploy in seconds, naming it", () =>
  step(async () => {
    const unreachable = `${name}-gone`;
    // The second engine's own address, on a port nothing listens on: no traffic leaves this test's namespace.
    writeEnvironment(unreachable, `tcp://${engine.ADDRESS}:1`);
    const run = deployScript("deploy", unreachable, "--auto-approve");
    expect(run.status).toBe(1);
    expect(run.output).toContain(`the Docker host tcp://${engine.ADDRESS}:1 cannot be reached`);
    expect(run.output).not.toMatch(/panic|goroutine/);
    report(`unreachable host named after ${run.seconds.toFixed(1)} s`);
  }));

test("destroy leaves nothing of the environment on the remote engine", () =>
  step(async () => {
    const run = deployScript("destroy", name, "--auto-approve");
    if (run.status !== 0) throw new Error(run.output);
    expect(remoteObjects()).toEqual({ containers: [], volumes: [], networks: [] });
  }));

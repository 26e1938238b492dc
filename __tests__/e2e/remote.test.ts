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
import { stringify } from "yaml";
import type { EnvironmentFile } from "../../stacks/environment";
import { deployScript, localImages, sequentialSteps, startTestDockerHost, stopTestDockerHost, type TestDockerHost } from "./harness";

jest.setTimeout(10 * 60_000);

const runId = crypto.randomBytes(3).toString("hex");
const name = `remote-${runId}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), `pm-${name}-`));
const engineDir = path.join(os.tmpdir(), `pm-${name}-engine`);
const dirs = { environments: path.join(work, "environments"), state: path.join(work, "state"), plans: path.join(work, "plans"), out: path.join(work, "out") };
const scriptEnv = { ...process.env, PM_ENVIRONMENTS_DIR: dirs.environments, PM_STATE_DIR: dirs.state, PM_PLANS_DIR: dirs.plans, CDKTF_OUTDIR: dirs.out, CI: "true" };
const report = (line: string) => process.stdout.write(`e2e remote: ${line}\n`);
const step = sequentialSteps();
let engine: TestDockerHost;

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
  engine = startTestDockerHost(engineDir);
  report(`second engine at ${engine.HOST} (TLS), in a network namespace of its own`);
  writeEnvironment(name, engine.HOST);
});

afterAll(() => {
  const left = stopTestDockerHost(engineDir);
  fs.rmSync(work, { recursive: true, force: true });
  report(`cleanup: ${left.length ? `LEFT ${left.join(", ")}` : "no namespace, engine or folder left"}`);
});

test("the whole stack deploys to the remote engine over TLS and is healthy there", () =>
  step(async () => {
    const run = deployScript(scriptEnv, ["deploy", name, "--auto-approve"]);
    if (run.status !== 0) throw new Error(run.output);
    expect(run.output).toContain("sent to the Docker host:");
    expect(run.output).toMatch(new RegExp(`^\\s+protocol-monitoring-local/prometheus:\\S+ → ${engine.HOST}$`, "m"));
    const objects = engine.objects(name);
    expect(objects.containers).toEqual([`${name}-alertmanager`, `${name}-node-exporter`, `${name}-prometheus`]);
    for (const container of objects.containers) {
      expect(`${container} ${engine.docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", container)}`).toBe(`${container} running healthy`);
    }
    // The config arrived by upload: it is in the container on the remote engine.
    expect(engine.docker("exec", `${name}-prometheus`, "cat", "/etc/prometheus/prometheus.yml")).toContain(`environment: ${name}`);
    report(`deployed to ${engine.HOST} in ${run.seconds.toFixed(0)} s: ${objects.containers.join(", ")} healthy`);
  }));

test("a second plan shows no changes", () =>
  step(async () => {
    const run = deployScript(scriptEnv, ["diff", name]);
    expect(run.output).toContain(`${name}: no changes`);
  }));

test("a Docker host that cannot be reached stops the deploy in seconds, naming it", () =>
  step(async () => {
    const unreachable = `${name}-gone`;
    // The second engine's own address, on a port nothing listens on: no traffic leaves this test's namespace.
    writeEnvironment(unreachable, `tcp://${engine.ADDRESS}:1`);
    const run = deployScript(scriptEnv, ["deploy", unreachable, "--auto-approve"]);
    expect(run.status).toBe(1);
    expect(run.output).toContain(`the Docker host tcp://${engine.ADDRESS}:1 cannot be reached`);
    expect(run.output).not.toMatch(/panic|goroutine/);
    report(`unreachable host named after ${run.seconds.toFixed(1)} s`);
  }));

test("destroy leaves nothing of the environment on the remote engine", () =>
  step(async () => {
    const run = deployScript(scriptEnv, ["destroy", name, "--auto-approve"]);
    if (run.status !== 0) throw new Error(run.output);
    expect(engine.objects(name)).toEqual({ containers: [], volumes: [], networks: [] });
  }));

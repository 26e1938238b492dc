/**
 * A remote Docker host for real: a second engine in a network namespace this test makes
 * (scripts/test-docker-host.sh), serving the Docker API over TLS and over SSH. The whole stack
 * deploys to it over tcp:// (images sent there as docker save | load, configs arriving by upload),
 * plans no changes the second time, and is destroyed without a trace; then the same over ssh://
 * with the key and known host given as sshOpts (without them the host is refused); a host that
 * cannot be reached stops the deploy in seconds, naming it. The namespace, the engine, its sshd
 * and its folders are always removed.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import type { EnvironmentFile } from "../../stacks/environment";
import { deployScript, localImages, sequentialSteps, startTestDockerHost, stopTestDockerHost, workspace, type TestDockerHost } from "./harness";

jest.setTimeout(10 * 60_000);

const runId = crypto.randomBytes(3).toString("hex");
const name = `remote-${runId}`;
const { work, dirs, variables } = workspace(name);
const engineDir = path.join(os.tmpdir(), `pm-${name}-engine`);
const scriptEnv = { ...process.env, ...variables, CI: "true" };
const report = (line: string) => process.stdout.write(`e2e remote: ${line}\n`);
const step = sequentialSteps();
let engine: TestDockerHost;

function writeEnvironment(file: string, docker: EnvironmentFile["docker"]) {
  const images = localImages();
  const environment: EnvironmentFile = {
    name: file,
    docker,
    services: ["prometheus", "alertmanager", "nodeExporter"],
    images: { prometheus: images.prometheus, alertmanager: images.alertmanager, nodeExporter: images.nodeExporter },
  };
  fs.writeFileSync(path.join(dirs.environments, `${file}.yaml`), stringify(environment));
}

beforeAll(() => {
  fs.mkdirSync(dirs.environments, { recursive: true });
  engine = startTestDockerHost(engineDir);
  report(`second engine at ${engine.HOST} (TLS), in a network namespace of its own`);
  writeEnvironment(name, { host: engine.HOST, certPath: engine.CERT_PATH });
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
    writeEnvironment(unreachable, { host: `tcp://${engine.ADDRESS}:1`, certPath: engine.CERT_PATH });
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

test("over SSH, with the key and the known host as sshOpts, the stack deploys healthy, plans no changes and is destroyed without a trace", () =>
  step(async () => {
    const viaSsh = `${name}-ssh`;
    // Without the key and the known host it is refused (never prompting): they are what reach it.
    writeEnvironment(viaSsh, { host: engine.SSH_HOST, sshOpts: ["-o", "BatchMode=yes"] });
    const refused = deployScript(scriptEnv, ["deploy", viaSsh, "--auto-approve"]);
    expect(refused.status).toBe(1);
    expect(refused.output).toContain(`the Docker host ${engine.SSH_HOST} cannot be reached`);

    const sshOpts = ["-i", engine.SSH_KEY, "-o", `UserKnownHostsFile=${engine.SSH_KNOWN_HOSTS}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"];
    writeEnvironment(viaSsh, { host: engine.SSH_HOST, sshOpts });
    const deployed = deployScript(scriptEnv, ["deploy", viaSsh, "--auto-approve"]);
    if (deployed.status !== 0) throw new Error(deployed.output);
    const objects = engine.objects(viaSsh);
    expect(objects.containers).toEqual([`${viaSsh}-alertmanager`, `${viaSsh}-node-exporter`, `${viaSsh}-prometheus`]);
    for (const container of objects.containers) {
      expect(`${container} ${engine.docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", container)}`).toBe(`${container} running healthy`);
    }
    expect(engine.docker("exec", `${viaSsh}-prometheus`, "cat", "/etc/prometheus/prometheus.yml")).toContain(`environment: ${viaSsh}`);
    expect(deployScript(scriptEnv, ["diff", viaSsh]).output).toContain(`${viaSsh}: no changes`);

    const destroyed = deployScript(scriptEnv, ["destroy", viaSsh, "--auto-approve"]);
    if (destroyed.status !== 0) throw new Error(destroyed.output);
    expect(engine.objects(viaSsh)).toEqual({ containers: [], volumes: [], networks: [] });
    report(`over ${engine.SSH_HOST}: refused without sshOpts after ${refused.seconds.toFixed(1)} s; deployed in ${deployed.seconds.toFixed(0)} s, destroyed in ${destroyed.seconds.toFixed(0)} s`);
  }));

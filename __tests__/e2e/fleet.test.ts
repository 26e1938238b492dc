/**
 * A fleet for real: the stack runs on this machine's engine, and its fleet (hosts:) holds a second
 * engine in a network namespace this test makes (scripts/test-docker-host.sh), reached over
 * tcp:// with TLS. One deploy puts a Node Exporter on both; Prometheus, on the local engine's
 * bridge, scrapes the remote one across the veth at the second engine's address, over HTTPS with
 * basic auth (the environment's CA; TF_VAR_fleet_scrape_password). Prometheus and Alertmanager
 * run with webAuth (HTTPS, basic auth). A second plan is empty; the remote host's TargetDown goes
 * pending when its exporter stops; destroy leaves nothing on either engine; the namespace, the
 * engine and the folders are always removed.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import type { EnvironmentFile } from "../../stacks/environment";
import { deployScript, dockerObjects, localImages, poll, removeEverything, request, reservePorts, sequentialSteps, startTestDockerHost, stopTestDockerHost, workspace, type TestDockerHost } from "./harness";

jest.setTimeout(10 * 60_000);

const runId = crypto.randomBytes(3).toString("hex");
const name = `fleet-${runId}`;
const { work, dirs, variables } = workspace(name);
const engineDir = path.join(os.tmpdir(), `pm-${name}-engine`);
const secrets = { TF_VAR_web_password: crypto.randomBytes(18).toString("hex"), TF_VAR_fleet_scrape_password: crypto.randomBytes(18).toString("hex") };
const scriptEnv = { ...process.env, ...variables, CI: "true", ...secrets };
const report = (line: string) => process.stdout.write(`e2e fleet: ${line}\n`);
const step = sequentialSteps(name);
const timings: Record<string, number> = {};
let engine: TestDockerHost;
let ports: { prometheus: number; alertmanager: number };
let ca = "";

const admin = { user: "admin", password: secrets.TF_VAR_web_password };
const scraper = { user: "prometheus", password: secrets.TF_VAR_fleet_scrape_password };
async function prometheusApi<T>(query: string): Promise<T> {
  const response = await request(`https://127.0.0.1:${ports.prometheus}/api/v1/${query}`, { ca, auth: admin });
  if (response.status !== 200) throw new Error(`Prometheus ${query}: HTTP ${response.status} ${response.body}`);
  return (JSON.parse(response.body) as { data: T }).data;
}

beforeAll(async () => {
  fs.mkdirSync(dirs.environments, { recursive: true });
  engine = startTestDockerHost(engineDir);
  report(`second engine at ${engine.HOST} (TLS), in a network namespace of its own`);
  const reserved = await reservePorts(2);
  await reserved.release(); // the first deploy is the next test
  const [prometheus, alertmanager] = reserved.ports;
  ports = { prometheus, alertmanager };
  const images = localImages();
  const environment: EnvironmentFile = {
    name,
    services: ["prometheus", "alertmanager", "nodeExporter", "blackbox"],
    images: { prometheus: images.prometheus, alertmanager: images.alertmanager, nodeExporter: images.nodeExporter, blackbox: images.blackbox },
    ports,
    webAuth: { enabled: true },
    scrape: { interval: "5s", evaluationInterval: "5s" },
    docker: { name: "here" },
    hosts: [{ name: "edge", docker: { host: engine.HOST, certPath: engine.CERT_PATH }, address: engine.ADDRESS }],
  };
  fs.writeFileSync(path.join(dirs.environments, `${name}.yaml`), stringify(environment));
});

afterAll(() => {
  removeEverything(name);
  const left = stopTestDockerHost(engineDir);
  fs.rmSync(work, { recursive: true, force: true });
  report(`cleanup: ${left.length ? `LEFT ${left.join(", ")}` : "no namespace, engine or folder left"}`);
  report(`timings: ${Object.entries(timings).map(([label, seconds]) => `${label} ${seconds.toFixed(1)} s`).join(", ")}`);
});

test("one deploy puts the stack here and a Node Exporter on the remote engine, healthy", () =>
  step(async () => {
    const run = deployScript(scriptEnv, ["deploy", name, "--auto-approve"]);
    timings.deploy = run.seconds;
    if (run.status !== 0) throw new Error(run.output);
    expect(run.output).toMatch(new RegExp(`^\\s+protocol-monitoring-local/node-exporter:\\S+ → edge \\(${engine.HOST}\\)$`, "m"));
    expect(dockerObjects(name).containers).toEqual([`${name}-alertmanager`, `${name}-blackbox`, `${name}-node-exporter`, `${name}-prometheus`]);
    expect(engine.objects(name)).toEqual({ containers: [`${name}-node-exporter-edge`], volumes: [], networks: [`${name}-monitoring`] });
    expect(engine.docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", `${name}-node-exporter-edge`)).toBe("running healthy");
    // Published on the host's address only.
    expect(engine.docker("port", `${name}-node-exporter-edge`)).toBe(`9100/tcp -> ${engine.ADDRESS}:9100`);
    ca = spawnSync("docker", ["exec", `${name}-prometheus`, "cat", "/etc/prometheus/secrets/ca.pem"], { encoding: "utf8" }).stdout;
    expect(ca).toContain("BEGIN CERTIFICATE");
    report(`deployed in ${run.seconds.toFixed(0)} s: the stack here, node-exporter-edge on ${engine.HOST}`);
  }));

test("Prometheus scrapes both hosts' exporters, labelled with their names", () =>
  step(async () => {
    const start = Date.now();
    type Series = { metric: Record<string, string>; value: [number, string] };
    const up = await poll("both Node Exporters up", async () => {
      const result = await prometheusApi<{ result: Series[] }>(`query?query=${encodeURIComponent('up{job="node"}')}`);
      return result.result.length === 2 && result.result.every((s) => s.value[1] === "1") ? result.result : undefined;
    });
    expect(up.map((s) => [s.metric.host, s.metric.instance]).sort()).toEqual([
      ["edge", "edge"],
      ["here", "node-exporter:9100"],
    ]);
    // The remote one reports the remote engine's kernel view: a node metric under its name.
    const load = await prometheusApi<{ result: Series[] }>(`query?query=${encodeURIComponent('node_load1{host="edge"}')}`);
    expect(load.result).toHaveLength(1);
    timings.bothUp = (Date.now() - start) / 1000;
    report(`both exporters up in Prometheus after ${timings.bothUp.toFixed(1)} s (a container on this engine's bridge reaches ${engine.ADDRESS})`);
  }));

test("the remote exporter serves only HTTPS, and only with the scrape password", () =>
  step(async () => {
    const url = `https://${engine.ADDRESS}:9100/metrics`;
    expect((await request(url, { ca })).status).toBe(401);
    expect((await request(url, { ca, auth: { user: "prometheus", password: "not-the-password" } })).status).toBe(401);
    const ok = await request(url, { ca, auth: scraper });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("node_cpu_seconds_total");
    // Plain HTTP gets no metrics (the toolkit answers 400 to HTTP on its TLS port).
    const plain = await request(`http://${engine.ADDRESS}:9100/metrics`);
    expect(plain.status).not.toBe(200);
    expect(plain.body).not.toContain("node_cpu_seconds_total");
    report(`remote exporter: 401 without or with a wrong password, 200 with it, plain HTTP ${plain.status || "refused"}`);
  }));

test("Prometheus and Alertmanager ask for the web password (webAuth), over HTTPS only", () =>
  step(async () => {
    for (const [service, port] of Object.entries(ports)) {
      expect(`${service} ${(await request(`https://127.0.0.1:${port}/-/ready`, { ca })).status}`).toBe(`${service} 401`);
      expect(`${service} ${(await request(`https://127.0.0.1:${port}/-/ready`, { ca, auth: admin })).status}`).toBe(`${service} 200`);
      const plain = await request(`http://127.0.0.1:${port}/-/ready`, { auth: admin });
      expect(plain.status).not.toBe(200);
    }
    // Prometheus reaches Alertmanager with the same credentials.
    const alertmanagers = await prometheusApi<{ activeAlertmanagers: { url: string }[] }>("alertmanagers");
    expect(alertmanagers.activeAlertmanagers.map((a) => a.url)).toEqual(["https://alertmanager:9093/api/v2/alerts"]);
    // The blackbox exporter probes both over HTTPS as the web user, checking the CA.
    type Series = { metric: Record<string, string>; value: [number, string] };
    const probed = await poll("HTTPS probes of Prometheus and Alertmanager succeed", async () => {
      const { result } = await prometheusApi<{ result: Series[] }>(`query?query=${encodeURIComponent('probe_success{service=~"prometheus|alertmanager"}')}`);
      return result.length === 2 && result.every((s) => s.value[1] === "1") ? result : undefined;
    });
    report(`webAuth: 401 without the password, 200 with it; probes ${probed.map((s) => s.metric.url).sort().join(", ")} succeed`);
  }));

test("a second plan shows no changes", () =>
  step(async () => {
    const run = deployScript(scriptEnv, ["diff", name]);
    timings.noopPlan = run.seconds;
    expect(run.output).toContain(`${name}: no changes`);
  }));

test("the remote host's TargetDown goes pending when its exporter stops", () =>
  step(async () => {
    const start = Date.now();
    engine.docker("stop", `${name}-node-exporter-edge`);
    type Alert = { labels: Record<string, string>; state: string };
    const alert = await poll("TargetDown for edge", async () => {
      const { alerts } = await prometheusApi<{ alerts: Alert[] }>("alerts");
      return alerts.find((a) => a.labels.alertname === "TargetDown" && a.labels.instance === "edge");
    });
    expect(alert).toMatchObject({ state: "pending", labels: { host: "edge", job: "node", severity: "warning" } });
    timings.targetDownPending = (Date.now() - start) / 1000;
    report(`TargetDown{instance="edge"} pending ${timings.targetDownPending.toFixed(1)} s after the remote exporter stopped`);
  }));

test("destroy leaves nothing on either engine", () =>
  step(async () => {
    const run = deployScript(scriptEnv, ["destroy", name, "--auto-approve"]);
    timings.destroy = run.seconds;
    if (run.status !== 0) throw new Error(run.output);
    expect(dockerObjects(name)).toEqual({ containers: [], volumes: [], networks: [] });
    expect(engine.objects(name)).toEqual({ containers: [], volumes: [], networks: [] });
  }));

/**
 * A remote Docker host for real: a second engine in a network namespace this test makes
 * (scripts/test-docker-host.sh), serving the Docker API over TLS and over SSH. The whole stack
 * deploys to it over tcp:// (images sent there as docker save | load, configs arriving by upload),
 * published on that engine's own address (beyond loopback, so with webAuth): every published port
 * refuses plain HTTP and requests without credentials, and serves with them. It plans no changes
 * the second time, and is destroyed without a trace; then the same over ssh://
 * with the key and known host given as sshOpts (without them the host is refused); a host that
 * cannot be reached stops the deploy in seconds, naming it. The namespace, the engine, its sshd
 * and its folders are always removed.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { stringify } from "yaml";
import type { EnvironmentFile } from "../../stacks/environment";
import { SECRET_NAMES } from "../../stacks/secrets";
import { SERVICES } from "../../stacks/services";
import { sendLocalImages } from "../../scripts/docker-host";
import { deployScript, localImages, poll, request, sequentialSteps, stackImages, startTestDockerHost, stopTestDockerHost, workspace, type TestDockerHost } from "./harness";

jest.setTimeout(10 * 60_000);

const runId = crypto.randomBytes(3).toString("hex");
const name = `remote-${runId}`;
const { work, dirs, variables } = workspace(name);
const engineDir = path.join(os.tmpdir(), `pm-${name}-engine`);
// Every secret a recognisable random value of this run only.
const secrets = Object.fromEntries(SECRET_NAMES.map((n) => [`TF_VAR_${n}`, `e2e-${crypto.randomBytes(16).toString("hex")}`]));
secrets.TF_VAR_slack_webhook_url = "https://hooks.slack.invalid/e2e";
const scriptEnv = { ...process.env, ...variables, ...secrets, PM_ALLOW_STANDINS: "1", CI: "true" };
/** What the whole stack runs here: every service but cAdvisor, which publishes nothing and watches the host's own cgroups. */
const WHOLE_STACK = SERVICES.map((service) => service.name).filter((service) => service !== "cadvisor");
const report = (line: string) => process.stdout.write(`e2e remote: ${line}\n`);
const step = sequentialSteps();
let engine: TestDockerHost;

function writeEnvironment(file: string, docker: EnvironmentFile["docker"], whole?: { readonly bindAddress: string }) {
  const images = localImages();
  const environment: EnvironmentFile = whole
    ? { name: file, docker, bindAddress: whole.bindAddress, webAuth: { enabled: true }, services: WHOLE_STACK, images: stackImages() }
    : {
        name: file,
        docker,
        services: ["prometheus", "alertmanager", "nodeExporter"],
        images: { prometheus: images.prometheus, alertmanager: images.alertmanager, nodeExporter: images.nodeExporter },
      };
  fs.writeFileSync(path.join(dirs.environments, `${file}.yaml`), stringify(environment));
}

/** The environment's outputs, from its state file (the CA, Logstash's client certificate and key). */
function outputs(file: string): Record<string, string> {
  const state = JSON.parse(fs.readFileSync(path.join(dirs.state, `${file}.tfstate`), "utf8")) as { outputs: Record<string, { value: string }> };
  return Object.fromEntries(Object.entries(state.outputs).map(([key, output]) => [key, output.value]));
}

/** Sends one JSON line to Logstash's TCP input over TLS (a client certificate or none); the error that refused it, if any. */
function sendLog(port: number, ca: string, line: string, client?: { cert: string; key: string }): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: engine.ADDRESS, port, ca, servername: undefined, checkServerIdentity: () => undefined, ...client }, () => {
      socket.write(`${line}\n`);
      // TLS 1.3: a refused client certificate shows after the handshake, on the first read.
      setTimeout(() => {
        socket.end();
        resolve(undefined);
      }, 500);
    });
    socket.on("error", (error) => resolve(error.message));
  });
}

beforeAll(() => {
  fs.mkdirSync(dirs.environments, { recursive: true });
  engine = startTestDockerHost(engineDir);
  report(`second engine at ${engine.HOST} (TLS), in a network namespace of its own`);
  writeEnvironment(name, { host: engine.HOST, certPath: engine.CERT_PATH }, { bindAddress: engine.ADDRESS });
  // The stand-ins are no local builds that deploy sends: the remote host has them already, as it would pull the real images.
  const standins = Object.values(stackImages()).filter((reference) => reference.endsWith(":standin"));
  report(`stand-ins loaded on the second engine: ${sendLocalImages({ host: engine.HOST, certPath: engine.CERT_PATH }, standins).join(", ")}`);
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
    expect(objects.containers).toEqual(expect.arrayContaining([`${name}-alertmanager`, `${name}-grafana`, `${name}-kibana`, `${name}-logstash`, `${name}-prometheus`]));
    for (const container of objects.containers) {
      expect(`${container} ${engine.docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", container)}`).toBe(`${container} running healthy`);
    }
    // The config arrived by upload: it is in the container on the remote engine.
    expect(engine.docker("exec", `${name}-prometheus`, "cat", "/etc/prometheus/prometheus.yml")).toContain(`environment: ${name}`);
    report(`deployed to ${engine.HOST} in ${run.seconds.toFixed(0)} s: ${objects.containers.length} containers healthy`);
  }));

test("published beyond loopback, every port refuses plain HTTP and requests without credentials, and serves with them", () =>
  step(async () => {
    const { ca_pem: ca, logstash_client_certificate: clientCert, logstash_client_key: clientKey } = outputs(name);
    expect(ca).toContain("BEGIN CERTIFICATE");
    const secret = (name: string) => secrets[`TF_VAR_${name}`];
    // Each published UI or API: a path that needs a login, and the login it takes.
    const endpoints = [
      { service: "prometheus", port: 9090, path: "/api/v1/status/buildinfo", auth: { user: "admin", password: secret("web_password") } },
      { service: "alertmanager", port: 9093, path: "/api/v2/status", auth: { user: "admin", password: secret("web_password") } },
      { service: "grafana", port: 3000, path: "/api/search", auth: { user: "admin", password: secret("grafana_admin_password") } },
      { service: "elasticsearch", port: 9200, path: "/_cluster/health", auth: { user: "elastic", password: secret("elastic_password") } },
      { service: "kibana", port: 5601, path: "/app/home", auth: { user: "elastic", password: secret("elastic_password") } },
    ];
    const seen: string[] = [];
    for (const { service, port, path: at, auth } of endpoints) {
      const url = `https://${engine.ADDRESS}:${port}${at}`;
      const plain = await request(url.replace("https:", "http:"), { ca, auth });
      expect(`${service} plain HTTP: ${plain.status}`).toMatch(new RegExp(`^${service} plain HTTP: (0|400)$`));
      expect(`${service} without credentials: ${(await request(url, { ca })).status}`).toBe(`${service} without credentials: 401`);
      expect(`${service} with a wrong password: ${(await request(url, { ca, auth: { ...auth, password: "not-the-password" } })).status}`).toBe(`${service} with a wrong password: 401`);
      const served = await request(url, { ca, auth });
      expect(`${service} with credentials: ${served.status}`).toBe(`${service} with credentials: 200`);
      seen.push(`${service} (plain ${plain.status || "reset"})`);
    }
    // Logstash's TCP input: TLS with a client certificate of the environment's CA, nothing else.
    // (One word each: the stand-in's query string search matches words.)
    const [withCertificate, without] = [`remote${runId}withcert`, `remote${runId}nocert`];
    expect(await sendLog(5000, ca, JSON.stringify({ service: without }))).toMatch(/certificate/);
    expect(await sendLog(5000, ca, JSON.stringify({ service: withCertificate }), { cert: clientCert, key: clientKey })).toBeUndefined();
    const elastic = { user: "elastic", password: secret("elastic_password") };
    const count = async (service: string) => {
      const found = await request(`https://${engine.ADDRESS}:9200/protocol-logs-*/_count?q=service:${service}`, { ca, auth: elastic });
      return found.status === 200 ? (JSON.parse(found.body) as { count: number }).count : -1;
    };
    await poll("the log sent with the client certificate is indexed", async () => ((await count(withCertificate)) === 1 ? true : undefined));
    expect(await count(without)).toBe(0);
    // Inside, every client checks the CA and logs in: the blackbox exporter's probes of each published service succeed.
    type Series = { metric: Record<string, string>; value: [number, string] };
    const query = encodeURIComponent('probe_success{job="blackbox"}');
    const probed = await poll("every published service's HTTPS probe succeeds", async () => {
      const answer = await request(`https://${engine.ADDRESS}:9090/api/v1/query?query=${query}`, { ca, auth: { user: "admin", password: secret("web_password") } });
      if (answer.status !== 200) return undefined;
      const series = (JSON.parse(answer.body) as { data: { result: Series[] } }).data.result;
      return series.length >= 6 && series.every((s) => s.value[1] === "1") ? series : undefined;
    });
    // GELF over UDP carries neither TLS nor a login: published on the engine's loopback only.
    expect(engine.docker("port", `${name}-logstash`, "12201/udp")).toBe(`127.0.0.1:5000`);
    report(`beyond loopback on ${engine.ADDRESS}: ${seen.join(", ")}: 401 without or with a wrong login, 200 with it; Logstash took TLS with a client certificate only; probes ${probed.map((s) => s.metric.url).sort().join(", ")} succeed`);
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

/**
 * The Protocol path, end to end: the simulated Protocol services (testing/protocol-sim) scraped by
 * a deployed stack, each Protocol alert driven by a failure mode on live data, notifications
 * delivered to a sink standing in for PagerDuty, Slack, a mail relay and the heartbeat service (over TLS, with
 * a CA the environment gives Alertmanager), every dashboard query answered, and a service's
 * structured log found in Elasticsearch after Docker's gelf driver shipped it through Logstash.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import type { EnvironmentFile } from "../../stacks/environment";
import { ROOT } from "../helpers/synth";
import { EXPECTED_EMPTY, liveDashboardQueries } from "../helpers/dashboards";
import { docker, dockerObjects, getJson, hostGatewayAddress, localImages, poll, printLogs, removeEverything, reservePorts, sequentialSteps, sh, stackImages, workspace, type PortReservation } from "./harness";

jest.setTimeout(15 * 60_000);

const runId = crypto.randomBytes(3).toString("hex");
const name = `proto-${runId}`;
const { work, dirs: workDirs, variables } = workspace(name);
const dirs = { ...workDirs, tls: path.join(work, "tls") };
const simulator = `${name}-protocol-sim`;
const sink = `${name}-notification-sink`;
const SINK_HOST = "notification-sink";
const report = (line: string) => process.stdout.write(`e2e protocol: ${line}\n`);

const secrets = {
  TF_VAR_grafana_admin_password: `e2e-${crypto.randomBytes(12).toString("hex")}`,
  TF_VAR_elastic_password: `e2e-${crypto.randomBytes(12).toString("hex")}`,
  TF_VAR_kibana_system_password: `e2e-${crypto.randomBytes(12).toString("hex")}`,
  TF_VAR_logstash_writer_password: `e2e-${crypto.randomBytes(12).toString("hex")}`,
  TF_VAR_grafana_es_password: `e2e-${crypto.randomBytes(12).toString("hex")}`,
  TF_VAR_elasticsearch_monitor_password: `e2e-${crypto.randomBytes(12).toString("hex")}`,
  TF_VAR_kibana_encryption_key: crypto.randomBytes(24).toString("hex"),
  TF_VAR_pagerduty_routing_key: crypto.randomBytes(16).toString("hex"),
  TF_VAR_slack_webhook_url: `https://${SINK_HOST}:8443/services/T0E2E/B0E2E/e2e`,
  TF_VAR_heartbeat_url: `https://${SINK_HOST}:8443/heartbeat/${runId}`,
  TF_VAR_smtp_password: `e2e-${crypto.randomBytes(12).toString("hex")}`,
};
/** The login the sink's mail relay accepts (its password is TF_VAR_smtp_password). */
const SMTP_USER = "alertmanager";
const scriptEnv = { ...process.env, ...secrets, ...variables, PM_ALLOW_STANDINS: "1", CI: "true" };

const STACK_PORTS = ["prometheus", "alertmanager", "grafana", "elasticsearch", "logstash", "kibana"] as const;
/**
 * The simulated Protocol services, published on 127.0.0.1 and on the Docker host's gateway, then
 * the simulator's control API and the sink's (127.0.0.1): all bound by the `docker run`s after the deploy.
 */
const PROTOCOL_PORTS = ["registryA", "registryB", "teg", "spire", "agent", "x509", "control", "sinkApi"] as const;
type Ports = Record<(typeof STACK_PORTS)[number] | (typeof PROTOCOL_PORTS)[number], number>;
let ports: Ports;
/** Where containers reach the Docker host (host.docker.internal), as the stack's containers resolve it. */
let gateway: string;
let stackPorts: PortReservation;
let protocolPorts: PortReservation;
const url = (port: number, suffix: string) => `http://127.0.0.1:${port}${suffix}`;

function deployScript(...args: string[]) {
  const result = spawnSync(path.join(ROOT, "scripts/cli.sh"), args, { cwd: ROOT, env: scriptEnv, encoding: "utf8", timeout: 600_000 });
  if (result.status !== 0) {
    printLogs(name);
    throw new Error(`cli.sh ${args.join(" ")} exited ${result.status}:\n${result.stdout}${result.stderr}`);
  }
  return `${result.stdout}${result.stderr}`;
}

async function mode(service: string, failure: string, on: boolean) {
  const response = await fetch(url(ports.control, `/modes/${service}/${failure}`), { method: on ? "POST" : "DELETE" });
  if (!response.ok) throw new Error(`${on ? "switching on" : "switching off"} ${service}/${failure}: HTTP ${response.status}`);
}

type RuleAlert = { labels: Record<string, string>; state: string };
type Rules = { data: { groups: { rules: { name: string; type: string; labels?: Record<string, string>; alerts?: RuleAlert[] }[] }[] } };
async function activeAlerts(): Promise<Map<string, RuleAlert[]>> {
  const { data } = await getJson<Rules>(url(ports.prometheus, "/api/v1/rules?type=alert"));
  return new Map(data.groups.flatMap((g) => g.rules).map((r) => [r.name, r.alerts ?? []]));
}

type Recorded = { method: string; path: string; json?: Record<string, unknown>; body?: string; tls: boolean };
const step = sequentialSteps(name);
const received = async (prefix: string) => (await getJson<Recorded[]>(url(ports.sinkApi, "/requests"))).filter((r) => r.path.startsWith(prefix));

beforeAll(async () => {
  fs.mkdirSync(dirs.environments, { recursive: true });
  fs.mkdirSync(dirs.tls, { recursive: true });
  const images = localImages();
  gateway = hostGatewayAddress(images.protocolSim);
  // Each port checked on every address it will be published on, and held until then.
  stackPorts = await reservePorts(STACK_PORTS.length);
  protocolPorts = await reservePorts(PROTOCOL_PORTS.length, ["127.0.0.1", gateway]);
  ports = {
    ...Object.fromEntries(STACK_PORTS.map((key, i) => [key, stackPorts.ports[i]])),
    ...Object.fromEntries(PROTOCOL_PORTS.map((key, i) => [key, protocolPorts.ports[i]])),
  } as Ports;
  // A throw-away CA: the sink's certificate names the host Alertmanager reaches it as.
  docker("run", "--rm", "--user", "0", "-v", `${dirs.tls}:/out`, images.protocolSim, "sink", "--make-ca", "/out", "--hosts", SINK_HOST);
  const target = (job: string, port: number, metricsPath?: string) => ({ job, targets: [`host.docker.internal:${port}`], ...(metricsPath ? { metricsPath } : {}) });
  const environment: EnvironmentFile = {
    name,
    images: stackImages(),
    ports: { prometheus: ports.prometheus, alertmanager: ports.alertmanager, grafana: ports.grafana, elasticsearch: ports.elasticsearch, logstash: ports.logstash, kibana: ports.kibana },
    memoryMb: { elasticsearch: 256, logstash: 128, kibana: 128 },
    scrape: {
      interval: "5s",
      evaluationInterval: "5s",
      targets: [
        target("registry_a", ports.registryA),
        target("registry_b", ports.registryB),
        target("teg_layer", ports.teg, "/api/metrics"),
        target("spire_server", ports.spire),
        target("agents", ports.agent),
        target("x509", ports.x509),
      ],
    },
    alerting: {
      pagerduty: true,
      pagerdutyUrl: `https://${SINK_HOST}:8443/v2/enqueue`,
      slack: { channel: "#e2e" },
      heartbeat: true,
      email: { to: "oncall@example.org", from: `alertmanager@${name}.example.org`, smarthost: `${SINK_HOST}:2525`, username: SMTP_USER },
      caFile: path.join(dirs.tls, "ca.pem"),
      timing: { groupWait: "1s", groupInterval: "5s", repeatInterval: "1m" },
      runbookBaseUrl: "https://runbooks.example/protocol-monitoring",
    },
  };
  fs.writeFileSync(path.join(dirs.environments, `${name}.yaml`), stringify(environment));
});

afterAll(async () => {
  await Promise.all([stackPorts?.release(), protocolPorts?.release()]);
  sh("docker", ["rm", "-f", simulator, sink], { allowFailure: true });
  if (dockerObjects(name).containers.length) spawnSync(path.join(ROOT, "scripts/cli.sh"), ["destroy", name, "--auto-approve"], { cwd: ROOT, env: scriptEnv, timeout: 300_000 });
  removeEverything(name);
  fs.rmSync(work, { recursive: true, force: true });
});

test("the stack deploys; the simulated Protocol ships its logs through Docker's gelf driver; the sink listens on the stack's network", () => step(async () => {
  await stackPorts.release();
  deployScript("deploy", name, "--auto-approve");
  const images = localImages();
  // On the Docker host's gateway, where Prometheus finds Protocol services (host.docker.internal),
  // and on 127.0.0.1 for `npm run health`; the control API and the sink's API on 127.0.0.1 only.
  await protocolPorts.release();
  const publish = (port: number, inner: number) => ["-p", `127.0.0.1:${port}:${inner}`, "-p", `${gateway}:${port}:${inner}`];
  docker(
    "run", "-d", "--name", simulator, "--label", `org.protocol-monitoring.test=${name}`,
    ...publish(ports.registryA, 8000), ...publish(ports.registryB, 8001), ...publish(ports.teg, 8080), ...publish(ports.spire, 9988),
    ...publish(ports.agent, 8090), ...publish(ports.x509, 9793), "-p", `127.0.0.1:${ports.control}:8099`,
    "--log-driver", "gelf", "--log-opt", `gelf-address=udp://127.0.0.1:${ports.logstash}`,
    images.protocolSim, "simulate",
  );
  docker(
    "run", "-d", "--name", sink, "--label", `org.protocol-monitoring.test=${name}`, "--network", `${name}-monitoring`, "--network-alias", SINK_HOST,
    "-v", `${dirs.tls}:/tls:ro`, "-p", `127.0.0.1:${ports.sinkApi}:8444`, "--user", "0",
    images.protocolSim, "sink", "--tls-cert", "/tls/cert.pem", "--tls-key", "/tls/key.pem",
    "--smtp", ":2525", "--smtp-user", SMTP_USER, "--smtp-password", secrets.TF_VAR_smtp_password,
  );
  await poll("the simulator's control API", async () => ((await fetch(url(ports.control, "/modes"))).ok ? true : undefined));
}));

test("every Protocol target is up and npm run health shows each Protocol service ok; registry B down is seen by both", () => step(async () => {
  type Targets = { data: { activeTargets: { labels: { job: string }; health: string }[] } };
  const jobs = ["registry_a", "registry_b", "teg_layer", "spire_server", "agents", "x509"];
  const health = async (job: string) => (await getJson<Targets>(url(ports.prometheus, "/api/v1/targets"))).data.activeTargets.find((t) => t.labels.job === job)?.health;
  await poll("every Protocol target up", async () => ((await Promise.all(jobs.map(health))).every((h) => h === "up") ? true : undefined));
  const checks = () => {
    const run = sh("node", [path.join(ROOT, "dist/scripts/cli.js"), "health", name, "--json"], { env: scriptEnv, allowFailure: true });
    if (!run.stdout.trim()) throw new Error(`npm run health printed nothing (exit ${run.status}, signal ${run.signal}, error ${String(run.error)}):\n${run.stderr}\n${JSON.stringify(Object.keys(scriptEnv).filter((k) => k.startsWith("PM_") || k.startsWith("NODE")))}`);
    return { status: run.status, checks: (JSON.parse(run.stdout) as { checks: { name: string; status: string }[] }).checks };
  };
  const before = checks();
  expect(before.checks.filter((c) => jobs.includes(c.name)).map((c) => `${c.name} ${c.status}`).sort()).toEqual(jobs.map((j) => `${j} ok`).sort());
  expect(before.status).toBe(0);

  await mode("registry-b", "down", true);
  const after = checks();
  expect(after.checks.find((c) => c.name === "registry_b")?.status).toBe("degraded");
  expect(after.status).toBe(1);
  await poll("registry_b down in Prometheus", async () => ((await health("registry_b")) === "down" ? true : undefined));
  await mode("registry-b", "down", false);
  await poll("registry_b up again, and its RegistryDown gone", async () =>
    (await health("registry_b")) === "up" && !((await activeAlerts()).get("RegistryDown") ?? []).length ? true : undefined,
  );
  report("registry_b down: npm run health exit 1 and the target down; back up after");
}));

/** Each Protocol alert a failure mode drives, on a service the others leave alone. */
const DRIVEN: { alert: string; service: string; mode: string; job: string }[] = [
  { alert: "RegistryDown", service: "registry-b", mode: "down", job: "registry_b" },
  { alert: "HighResponseTime", service: "registry-a", mode: "slow", job: "registry_a" },
  { alert: "FailedAuthAttempts", service: "registry-a", mode: "auth-failures", job: "registry_a" },
  { alert: "RegistryFederationPeersLow", service: "registry-a", mode: "federation-lost", job: "registry_a" },
  { alert: "LowTreasuryBalance", service: "teg", mode: "treasury-low", job: "teg_layer" },
  { alert: "UnusualTransactionVolume", service: "teg", mode: "transfer-burst", job: "teg_layer" },
  { alert: "CertificateExpiringSoon", service: "spire", mode: "cert-expiry", job: "x509" },
  { alert: "TargetDown", service: "spire", mode: "down", job: "spire_server" },
  { alert: "AgentHighResponseTime", service: "agent", mode: "slow", job: "agents" },
];

test("each failure mode drives its Protocol alert to pending or firing, with the labels its routing needs", () => step(async () => {
  const rules = await activeAlerts();
  for (const { alert, job } of DRIVEN) {
    expect(rules.has(alert)).toBe(true); // loaded for this environment
    expect(`${alert} ${(rules.get(alert) ?? []).filter((a) => a.labels.job === job).length}`).toBe(`${alert} 0`); // silent before
  }
  const started = Date.now();
  for (const d of DRIVEN) await mode(d.service, d.mode, true);
  const seen = new Map<string, number>();
  await poll(
    "every driven alert pending or firing",
    async () => {
      const now = await activeAlerts();
      for (const { alert, job } of DRIVEN) {
        const hit = (now.get(alert) ?? []).find((a) => a.labels.job === job && (a.state === "pending" || a.state === "firing"));
        if (hit && !seen.has(alert)) {
          expect(hit.labels.severity).toMatch(/^(critical|warning|info)$/);
          expect(hit.labels.service).toMatch(/\S/);
          seen.set(alert, (Date.now() - started) / 1000);
        }
      }
      return seen.size === DRIVEN.length ? true : undefined;
    },
    120_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; not seen: ${DRIVEN.filter((d) => !seen.has(d.alert)).map((d) => d.alert).join(", ")}`);
  });
  for (const { alert, service, mode: m } of DRIVEN) report(`${service}/${m} → ${alert} pending after ${seen.get(alert)?.toFixed(0)} s`);
}));

test("every dashboard query returns data from the live stack, but the panels listed as legitimately empty", () => step(async () => {
  type Query = { data: { result: unknown[] } };
  const queries = liveDashboardQueries();
  const empty: string[] = [];
  for (const q of queries) {
    const { data } = await getJson<Query>(url(ports.prometheus, `/api/v1/query?query=${encodeURIComponent(q.expr)}`));
    if (!data.result.length) empty.push(q.where);
  }
  expect(empty.sort()).toEqual(Object.keys(EXPECTED_EMPTY).sort());
  report(`${queries.length} dashboard queries answered; empty by design: ${Object.entries(EXPECTED_EMPTY).map(([where, why]) => `${where} (${why})`).join("; ")}`);
  for (const d of DRIVEN) await mode(d.service, d.mode, false);
}));

test("notifications reach the right receiver: critical → PagerDuty and email with its runbook, warning → Slack, info nowhere; a target's outage mutes only its own warnings; resolved is sent", () => step(async () => {
  const at = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString();
  const alert = (labels: Record<string, string>, endsAt = at(300)) => ({
    labels: { environment: name, ...labels },
    // The summary names the job, as the rules' summaries name the instance: the text shows whose alert it is.
    annotations: { summary: `e2e ${labels.alertname} ${labels.job}`, runbook_url: `https://runbooks.example/protocol-monitoring/${labels.alertname}.md` },
    startsAt: at(-5),
    endsAt,
  });
  const registryA = { job: "registry_a", instance: "registry-a:8000" };
  const registryB = { job: "registry_b", instance: "registry-b:8001" };
  const post = (alerts: unknown[]) => fetch(url(ports.alertmanager, "/api/v2/alerts"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(alerts) });
  const down = alert({ alertname: "RegistryDown", severity: "critical", service: "registry", ...registryA });
  // The outage first, as it happens (a warning it mutes may come with it or after): Alertmanager's
  // inhibitor learns of alerts asynchronously, so warnings posted in the same request can be
  // notified before it knows what mutes them.
  expect((await post([down])).ok).toBe(true);
  await poll("Alertmanager to hold RegistryDown", async () => {
    const active = await getJson<{ labels: Record<string, string> }[]>(url(ports.alertmanager, "/api/v2/alerts?active=true"));
    return active.some((a) => a.labels.alertname === "RegistryDown") || undefined;
  });
  expect(
    (
      await post([
        alert({ alertname: "HighResponseTime", severity: "warning", service: "registry", ...registryA }),
        alert({ alertname: "HighResponseTime", severity: "warning", service: "registry", ...registryB }),
        alert({ alertname: "NewAgentRegistrations", severity: "info", service: "registry", ...registryB }),
      ])
    ).ok,
  ).toBe(true);

  const pagerduty = await poll("PagerDuty to be paged", async () => {
    const events = (await received("/v2/enqueue")).filter((r) => JSON.stringify(r.json).includes("RegistryDown") && (r.json as { event_action?: string }).event_action === "trigger");
    return events.length ? events : undefined;
  });
  expect(pagerduty[0].tls).toBe(true);
  expect(pagerduty[0].json).toMatchObject({ routing_key: secrets.TF_VAR_pagerduty_routing_key });
  expect(JSON.stringify(pagerduty[0].json)).toContain("https://runbooks.example/protocol-monitoring/RegistryDown.md");
  report("critical RegistryDown → PagerDuty (TLS, routing key, runbook link)");

  // The same critical alert by mail: over STARTTLS, logged in, with its runbook link.
  type Mail = { auth: string; from: string; to: string[]; subject: string; text: string };
  const mails = await poll("the critical alert by email", async () => {
    const found = (await received("/smtp")).filter((r) => (r.json as Mail | undefined)?.subject.includes("RegistryDown"));
    return found.length ? found : undefined;
  });
  const mail = mails[0].json as Mail;
  expect(mails[0].tls).toBe(true);
  expect(mail).toMatchObject({ auth: SMTP_USER, from: `alertmanager@${name}.example.org`, to: ["oncall@example.org"] });
  expect(mail.subject).toContain("[FIRING:1] RegistryDown");
  expect(mail.text).toContain("Runbook: https://runbooks.example/protocol-monitoring/RegistryDown.md");
  report("critical RegistryDown → email (STARTTLS, login, runbook link)");

  const slack = await poll("Slack to get registry_b's warning", async () => {
    const posts = (await received("/services/")).filter((r) => JSON.stringify(r.json).includes("HighResponseTime"));
    return posts.some((p) => JSON.stringify(p.json).includes("e2e HighResponseTime registry_b")) ? posts : undefined;
  });
  // registry_a's warning is inhibited by registry_a's outage; registry_b's is not.
  expect(slack.every((p) => !JSON.stringify(p.json).includes("e2e HighResponseTime registry_a"))).toBe(true);
  const inhibited = await getJson<{ labels: Record<string, string>; status: { inhibitedBy: string[] } }[]>(url(ports.alertmanager, "/api/v2/alerts?inhibited=true"));
  expect(inhibited.find((a) => a.labels.alertname === "HighResponseTime" && a.labels.job === "registry_a")?.status.inhibitedBy.length).toBeGreaterThan(0);
  report("warning HighResponseTime (registry_b) → Slack; registry_a's muted by RegistryDown on registry_a");

  expect((await post([{ ...down, endsAt: at(-1) }])).ok).toBe(true);
  await poll("the resolved notification at PagerDuty", async () =>
    (await received("/v2/enqueue")).some((r) => JSON.stringify(r.json).includes("RegistryDown") && (r.json as { event_action?: string }).event_action === "resolve") ? true : undefined,
  );
  report("RegistryDown resolved → PagerDuty resolve event");

  const everything = JSON.stringify(await received("/"));
  expect(everything).not.toContain("NewAgentRegistrations"); // info goes nowhere
  expect(JSON.stringify(await received("/smtp"))).not.toContain("HighResponseTime"); // only critical is mailed
  await poll("the Watchdog at the heartbeat URL", async () => ((await received(`/heartbeat/${runId}`)).length ? true : undefined));
  report("info NewAgentRegistrations → nowhere; Watchdog → heartbeat");
}));

test("a Protocol service's structured log reaches Elasticsearch through Docker's gelf driver and Logstash, its fields parsed", () => step(async () => {
  const auth = `Basic ${Buffer.from(`elastic:${secrets.TF_VAR_elastic_password}`).toString("base64")}`;
  type Hits = { hits: { hits: { _index: string; _source: Record<string, unknown> }[] } };
  const hit = await poll(
    "a registry-a log event in protocol-logs-*",
    async () => {
      // `service` is a text field: registry-a also matches registry-b's events (the tokens are "registry", "a").
      const response = await fetch(url(ports.elasticsearch, "/protocol-logs-*/_search?q=service:registry-a&size=100"), { headers: { authorization: auth } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return ((await response.json()) as Hits).hits.hits.find((h) => h._source.service === "registry-a");
    },
    120_000,
  );
  expect(hit._index).toMatch(/^protocol-logs-\d{4}\.\d{2}\.\d{2}$/);
  expect(hit._source).toMatchObject({ service: "registry-a", level: expect.any(String), event: expect.any(String) });
  report(`log event found in ${hit._index}: ${JSON.stringify({ service: hit._source.service, level: hit._source.level, event: hit._source.event })}`);
}));

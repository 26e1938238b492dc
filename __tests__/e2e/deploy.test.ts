/**
 * End to end, against the local Docker engine with the real engine (OpenTofu or Terraform) and
 * provider. Prometheus, Alertmanager and Node Exporter run their real programs (the catalog's
 * versions, built from Go modules by scripts/build-local-images.sh); Grafana, Elasticsearch,
 * Logstash and Kibana run stand-ins that only answer their health endpoints (no registry here
 * to pull the upstream images from).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as net from "node:net";
import * as path from "node:path";
import { stringify } from "yaml";
import { serviceNamed } from "../../stacks/services";
import type { EnvironmentFile } from "../../stacks/environment";
import { SECRET_NAMES } from "../../stacks/secrets";
import { ASSETS, ROOT } from "../helpers/synth";
import { leaks } from "../../scripts/plan/redact";
import { docker, dockerObjects, fingerprint, getJson, poll, removeEverything, reservePorts, sequentialSteps, sh, stackImages, timed, type PortReservation } from "./harness";

jest.setTimeout(15 * 60_000);

const runId = crypto.randomBytes(3).toString("hex");
const main = `e2e-${runId}`;
const peer = `e2e-${runId}-peer`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), `pm-${main}-`));
const dirs = { environments: path.join(work, "environments"), state: path.join(work, "state"), out: path.join(work, "cdktf.out") };
const timings: Record<string, number> = {};
const engine = process.env.TERRAFORM_BINARY_NAME ?? "terraform";

// Random secrets for this run only, passed the way users pass them.
const secretEnv = Object.fromEntries(SECRET_NAMES.map((n) => [`TF_VAR_${n}`, `e2e-${crypto.randomBytes(16).toString("hex")}`]));
secretEnv.TF_VAR_slack_webhook_url = "https://hooks.slack.invalid/e2e";
const env: NodeJS.ProcessEnv = { ...process.env, ...secretEnv, PM_ENVIRONMENTS_DIR: dirs.environments, PM_STATE_DIR: dirs.state, CHECKPOINT_DISABLE: "1", TF_INPUT: "0" };

let reserved: PortReservation;
let mainPorts: Record<"prometheus" | "grafana" | "alertmanager" | "elasticsearch" | "logstash" | "kibana", number>;
let scrapeTargets: { job: string; targets: string[] }[] = [];

function writeEnvironment(name: string, file: EnvironmentFile) {
  fs.writeFileSync(path.join(dirs.environments, `${name}.yaml`), stringify(file));
}

async function writeEnvironments() {
  writeEnvironment(main, {
    name: main,
    images: stackImages(),
    ports: mainPorts,
    memoryMb: { elasticsearch: 256, logstash: 128, kibana: 128 },
    scrape: { interval: "5s", evaluationInterval: "5s", targets: scrapeTargets },
  });
}

// --skip-provider-lock: cdktf would run `providers lock`, which asks the registry even when
// the provider comes from a filesystem mirror (and misreads OpenTofu's lock file, opentofu#2402).
const cdktf = (...args: string[]) => sh(path.join(ROOT, "node_modules/.bin/cdktf"), [...args, "--output", dirs.out, "--skip-provider-lock"], { env });
const stackDir = (name: string) => path.join(dirs.out, "stacks", name);
// For npm run plan / drift: this run's synth output and plans folder.
// A function: the secrets in `env` change during the run (the password rotation).
const planEnv = () => ({ ...env, CDKTF_OUTDIR: dirs.out, PM_PLANS_DIR: path.join(work, "plans") });

/** The changed resources of a plan JSON (`show -json`), as "address: actions". */
function changedResources(planJson: string): string[] {
  const shown = JSON.parse(planJson) as { resource_changes?: { address: string; change: { actions: string[] } }[] };
  return (shown.resource_changes ?? [])
    .filter((r) => !(r.change.actions.length === 1 && ["no-op", "read"].includes(r.change.actions[0])))
    .map((r) => `${r.address}: ${r.change.actions.join(",")}`);
}

/** Plans one stack with the engine itself; returns its changed resources. */
function plan(name: string): string[] {
  sh("node", [path.join(ROOT, "dist/main.js")], { env: { ...env, CDKTF_OUTDIR: dirs.out } });
  sh(engine, ["init", "-input=false", "-no-color"], { env, cwd: stackDir(name) });
  sh(engine, ["plan", "-input=false", "-no-color", "-out=plan.bin"], { env, cwd: stackDir(name) });
  return changedResources(sh(engine, ["show", "-json", "plan.bin"], { env, cwd: stackDir(name) }).stdout);
}

const url = (service: keyof typeof mainPorts, suffix: string) => `http://127.0.0.1:${mainPorts[service]}${suffix}`;
// Plain lines on stdout (console.log in jest adds a stack trace to each).
const report = (line: string) => process.stdout.write(`e2e: ${line}\n`);

const step = sequentialSteps(main, peer);

beforeAll(async () => {
  fs.mkdirSync(dirs.environments, { recursive: true });
  reserved = await reservePorts(8);
  const { ports } = reserved;
  mainPorts = { prometheus: ports[0], grafana: ports[1], alertmanager: ports[2], elasticsearch: ports[3], logstash: ports[4], kibana: ports[5] };
  await writeEnvironments();
  // The peer: a second, smaller environment on the same engine that nothing below may touch.
  writeEnvironment(peer, {
    name: peer,
    images: stackImages(),
    services: ["prometheus", "nodeExporter", "alertmanager"],
    ports: { prometheus: ports[6], alertmanager: ports[7] },
    alerting: { slack: { channel: "#e2e" }, runbookBaseUrl: "https://runbooks.example/e2e" },
  });
  report(`environments ${main} and ${peer} in ${work}; engine ${engine}`);
  report("Prometheus, Alertmanager, Node Exporter run their real programs; Grafana, Elasticsearch, Logstash, Kibana are stand-ins");
});

afterAll(async () => {
  await reserved?.release();
  for (const name of [main, peer]) {
    if (dockerObjects(name).containers.length) sh(path.join(ROOT, "node_modules/.bin/cdktf"), ["destroy", name, "--auto-approve", "--output", dirs.out, "--skip-provider-lock"], { env, allowFailure: true });
    removeEverything(name);
  }
  fs.rmSync(work, { recursive: true, force: true });
  report(`timings: ${Object.entries(timings)
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join("; ")}`);
});

let peerBefore: Record<string, string>;

test("cdktf deploy brings every container up healthy", () =>
  step(async () => {
    await reserved.release();
    timed(timings, "deploy (peer)", () => cdktf("deploy", peer, "--auto-approve"));
    peerBefore = fingerprint(peer);
    timed(timings, "deploy", () => cdktf("deploy", main, "--auto-approve"));
    const objects = dockerObjects(main);
    expect(objects.containers).toHaveLength(11);
    for (const name of objects.containers) {
      const state = docker("inspect", "-f", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}} {{.State.ExitCode}}", name);
      expect(`${name} ${state}`).toBe(`${name} running healthy 0`);
    }
    expect(objects.volumes).toEqual(["prometheus", "grafana", "alertmanager", "elasticsearch"].map((s) => `${main}-${s}-data`).sort());
    expect(objects.networks).toEqual([`${main}-monitoring`]);
    expect(docker("logs", `${main}-elasticsearch-setup`)).toContain("es-setup: done");
    // Secrets are files: `docker inspect` (environment, command) and the logs show none, but the
    // variables of the programs that can take theirs no other way (docs/environments.md, Secrets).
    const secrets = Object.values(secretEnv);
    const shown: string[] = [];
    for (const name of objects.containers) {
      const [config] = JSON.parse(docker("inspect", name)) as { Config: { Env?: string[]; Cmd?: string[]; Entrypoint?: string[] }; Args?: string[] }[];
      for (const entry of config.Config.Env ?? []) if (secrets.some((value) => entry.includes(value))) shown.push(`${name} ${entry.slice(0, entry.indexOf("="))}`);
      const command = JSON.stringify([config.Config.Cmd, config.Config.Entrypoint, config.Args]);
      if (secrets.some((value) => command.includes(value))) shown.push(`${name} command`);
      const logs = sh("docker", ["logs", name]);
      if (secrets.some((value) => `${logs.stdout}${logs.stderr}`.includes(value))) shown.push(`${name} logs`);
    }
    expect(shown.sort()).toEqual([`${main}-elasticsearch ELASTIC_PASSWORD`, `${main}-elasticsearch-exporter ES_PASSWORD`, `${main}-kibana ELASTICSEARCH_PASSWORD`, `${main}-logstash LOGSTASH_WRITER_PASSWORD`]);
  }));

test("Prometheus scrapes the stack, loads the rules, and the Watchdog reaches Alertmanager", () =>
  step(async () => {
    expect((await fetch(url("prometheus", "/-/ready"))).status).toBe(200);
    type Targets = { data: { activeTargets: { labels: { job: string }; health: string }[] } };
    const exporters = ["blackbox_exporter", "blackbox", "elasticsearch", "cadvisor"];
    await poll("node, alertmanager, prometheus and the exporters' targets up", async () => {
      const { data } = await getJson<Targets>(url("prometheus", "/api/v1/targets"));
      const up = new Set(data.activeTargets.filter((t) => t.health === "up").map((t) => t.labels.job));
      return ["node", "alertmanager", "prometheus", ...exporters].every((j) => up.has(j)) ? true : undefined;
    });
    type Rules = { data: { groups: { rules: { name: string }[] }[] } };
    const rules = (await getJson<Rules>(url("prometheus", "/api/v1/rules"))).data.groups.flatMap((g) => g.rules.map((r) => r.name));
    // Rule files load where their metrics exist (stacks/services/prometheus/rules.ts): no registry is scraped here.
    expect(rules).toEqual(expect.arrayContaining(["Watchdog", "HighMemoryUsage", "AlertmanagerFailedToSendAlerts", "CertificateExpiringSoon"]));
    expect(rules).not.toContain("RegistryDown");
    type Managers = { data: { activeAlertmanagers: { url: string }[] } };
    const managers = (await getJson<Managers>(url("prometheus", "/api/v1/alertmanagers"))).data.activeAlertmanagers;
    expect(managers.map((m) => m.url)).toEqual([`http://alertmanager:${serviceNamed("alertmanager").port}/api/v2/alerts`]);
    // `npm run health` against the running stack: every service answers.
    const health = sh("node", [path.join(ROOT, "dist/scripts/cli.js"), "health", main, "--json"], { env, allowFailure: true });
    const healthReport = JSON.parse(health.stdout) as { status: string; checks: { name: string; status: string }[] };
    expect(healthReport.checks.map((c) => `${c.name} ${c.status}`).sort()).toEqual(
      ["alertmanager", "elasticsearch", "grafana", "kibana", "logstash", "prometheus"].map((n) => `${n} ok`),
    );
    expect(health.status).toBe(0);

    await poll("Watchdog in Alertmanager", async () => {
      const alerts = await getJson<{ labels: Record<string, string> }[]>(url("alertmanager", "/api/v2/alerts"));
      return alerts.find((a) => a.labels.alertname === "Watchdog" && a.labels.environment === main);
    });
  }));

test("the log stack checks credentials: Elasticsearch refuses a wrong password, a JSON line sent to Logstash is found, Grafana serves every dashboard only to its admin", () =>
  step(async () => {
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` });
    const elastic = basic("elastic", env.TF_VAR_elastic_password as string);
    expect((await fetch(url("elasticsearch", "/_cluster/health"), { headers: basic("elastic", "wrong-password-123") })).status).toBe(401);
    expect((await fetch(url("elasticsearch", "/_cluster/health"))).status).toBe(401);
    expect((await fetch(url("elasticsearch", "/_cluster/health"), { headers: elastic })).status).toBe(200);

    // One JSON line to Logstash's TCP input, as a service that ships logs would send it.
    const marker = `e2e-${crypto.randomBytes(6).toString("hex")}`;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(mainPorts.logstash, "127.0.0.1", () => socket.end(`${JSON.stringify({ event: marker, level: "info", service: "e2e" })}\n`, () => resolve()));
      socket.once("error", reject);
    });
    await poll("the line in protocol-logs-*", async () => {
      const response = await fetch(url("elasticsearch", `/protocol-logs-*/_search?q=event:${marker}`), { headers: elastic });
      return ((await response.json()) as { hits: { hits: unknown[] } }).hits.hits.length ? true : undefined;
    });

    const admin = basic("admin", env.TF_VAR_grafana_admin_password as string);
    for (const [file, text] of Object.entries(ASSETS.dashboards)) {
      const uid = (JSON.parse(text) as { uid: string }).uid;
      expect(`${file} ${(await fetch(url("grafana", `/api/dashboards/uid/${uid}`))).status}`).toBe(`${file} 401`);
      const served = await getJson<{ dashboard: { uid: string; panels: { datasource?: { uid?: string } }[] } }>(url("grafana", `/api/dashboards/uid/${uid}`), admin);
      expect(served.dashboard.uid).toBe(uid);
      for (const panel of served.dashboard.panels.filter((p) => p.datasource)) expect(["prometheus", "elasticsearch"]).toContain(panel.datasource?.uid);
    }
    const prometheus = await getJson<{ uid: string; type: string }>(url("grafana", "/api/datasources/uid/prometheus"), admin);
    expect(prometheus).toMatchObject({ uid: "prometheus", type: "prometheus" });
    report(`Elasticsearch: wrong and missing passwords 401; a JSON line to Logstash found in Elasticsearch; Grafana serves ${Object.keys(ASSETS.dashboards).length} dashboards to its admin only`);
  }));

type Query = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
const query = async (expr: string) => (await getJson<Query>(url("prometheus", `/api/v1/query?query=${encodeURIComponent(expr)}`))).data.result;
/** The alerts of a name that Prometheus holds pending or firing now. */
const activeAlerts = async (name: string) => query(`ALERTS{alertname="${name}"}`);

test("the exporters see the stack: probes of every endpoint, the log cluster's health read as the monitor user, container starts", () =>
  step(async () => {
    const probes = await poll("a probe of every published service", async () => {
      const result = await query('probe_success{job="blackbox"}');
      return result.length >= 6 && result.every((r) => r.value[1] === "1") ? result : undefined;
    });
    expect(probes.map((r) => r.metric.service).sort()).toEqual(["alertmanager", "elasticsearch", "grafana", "kibana", "logstash", "prometheus"]);
    // The stand-in's cluster health, through the exporter that logs in as prometheus_monitor.
    const health = await poll("elasticsearch_cluster_health_status", async () => {
      const result = await query('elasticsearch_cluster_health_status{job="elasticsearch"} == 1');
      return result.length ? result : undefined;
    });
    expect(health.map((r) => `${r.metric.cluster} ${r.metric.color}`)).toEqual([`${main}-logs green`]);
    // cAdvisor's series are this environment's containers only, each with its service.
    const starts = await query('container_start_time_seconds{job="cadvisor"}');
    expect([...new Set(starts.map((r) => r.metric.name))].sort()).toEqual(dockerObjects(main).containers);
    expect(starts.every((r) => r.metric.service)).toBe(true);
    report(`${probes.length} probes up, cluster ${health[0].metric.color}, ${starts.length} containers seen by cAdvisor`);
  }));

test("a stopped Alertmanager, a stopped Kibana and a container restarted again and again drive their alerts to pending", () =>
  step(async () => {
    const started = Date.now();
    docker("stop", `${main}-alertmanager`, `${main}-kibana`);
    try {
      // Three restarts, each seen by a scrape (5 s) before the next.
      for (let i = 0; i < 3; i++) {
        docker("restart", "-t", "0", `${main}-node-exporter`);
        await new Promise((r) => setTimeout(r, 7_000));
      }
      const seen: Record<string, number> = {};
      const want: Record<string, (labels: Record<string, string>) => boolean> = {
        PrometheusErrorSendingAlertsToAnyAlertmanager: () => true,
        ProbeFailed: (labels) => labels.service === "kibana" && labels.instance === `kibana:5601`,
        ContainerRestarting: (labels) => labels.name === `${main}-node-exporter` && labels.service === "node-exporter",
      };
      await poll(
        "the three alerts pending",
        async () => {
          for (const [name, matches] of Object.entries(want)) {
            if (!(name in seen) && (await activeAlerts(name)).some((a) => matches(a.metric))) seen[name] = (Date.now() - started) / 1000;
          }
          return Object.keys(seen).length === Object.keys(want).length ? true : undefined;
        },
        180_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; seen: ${JSON.stringify(seen)}`);
      });
      report(`pending after: ${Object.entries(seen).map(([name, s]) => `${name} ${s.toFixed(0)} s`).join(", ")}`);
    } finally {
      docker("start", `${main}-alertmanager`, `${main}-kibana`);
    }
    await poll("Alertmanager and Kibana healthy again", async () =>
      ["alertmanager", "kibana"].every((s) => docker("inspect", "-f", "{{.State.Health.Status}}", `${main}-${s}`) === "healthy") ? true : undefined,
    );
  }));

test("rotating the Logstash writer's password and deploying again keeps Logstash healthy", () =>
  step(async () => {
    env.TF_VAR_logstash_writer_password = `e2e-${crypto.randomBytes(16).toString("hex")}`;
    timed(timings, "deploy (password rotation)", () => cdktf("deploy", main, "--auto-approve"));
    for (const service of ["logstash", "elasticsearch-setup"]) {
      expect(`${service} ${docker("inspect", "-f", "{{.State.Health.Status}}", `${main}-${service}`)}`).toBe(`${service} healthy`);
    }
  }));

test("a second plan shows no changes", () =>
  step(async () => {
    expect(timed(timings, "no-op plan", () => plan(main))).toEqual([]);
  }));

test("a config change replaces only Prometheus, and its data survives", () =>
  step(async () => {
    const before = Math.floor(Date.now() / 1000) - 2;
    type Query = { data: { result: { value: [number, string] }[] } };
    const upAt = async (time: number) => (await getJson<Query>(url("prometheus", `/api/v1/query?query=up{job="prometheus"}&time=${time}`))).data.result;
    await poll("a sample to exist before the change", async () => ((await upAt(before)).length ? true : undefined));

    // One new scrape target: only prometheus.yml (and its rules) change.
    scrapeTargets = [{ job: "spire_server", targets: ["host.docker.internal:9988"] }];
    await writeEnvironments();
    // Planned the way a reviewer sees it: `npm run plan`, then `npm run plan:summary` on its JSON.
    const planned = sh(path.join(ROOT, "scripts/cli.sh"), ["plan", main], { env: planEnv() });
    const planJson = path.join(work, "plans", `${main}.json`);
    const changes = changedResources(fs.readFileSync(planJson, "utf8"));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatch(/^docker_container\.prometheus_container_\w+: (delete,create|create,delete)$/);

    const summary = sh("node", [path.join(ROOT, "dist/scripts/cli.js"), "plan:summary", planJson], { env: planEnv(), allowFailure: true });
    expect(summary.status).toBe(2); // changes, no data lost
    expect(summary.stdout).toContain(`## ${main}: 0 to add, 0 to change, 1 to replace, 0 to destroy`);
    expect(summary.stdout).toContain(`| **replace** | \`${changes[0].split(":")[0]}\` | ${main}-prometheus | \`upload\` (forces replacement) |`);
    expect(summary.stdout).toContain("`/etc/prometheus/prometheus.yml` in");
    expect(summary.stdout).toContain("+  - job_name: spire_server");
    expect(summary.stdout).not.toContain("CAUTION");
    // What the workflow lets leave the runner (the plan artifact, the summary, the comment, the
    // steps' output) holds no secret: not as it is, escaped or base64-encoded.
    const planText = path.join(work, "plans", `${main}.plan.log`);
    const comment = sh("node", [path.join(ROOT, "dist/scripts/plan/comment.js"), path.join(work, "plans", "summary.md"), "safe", "https://ci.example/run/1", planText]).stdout;
    expect(comment).toContain(`<details><summary>${main}: the plan as the engine wrote it</summary>`);
    const leaving = {
      "plan artifact": fs.readFileSync(planJson, "utf8"),
      "plan text artifact": fs.readFileSync(planText, "utf8"),
      summary: summary.stdout + summary.stderr,
      comment,
      "plan step output": planned.stdout + planned.stderr,
    };
    const secretValues = Object.values(secretEnv);
    // The engine's own JSON of that plan does hold them: the check below can fail.
    const raw = sh(engine, ["show", "-json", "plan.bin"], { env, cwd: stackDir(main) }).stdout;
    expect(secretValues.filter((value) => raw.includes(value)).length).toBeGreaterThan(5);
    for (const [what, text] of Object.entries(leaving)) {
      expect(`${what}: ${secretValues.filter((value) => leaks(text, value)).length} secrets`).toBe(`${what}: 0 secrets`);
    }
    expect(comment).toContain("+  - job_name: spire_server"); // redacted, the review still shows the change

    timed(timings, "apply config change", () => cdktf("deploy", main, "--auto-approve"));
    await poll("Prometheus ready again", async () => ((await fetch(url("prometheus", "/-/ready"))).ok ? true : undefined));
    expect(await upAt(before)).toHaveLength(1);
  }));

test("a crashed service is restarted; a removed one is planned for creation", () =>
  step(async () => {
    const name = `${main}-alertmanager`;
    const restarts = Number(docker("inspect", "-f", "{{.RestartCount}}", name));
    const pid = docker("inspect", "-f", "{{.State.Pid}}", name);
    sh("kill", ["-KILL", pid]);
    await poll(
      "Alertmanager to restart after a crash",
      async () => (Number(docker("inspect", "-f", "{{.RestartCount}}", name)) > restarts && docker("inspect", "-f", "{{.State.Running}}", name) === "true" ? true : undefined),
      60_000,
    );

    docker("rm", "-f", `${main}-grafana`);
    expect(plan(main)).toEqual([expect.stringMatching(/^docker_container\.grafana_container_\w+: create$/)]);

    // `npm run drift` reports the container removed outside the code, and exits 2.
    const drift = sh(path.join(ROOT, "scripts/cli.sh"), ["plan", "--drift", main], {
      env: planEnv(),
      allowFailure: true,
    });
    expect(drift.status).toBe(2);
    expect(drift.stdout).toMatch(new RegExp(`docker_container\\.grafana_container_\\w+\` \\| ${main}-grafana`));
  }));

test("destroy removes every object of the environment and leaves the peer untouched", () =>
  step(async () => {
    expect(fingerprint(peer)).toEqual(peerBefore);
    expect(plan(peer)).toEqual([]);
    timed(timings, "destroy", () => cdktf("destroy", main, "--auto-approve"));
    expect(dockerObjects(main)).toEqual({ containers: [], volumes: [], networks: [] });
    expect(fingerprint(peer)).toEqual(peerBefore);
  }));

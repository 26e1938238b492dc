import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { stringify } from "yaml";
import { assertNoClashes, loadEnvironmentFile, loadEnvironments } from "../../stacks/environment-files";
import { EnvironmentError } from "../../stacks/environment";
import { ROOT, shippedEnvironment } from "../helpers/synth";
import { tempDir } from "../helpers/temp";

/** Writes an environment file into a fresh folder and loads it the way main.ts does. */
function load(content: Record<string, unknown>, fileName = `${String(content.name ?? "bad")}.yaml`) {
  const dir = tempDir("pm-env");
  const file = path.join(dir, fileName);
  fs.writeFileSync(file, stringify(content));
  return { file, load: () => loadEnvironmentFile(file) };
}

function expectInvalid(content: Record<string, unknown>, ...fragments: string[]) {
  const { file, load: run } = load(content);
  expect(run).toThrow(EnvironmentError);
  try {
    run();
  } catch (error) {
    const message = (error as Error).message;
    expect(message).toContain(file);
    for (const fragment of fragments) expect(message).toContain(fragment);
  }
}

describe("environment files", () => {
  it("fills defaults: all services, 127.0.0.1, pinned images, local socket", () => {
    const env = load({ name: "minimal" }).load();
    expect(env.services).toHaveLength(10);
    expect(env.bindAddress).toBe("127.0.0.1");
    expect(env.docker.host).toBe("unix:///var/run/docker.sock");
    expect(env.ports.grafana).toBe(3000);
    expect(env.images.prometheus).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(env.protectData).toBe(false);
  });

  it("fills every block's defaults when the block is absent, and a block's missing fields when it is partial", () => {
    const env = load({ name: "minimal" }).load();
    expect(env.retention).toEqual({ time: "30d", size: "10GB" });
    expect(env.scrape).toEqual({ interval: "15s", evaluationInterval: "15s", targets: [] });
    expect(env.alerting).toEqual({ pagerduty: false, heartbeat: false, runbookBaseUrl: ".", timing: { groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" } });
    expect(env.thresholds).toEqual({
      treasuryMinimumTokens: 1000,
      latencyP99Seconds: 2,
      transfersPerMinuteMax: 100,
      authFailuresPerMinuteMax: 10,
      certificateExpiryDays: 7,
      containerMemoryPercentMax: 90,
      resourceUsagePercentMax: 80,
      federationPeersMin: 1,
      agentLatencySeconds: 1,
    });
    expect(env.alerts).toEqual({ disable: [], override: {}, ruleFiles: [] });
    expect(env.state).toEqual({ backend: "local" });
    const partial = load({ name: "partial", retention: { time: "7d" }, alerting: { timing: { groupWait: "5s" } } }).load();
    expect(partial.retention).toEqual({ time: "7d", size: "10GB" });
    expect(partial.alerting.timing).toEqual({ groupWait: "5s", groupInterval: "5m", repeatInterval: "4h" });
  });

  it("localImages: the services built on this machine, at the catalog's releases, unless the file says otherwise", () => {
    const env = load({ name: "offline", localImages: true }).load();
    // The Elasticsearch exporter has a local build but needs Elasticsearch, which has none.
    expect(env.services).toEqual(["prometheus", "nodeExporter", "alertmanager", "blackbox", "cadvisor"]);
    expect(env.images.prometheus).toBe("protocol-monitoring-local/prometheus:v3.5.5");
    expect(env.images.nodeExporter).toBe("protocol-monitoring-local/node-exporter:v1.12.1");
    expect(env.images.grafana).toBe("grafana/grafana:13.2.3");
    const chosen = load({ name: "chosen", localImages: true, services: ["prometheus", "grafana"], images: { prometheus: "prom/prometheus:v3.5.5" } }).load();
    expect([chosen.services, chosen.images.prometheus, chosen.images.grafana]).toEqual([["prometheus", "grafana"], "prom/prometheus:v3.5.5", "grafana/grafana:13.2.3"]);
    // Without it: every service, upstream images.
    const plain = load({ name: "plain" }).load();
    expect([plain.services.length, plain.images.prometheus]).toEqual([10, "prom/prometheus:v3.5.5"]);
    expect(shippedEnvironment("local").services).toEqual(env.services);
  });

  it("rejects a bad port, naming the field", () => {
    expectInvalid({ name: "bad", ports: { grafana: 70000 } }, "ports.grafana");
  });

  it("rejects a duplicate scrape target, naming the field", () => {
    expectInvalid(
      {
        name: "bad",
        scrape: { targets: [{ job: "registry_a", targets: ["h:8000"] }, { job: "registry_b", targets: ["h:8000"] }] },
      },
      "scrape.targets[1].targets[0]",
      "duplicates target",
    );
  });

  it("rejects a duplicate job name", () => {
    expectInvalid({ name: "bad", scrape: { targets: [{ job: "a", targets: ["h:1"] }, { job: "a", targets: ["h:2"] }] } }, "scrape.targets[1].job");
  });

  it("rejects an unknown service, naming the field", () => {
    expectInvalid({ name: "bad", services: ["prometheus", "graphite"] }, "services[1]");
  });

  it("rejects a missing required field, naming the field", () => {
    expectInvalid({ services: ["prometheus"] }, "name");
  });

  it("rejects an unknown key (a typo) instead of ignoring it", () => {
    expectInvalid({ name: "bad", retension: { time: "1d" } }, "retension");
  });

  it("rejects a floating image tag", () => {
    expectInvalid({ name: "bad", images: { grafana: "grafana/grafana:latest" } }, "images.grafana", "latest");
    expectInvalid({ name: "bad", images: { grafana: "grafana/grafana" } }, "images.grafana", "pinned");
  });

  it("rejects two services on one host port", () => {
    expectInvalid({ name: "bad", ports: { grafana: 9090 } }, "ports.grafana", "9090");
  });

  it("rejects Kibana without Elasticsearch", () => {
    expectInvalid({ name: "bad", services: ["prometheus", "kibana"] }, "services", "need elasticsearch");
  });

  it("rejects a state block it cannot use, naming the field", () => {
    expectInvalid({ name: "bad", state: { backend: "consul" } }, "state.backend");
    expectInvalid({ name: "bad", state: { backend: "s3", bucket: "Not_A_Bucket", region: "eu-central-1" } }, "state.bucket", "S3 bucket name");
    expectInvalid({ name: "bad", state: { backend: "s3", bucket: "ok-bucket" } }, "state.region");
    expectInvalid({ name: "bad", state: { backend: "pg", connStr: "postgres://u:p@h/db" } }, "connStr");
  });

  it("requires an https:// runbook base URL where notifications go out, naming the field", () => {
    expectInvalid({ name: "bad", alerting: { pagerduty: true } }, "alerting.runbookBaseUrl", "https://", '"."');
    expectInvalid({ name: "bad", alerting: { slack: { channel: "#alerts" }, runbookBaseUrl: "http://wiki.internal/runbooks" } }, "alerting.runbookBaseUrl");
    expectInvalid({ name: "bad", alerting: { heartbeat: true, runbookBaseUrl: "stacks" } }, "alerting.runbookBaseUrl");
    // Without receivers the repository-relative default is fine (dev), and prod names a URL.
    expect(load({ name: "quiet" }).load().alerting.runbookBaseUrl).toBe(".");
    expect(shippedEnvironment("prod").alerting.runbookBaseUrl).toMatch(/^https:\/\/github\.com\/.+\/blob\/main$/);
  });

  it("refuses a runbook base URL that still points at docs/runbooks, saying where the runbooks went; takes one with a trailing slash", () => {
    expectInvalid({ name: "bad", alerting: { runbookBaseUrl: "https://github.com/o/r/blob/main/docs/runbooks/" } }, "alerting.runbookBaseUrl", "without /docs/runbooks", "stacks/services/<service>/runbooks");
    expectInvalid({ name: "bad", alerting: { runbookBaseUrl: "docs/runbooks" } }, "alerting.runbookBaseUrl", "without /docs/runbooks");
    expect(load({ name: "ok", alerting: { runbookBaseUrl: "https://github.com/o/r/blob/main/" } }).load().alerting.runbookBaseUrl).toBe("https://github.com/o/r/blob/main");
  });

  it("requires the name to match the file name", () => {
    const { load: run } = load({ name: "other" }, "mine.yaml");
    expect(run).toThrow(/name: "other" must match the file name "mine"/);
  });

  it("reports YAML syntax errors with the file name", () => {
    const dir = tempDir("pm-env");
    fs.writeFileSync(path.join(dir, "broken.yaml"), "name: [unclosed\n");
    expect(() => loadEnvironments(dir)).toThrow(/broken\.yaml: cannot be read as YAML/);
  });

  it("refuses two environments that share a host port on one Docker host", () => {
    const dev = shippedEnvironment("dev");
    const twin = { ...dev, name: "twin", source: "twin.yaml" };
    expect(() => assertNoClashes([dev, twin])).toThrow(/twin\.yaml: host port 9090 .* already used by .*dev\.yaml/);
  });

  it("lets the shipped environments live side by side: disjoint names and host ports", () => {
    const [dev, prod] = ["dev", "prod"].map(shippedEnvironment);
    expect(() => assertNoClashes([dev, prod, { ...prod, docker: dev.docker }])).not.toThrow();
    const devPorts = new Set(Object.values(dev.ports));
    expect(Object.values(prod.ports).filter((p) => devPorts.has(p))).toEqual([]);
  });

  it("fails synth with one clear message and no stack written", () => {
    const dir = tempDir("pm-env");
    fs.writeFileSync(path.join(dir, "bad.yaml"), stringify({ name: "bad", ports: { kibana: "5601" } }));
    const out = tempDir("pm-out");
    let stderr = "";
    try {
      execFileSync(process.execPath, [path.join(ROOT, "dist/main.js")], {
        env: { ...process.env, PM_ENVIRONMENTS_DIR: dir, CDKTF_OUTDIR: out },
        stdio: "pipe",
      });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(stderr).toContain(`${path.join(dir, "bad.yaml")}: invalid environment`);
    expect(stderr).toContain("ports.kibana");
    expect(stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(fs.readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith(".json"))).toEqual([]);
  });
});

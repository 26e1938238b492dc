import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import { execFileSync } from "node:child_process";
import { Aspects } from "cdktf";
import { parse, stringify } from "yaml";
import { healthChecks, runHealthChecks } from "../../scripts/health";
import { localBuilds } from "../../scripts/local-builds";
import { imagesOf } from "../../scripts/preflight";
import { deployReport } from "../../scripts/report";
import { type EnvironmentFile, parseEnvironment } from "../../stacks/environment";
import { loadAssets, serviceFolder } from "../../stacks/assets";
import { Hardening, HardeningError } from "../../stacks/hardening";
import { SERVICES } from "../../stacks/services";
import { PROMETHEUS_PATHS } from "../../stacks/services/prometheus";
import { ruleParameters } from "../../stacks/services/prometheus/rules";
import { extraExporter, rootExporter } from "../fixtures/services/extra-exporter";
import { hostExporter } from "../fixtures/services/host-exporter";
import { buildStack, containerNamed, ROOT, synth, type SynthesizedStack, uploadedFile } from "../helpers/synth";
import { findings, readCatalog, ruleQueries, writeRenderedRules } from "../helpers/promql";
import { tempDir } from "../helpers/temp";
import { run, tool } from "../helpers/tools";

/**
 * Adding a service is one folder: a throw-away service (__tests__/fixtures/services/extra-exporter:
 * its descriptor, an alert with its promtool test, its runbook and its metric catalog entry), added
 * to a catalog here and nowhere else, is deployed, scraped, alerted on, health-checked and hardened
 * like the shipped ones, by the same code.
 */
const CATALOG = [...SERVICES, extraExporter, rootExporter];

function env(overrides: Partial<EnvironmentFile> = {}) {
  return parseEnvironment({ name: "extra", services: ["prometheus", "alertmanager", "extraExporter"], ...overrides }, "add-a-service-test", CATALOG);
}

describe("a service added by one descriptor", () => {
  const environment = env();
  const stack = synth(environment);

  it("is not shipped: only this test's catalog has it", () => {
    expect(SERVICES.map((s) => s.name)).not.toContain("extraExporter");
  });

  it("is a service of the environment file: listed, its port, image and memory set there, typos refused", () => {
    const tuned = env({ ports: { extraExporter: 29101 }, images: { extraExporter: "prom/node-exporter:v1.12.0" }, memoryMb: { extraExporter: 96 } });
    expect([tuned.ports.extraExporter, tuned.images.extraExporter, tuned.memoryMb.extraExporter]).toEqual([29101, "prom/node-exporter:v1.12.0", 96]);
    expect(environment.ports.extraExporter).toBe(19101);
    expect(() => env({ ports: { extraExporterr: 1 } })).toThrow(/ports: Unrecognized key: "extraExporterr"/);
  });

  it("is deployed: its container, its data volume and its URL output", () => {
    const container = containerNamed(stack, "extra-extra-exporter");
    expect(container).toMatchObject({
      hostname: "extra-exporter",
      memory: 64,
      user: "65534:65534",
      ports: [{ internal: 9101, external: 19101, ip: "127.0.0.1" }],
      volumes: [{ volume_name: expect.stringContaining("docker_volume."), container_path: "/var/lib/extra-exporter" }],
      command: expect.arrayContaining(["--collector.textfile"]),
    });
    expect(Object.values(stack.resource.docker_volume).map((v) => v.name)).toContain("extra-extra-exporter-data");
    expect(stack.output.extraExporter_url).toEqual({ value: "http://127.0.0.1:19101" });
    expect(imagesOf(environment)).toContain("prom/node-exporter:v1.12.1");
    expect(deployReport(environment, { extraExporter_url: "http://127.0.0.1:19101" })).toContain("Extra Exporter http://127.0.0.1:19101");
  });

  it("is scraped: prometheus.yml has its job", () => {
    const config = parse(uploadedFile(containerNamed(stack, "extra-prometheus"), PROMETHEUS_PATHS.config)) as { scrape_configs: { job_name: string }[] };
    expect(config.scrape_configs).toContainEqual({ job_name: "extra", static_configs: [{ targets: ["extra-exporter:9101"] }] });
  });

  it("is health-checked: Docker's healthcheck and a row of npm run health, from its one endpoint", async () => {
    expect(containerNamed(stack, "extra-extra-exporter").healthcheck).toMatchObject({ test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:9101/metrics"] });
    expect(healthChecks(environment)).toContainEqual(expect.objectContaining({ name: "extraExporter", url: "http://127.0.0.1:19101/metrics" }));
    const server = http.createServer((req, res) => res.writeHead(req.url === "/metrics" ? 200 : 404).end("up 1\n"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const results = await runHealthChecks(env({ ports: { extraExporter: port } }), { timeoutMs: 500 });
      expect(results.find((r) => r.name === "extraExporter")).toMatchObject({ status: "ok", url: `http://127.0.0.1:${port}/metrics` });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("is hardened: the aspect checks it, and refuses a variant that runs as root without saying why", () => {
    const built = buildStack(environment);
    expect(Aspects.of(built).all.some((aspect) => aspect instanceof Hardening)).toBe(true);
    const rooted = env({ services: ["prometheus", "rootExporter"] });
    expect(() => synth(rooted)).toThrow(HardeningError);
    expect(() => synth(rooted)).toThrow(/extra-root-exporter \(docker_container\.[\w-]+\): non-root: must run as a non-root user \(has 0:0\)/);
  });

  it("fails the app's synth cleanly when not hardened: the message, exit 1, no stack trace, nothing written", () => {
    const dir = tempDir("pm-add");
    fs.writeFileSync(path.join(dir, "extra.yaml"), stringify({ name: "extra", services: ["prometheus", "rootExporter"] }));
    const out = tempDir("pm-out");
    // The compiled app (npm test compiles the tests too), with this test's catalog.
    const script = `process.exitCode = require(${JSON.stringify(path.join(ROOT, "dist/main.js"))}).main([...require(${JSON.stringify(path.join(ROOT, "dist/stacks/services"))}).SERVICES, require(${JSON.stringify(path.join(ROOT, "dist/__tests__/fixtures/services/extra-exporter"))}).rootExporter])`;
    let stderr = "";
    let status: number | null = 0;
    try {
      execFileSync(process.execPath, ["-e", script], { env: { ...process.env, PM_ENVIRONMENTS_DIR: dir, CDKTF_OUTDIR: out }, stdio: "pipe" });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
      status = (error as { status: number | null }).status;
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(/^error: extra: containers break the hardening policy \(stacks\/hardening\.ts\):\n {2}extra-root-exporter \(docker_container\.[\w-]+\): non-root: /);
    expect(stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(fs.readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith(".json"))).toEqual([]);
  });
});

describe("a service's alerts, from its folder", () => {
  const folder = serviceFolder(extraExporter);
  const ruleFiles = loadAssets(ROOT).ruleFiles(CATALOG);
  const extraRules = ruleFiles.filter((file) => file.owner === "extraExporter");
  const prometheusOf = (environment: ReturnType<typeof env>) => containerNamed(synth(environment), `${environment.name}-prometheus`);

  it("are the rule files of its folder, loaded where it runs, with runbook links into its folder", () => {
    expect(extraRules.map((file) => `${file.folder}/rules/${file.name}`)).toEqual([`${folder}/rules/extra.rules.yml`]);
    const rules = uploadedFile(prometheusOf(env({ alerting: { runbookBaseUrl: "https://git.example/pm" } })), `${PROMETHEUS_PATHS.rulesDir}/extra.rules.yml`);
    expect(rules).toContain(`runbook_url: "https://git.example/pm/${folder}/runbooks/ExtraTextfileUnreadable.md"`);
    const without = prometheusOf(env({ services: ["prometheus", "alertmanager"] }));
    expect(() => uploadedFile(without, `${PROMETHEUS_PATHS.rulesDir}/extra.rules.yml`)).toThrow();
  });

  it("pass their promtool tests, from the folder's rules/tests", () => {
    const dir = tempDir("pm-extra-rules");
    expect(writeRenderedRules(dir, extraRules, ruleParameters(env()))).toEqual([folder]);
    expect(run(tool("promtool"), ["test", "rules", "extra.test.yml"], { cwd: path.join(dir, folder, "rules", "tests") })).toMatch(/SUCCESS/);
  });

  it("have a runbook each and read only metrics of its catalog entries", () => {
    const alertNames = extraRules.flatMap((file) => [...file.content.matchAll(/^\s*- alert: (\w+)/gm)].map((m) => m[1]));
    expect(alertNames).toEqual(["ExtraTextfileUnreadable"]);
    for (const name of alertNames) expect(fs.existsSync(path.join(ROOT, folder, "runbooks", `${name}.md`))).toBe(true);
    const { catalog, problems } = readCatalog(ROOT, [{ file: `${folder}/metrics.yml`, sources: extraExporter.metrics?.sources ?? [] }]);
    expect(problems).toEqual([]);
    expect(findings(extraRules.flatMap(ruleQueries), catalog, new Set())).toEqual([]);
    // The check can say no: without its entry the alert's metric is unknown.
    expect(findings(extraRules.flatMap(ruleQueries), {}, new Set())).toEqual([expect.stringContaining("unknown metric node_textfile_scrape_error")]);
  });
});

describe("a service's local build, from its descriptor", () => {
  it("is one more image of the builder, with its user and ports, at the release its image pins", () => {
    const build = localBuilds(CATALOG, ROOT).find((b) => b.name === "extra-exporter");
    expect(build).toMatchObject({ kind: "program", module: "github.com/prometheus/node_exporter", tag: "v1.12.1", moduleVersion: "v1.12.1" });
    expect(build?.changes).toEqual(["USER 65534:65534", "EXPOSE 9101", 'ENTRYPOINT ["/bin/node_exporter"]']);
    expect(localBuilds(SERVICES, ROOT).map((b) => b.name)).not.toContain("extra-exporter");
  });
});

describe("a service deployed on every Docker host of a fleet", () => {
  const fleet = [...SERVICES, hostExporter()];
  const hosts = ["a", "b"].map((name, index) => ({ name, docker: { host: `ssh://deploy@${name}.example` }, address: `${name}.example`, publishAddress: `192.0.2.${10 + index}` }));
  const environment = parseEnvironment({ name: "fleet", services: ["prometheus", "nodeExporter", "hostExporter"], hosts }, "fleet-test", fleet);
  const json = synth(environment) as SynthesizedStack & { provider: { docker: { alias?: string; host: string }[] } };

  it("runs one hardened instance per host, each through that host's provider alias, network and images", () => {
    expect(json.provider.docker.map((p) => [p.alias, p.host])).toEqual([
      [undefined, "unix:///var/run/docker.sock"],
      ["fleet-a", "ssh://deploy@a.example"],
      ["fleet-b", "ssh://deploy@b.example"],
    ]);
    for (const host of ["a", "b"]) {
      const container = containerNamed(json, `fleet-host-exporter-${host}`);
      expect(container).toMatchObject({ provider: `docker.fleet-${host}`, healthcheck: { test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:9100/"] }, user: "65534:65534" });
      const image = Object.values(json.resource.docker_image).find((i) => i.provider === `docker.fleet-${host}`);
      expect(image).toMatchObject({ name: "prom/node-exporter:v1.12.1" });
      expect(container.image).toMatch(new RegExp(`^\\$\\{docker_image\\.host-${host}_images_`));
    }
    // Synth passed the hardening aspect with every instance in it.
    expect(Aspects.of(buildStack(environment)).all.some((aspect) => aspect instanceof Hardening)).toBe(true);
  });
});

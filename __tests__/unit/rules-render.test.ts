import { exportedSources, loadedRuleFiles, PROTOCOL_RULE_FILE_NEEDS, renderRuleFile, ruleParameters } from "../../stacks/services/prometheus/rules";
import { SERVICES } from "../../stacks/services";
import { ASSETS, CONFIG_PATHS, containerNamed, environment, shippedEnvironment, synth, uploadedFile } from "../helpers/synth";

const protocolTargets = { targets: [{ job: "registry_a", targets: ["h:1"] }, { job: "teg_layer", targets: ["h:2"] }] };
const loaded = (env: ReturnType<typeof environment>) => loadedRuleFiles(env, ASSETS.ruleFiles).map((f) => f.name);

describe("rule placeholders", () => {
  it("take thresholds and the runbook base URL from the environment", () => {
    const env = environment({ thresholds: { treasuryMinimumTokens: 5000 }, alerting: { runbookBaseUrl: "https://runbooks.example/" }, scrape: protocolTargets });
    const prometheus = containerNamed(synth(env), "unit-prometheus");
    const rules = (name: string) => uploadedFile(prometheus, `${CONFIG_PATHS.prometheusRulesDir}/${name}`);
    expect(rules("teg.rules.yml")).toContain("expr: teg_treasury_balance < 5000");
    expect(rules("registry.rules.yml")).toContain('runbook_url: "https://runbooks.example/stacks/protocol/runbooks/RegistryDown.md"');
    expect(rules("stack.rules.yml")).toContain('runbook_url: "https://runbooks.example/stacks/services/prometheus/runbooks/Watchdog.md"');
    expect(rules("registry.rules.yml")).not.toMatch(/\[\[/);
  });

  it("take the resource-usage threshold (the seed's 80% by default) and the agents' job", () => {
    const host = ASSETS.ruleFiles.find((f) => f.name === "host.rules.yml")!;
    expect(renderRuleFile(host, ruleParameters(environment())).content).toContain("node_memory_MemTotal_bytes > 80 / 100");
    expect(renderRuleFile(host, ruleParameters(environment({ thresholds: { resourceUsagePercentMax: 90 } }))).content).toContain("> 90 / 100");
    const agents = ASSETS.ruleFiles.find((f) => f.name === "agents.rules.yml")!;
    const consul = { server: "consul:8500", services: ["agent-service"], job: "sdk_agents" };
    expect(renderRuleFile(agents, ruleParameters(environment({ scrape: { consul } }))).content).toContain('request_duration_sum{job="sdk_agents"}');
  });

  it("refuse an unknown placeholder, naming the file", () => {
    const file = { name: "x.rules.yml", owner: "protocol", folder: "stacks/protocol", content: "expr: up < [[ typoThreshold ]]" };
    expect(() => renderRuleFile(file, ruleParameters(environment()))).toThrow("stacks/protocol/rules/x.rules.yml: unknown placeholder [[ typoThreshold ]]");
  });

  it("leave no placeholder in any shipped rule file", () => {
    for (const file of ASSETS.ruleFiles) expect(renderRuleFile(file, ruleParameters(environment())).content).not.toMatch(/\[\[|\]\]/);
  });
});

// A rule file is loaded only where the environment has the metrics its alerts read (the
// behaviour that replaced arming RegistryAbsent, TEGLayerAbsent and the Alertmanager connection
// alert with `and on() vector(n) > 0`).
describe("which rule files an environment loads", () => {
  it("knows whose every shipped rule file is: a service's folder, or the Protocol's with what it needs; refuses a Protocol file it does not know", () => {
    const protocolFiles = ASSETS.ruleFiles.filter((f) => f.owner === "protocol").map((f) => f.name);
    expect(Object.keys(PROTOCOL_RULE_FILE_NEEDS).sort()).toEqual(protocolFiles.sort());
    expect(ASSETS.ruleFiles.filter((f) => f.owner !== "protocol").every((f) => SERVICES.some((s) => s.name === f.owner))).toBe(true);
    expect(() => loadedRuleFiles(environment(), [{ name: "new.rules.yml", owner: "protocol", folder: "stacks/protocol", content: "" }])).toThrow(
      "stacks/protocol/rules/new.rules.yml: not in PROTOCOL_RULE_FILE_NEEDS",
    );
  });

  it("loads Prometheus's rules and the dormant alerts' files everywhere (the log cluster's only where its exporter runs)", () => {
    expect(loaded(environment({ services: ["prometheus"] }))).toEqual(["database.rules.yml", "security.rules.yml", "stack.rules.yml"]);
  });

  it("loads Alertmanager's and the host's rules only where those services run", () => {
    expect(loaded(environment({ services: ["prometheus", "alertmanager"] }))).toContain("alertmanager.rules.yml");
    expect(loaded(environment({ services: ["prometheus", "alertmanager"] }))).not.toContain("host.rules.yml");
    expect(loaded(environment({ services: ["prometheus", "nodeExporter"] }))).toContain("host.rules.yml");
  });

  it("loads the registry, TEG and agent rules only where the environment scrapes such jobs", () => {
    expect(loaded(environment())).not.toEqual(expect.arrayContaining(["registry.rules.yml"]));
    expect(loaded(environment({ scrape: protocolTargets }))).toEqual(expect.arrayContaining(["registry.rules.yml", "teg.rules.yml"]));
    expect(loaded(environment({ scrape: { targets: [{ job: "teg_layer", targets: ["h:2"] }] } }))).not.toContain("registry.rules.yml");
    expect(loaded(environment({ scrape: { consul: { server: "consul:8500", services: ["agent-service"] } } }))).toContain("agents.rules.yml");
  });

  it("maps the shipped environments to their metric sources", () => {
    expect([...exportedSources(shippedEnvironment("local"))].sort()).toEqual(["alertmanager", "blackbox_exporter", "cadvisor", "client_library", "node_exporter", "prometheus", "registry", "spire", "teg"]);
    expect([...exportedSources(shippedEnvironment("dev"))].sort()).toEqual([
      "alertmanager",
      "blackbox_exporter",
      "cadvisor",
      "client_library",
      "elasticsearch_exporter",
      "grafana",
      "node_exporter",
      "prometheus",
      "registry",
      "spire",
      "teg",
    ]);
    expect(exportedSources(shippedEnvironment("prod"))).toContain("agent");
    expect(exportedSources(environment({ scrape: { targets: [{ job: "postgres_registry", targets: ["pg-exporter:9187"] }] } }))).toContain("postgres_exporter");
  });
});

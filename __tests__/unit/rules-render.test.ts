import { renderRuleFile, ruleParameters } from "../../stacks/config/rules";
import { CONFIG_PATHS } from "../../stacks/catalog";
import { ASSETS, containerNamed, environment, synth, uploadedFile } from "../helpers/synth";

describe("rule placeholders", () => {
  it("take thresholds and the runbook base URL from the environment", () => {
    const env = environment({ thresholds: { treasuryMinimumTokens: 5000 }, alerting: { runbookBaseUrl: "https://runbooks.example/" } });
    const prometheus = containerNamed(synth(env), "unit-prometheus");
    const rules = uploadedFile(prometheus, `${CONFIG_PATHS.prometheusRulesDir}/protocol.rules.yml`);
    expect(rules).toContain("expr: teg_treasury_balance < 5000");
    expect(rules).toContain('runbook_url: "https://runbooks.example/RegistryDown.md"');
    expect(rules).not.toMatch(/\[\[/);
  });

  it("arm the absent alerts only where the environment scrapes such jobs", () => {
    const rendered = (env: ReturnType<typeof environment>) =>
      renderRuleFile(ASSETS.ruleFiles.find((f) => f.name === "protocol.rules.yml")!, ruleParameters(env)).content;
    expect(rendered(environment())).toContain('absent(up{job=~"registry_.*"}) and on() (vector(0) > 0)');
    const withRegistries = environment({ scrape: { targets: [{ job: "registry_a", targets: ["h:1"] }, { job: "registry_b", targets: ["h:2"] }] } });
    expect(rendered(withRegistries)).toContain('absent(up{job=~"registry_.*"}) and on() (vector(2) > 0)');
  });

  it("arm the Alertmanager connection alert only where an Alertmanager runs", () => {
    const stack = ASSETS.ruleFiles.find((f) => f.name === "stack.rules.yml")!;
    const rendered = (services: ("prometheus" | "alertmanager")[]) => renderRuleFile(stack, ruleParameters(environment({ services }))).content;
    expect(rendered(["prometheus", "alertmanager"])).toContain("prometheus_notifications_alertmanagers_discovered < 1 and on() (vector(1) > 0)");
    expect(rendered(["prometheus"])).toContain("prometheus_notifications_alertmanagers_discovered < 1 and on() (vector(0) > 0)");
  });

  it("refuse an unknown placeholder, naming the file", () => {
    const file = { name: "x.rules.yml", content: "expr: up < [[ typoThreshold ]]" };
    expect(() => renderRuleFile(file, ruleParameters(environment()))).toThrow("assets/rules/x.rules.yml: unknown placeholder [[ typoThreshold ]]");
  });

  it("leave no placeholder in any shipped rule file", () => {
    for (const file of ASSETS.ruleFiles) expect(renderRuleFile(file, ruleParameters(environment())).content).not.toMatch(/\[\[|\]\]/);
  });
});

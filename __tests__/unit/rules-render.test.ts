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

  it("refuse an unknown placeholder, naming the file", () => {
    const file = { name: "x.rules.yml", content: "expr: up < [[ typoThreshold ]]" };
    expect(() => renderRuleFile(file, ruleParameters(environment()))).toThrow("assets/rules/x.rules.yml: unknown placeholder [[ typoThreshold ]]");
  });

  it("leave no placeholder in any shipped rule file", () => {
    for (const file of ASSETS.ruleFiles) expect(renderRuleFile(file, ruleParameters(environment())).content).not.toMatch(/\[\[|\]\]/);
  });
});

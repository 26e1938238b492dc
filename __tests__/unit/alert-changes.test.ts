/**
 * An environment's changes to the shipped alerts (`alerts:`): disabled alerts, overridden `for`,
 * severity and labels, the team's own rule files; each accepted case checked by promtool as
 * Prometheus loads it, each refused case named before anything is built.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { EnvironmentError, type EnvironmentFile } from "../../stacks/environment";
import { loadEnvironmentFile } from "../../stacks/environment-files";
import { ownRuleFileProblems, promqlErrors } from "../../stacks/services/prometheus/alert-changes";
import { CONFIG_PATHS, containerNamed, environment, synth, uploadedFile, type ContainerJson } from "../helpers/synth";
import { tempDir } from "../helpers/temp";
import { run, tool } from "../helpers/tools";

type Rule = { alert?: string; record?: string; for?: string; labels?: Record<string, string> };
type RuleDocument = { groups: { name: string; rules: Rule[] }[] };

const SERVICES: EnvironmentFile["services"] = ["prometheus", "nodeExporter", "alertmanager"];
const rulesOf = (prometheus: ContainerJson) =>
  Object.fromEntries(
    (prometheus.upload ?? []).filter((u) => u.file.startsWith(`${CONFIG_PATHS.prometheusRulesDir}/`)).map((u) => [path.basename(u.file), uploadedFile(prometheus, u.file)]),
  );
const alertsIn = (content: string) => (parse(content) as RuleDocument).groups.flatMap((g) => g.rules).filter((r) => r.alert);

/** Writes an environment file (and its own rule files) to a folder of its own and loads it. */
function load(alerts: Record<string, unknown>, ownFiles: Record<string, string> = {}) {
  const dir = tempDir("pm-alert-changes");
  for (const [name, content] of Object.entries(ownFiles)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  fs.writeFileSync(path.join(dir, "team.yaml"), stringify({ name: "team", services: SERVICES, alerts }));
  return loadEnvironmentFile(path.join(dir, "team.yaml"));
}

/** promtool's verdict on the rule files and the config as Prometheus would load them. */
function promtoolAccepts(prometheus: ContainerJson): string {
  const dir = tempDir("pm-alert-changes-check");
  for (const upload of prometheus.upload ?? []) {
    const target = path.join(dir, upload.file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, uploadedFile(prometheus, upload.file).split(CONFIG_PATHS.prometheusRulesDir).join(path.join(dir, CONFIG_PATHS.prometheusRulesDir)));
  }
  return run(tool("promtool"), ["check", "config", path.join(dir, CONFIG_PATHS.prometheusConfig)]);
}

const TEAM_RULES = `groups:
  - name: team
    rules:
      - record: team:up:sum
        expr: sum(up)
      - alert: TeamTargetsMissing
        expr: team:up:sum < 3
        for: 5m
        labels: { severity: warning, service: team }
        annotations:
          summary: Fewer than three targets are up
          runbook_url: https://wiki.example/runbooks/TeamTargetsMissing
`;

describe("alerts: an environment's changes to the shipped alerts", () => {
  const unchanged = rulesOf(containerNamed(synth(environment({ services: SERVICES })), "unit-prometheus"));

  it("disables and overrides alerts; every file it does not touch stays byte for byte; promtool accepts the result", () => {
    const env = load({
      disable: ["NodeClockSkewDetected"],
      override: { HighMemoryUsage: { for: "15m", severity: "critical", labels: { team: "platform" } } },
    });
    const prometheus = containerNamed(synth(env), "team-prometheus");
    const rules = rulesOf(prometheus);
    const all = Object.values(rules).flatMap(alertsIn);
    expect(all.map((r) => r.alert)).not.toContain("NodeClockSkewDetected");
    expect(all.map((r) => r.alert)).toContain("NodeClockNotSynchronising");
    const memory = all.find((r) => r.alert === "HighMemoryUsage");
    expect(memory).toMatchObject({ for: "15m", labels: { severity: "critical", team: "platform", service: expect.any(String) } });
    const touched = Object.keys(rules).filter((name) => rules[name] !== unchanged[name]);
    expect(touched).toEqual(["host.rules.yml"]);
    expect(Object.keys(rules)).toEqual(Object.keys(unchanged));
    expect(promtoolAccepts(prometheus)).toMatch(/SUCCESS/);
  });

  it("loads the team's own rule files beside the shipped ones, checked by promtool like them", () => {
    const env = load({ ruleFiles: ["rules/team.rules.yml"] }, { "rules/team.rules.yml": TEAM_RULES });
    const prometheus = containerNamed(synth(env), "team-prometheus");
    const rules = rulesOf(prometheus);
    expect(rules["own-team.rules.yml"]).toBe(TEAM_RULES);
    expect(parse(uploadedFile(prometheus, CONFIG_PATHS.prometheusConfig)).rule_files).toContain(`${CONFIG_PATHS.prometheusRulesDir}/own-team.rules.yml`);
    expect(promtoolAccepts(prometheus)).toMatch(new RegExp(`${Object.keys(unchanged).length + 1} rule files found`));
  });

  it.each([
    [{ disable: ["NoSuchAlert"] }, "alerts.disable[0]: no shipped alert is named NoSuchAlert"],
    [{ override: { HighMemoryUsge: { for: "5m" } } }, "alerts.override.HighMemoryUsge: no shipped alert is named HighMemoryUsge"],
  ])("refuses a change to an alert that does not exist, naming it (%j)", (alerts, message) => {
    const env = load(alerts);
    expect(() => synth(env)).toThrow(EnvironmentError);
    expect(() => synth(env)).toThrow(message);
  });

  it.each([
    [{ disable: ["Watchdog"] }, "alerts.disable: Watchdog is the dead man's switch"],
    [{ override: { Watchdog: { severity: "info" } } }, "alerts.override.Watchdog: the dead man's switch cannot be changed"],
    [{ override: { HighMemoryUsage: { for: "soon" } } }, "alerts.override.HighMemoryUsage.for: must be a duration"],
    [{ override: { HighMemoryUsage: { severity: "urgent" } } }, "alerts.override.HighMemoryUsage.severity:"],
    [{ override: { HighMemoryUsage: { labels: { severity: "info" } } } }, "is set otherwise"],
    [{ disable: ["HighMemoryUsage"], override: { HighMemoryUsage: { for: "1m" } } }, "HighMemoryUsage: disabled and overridden at once"],
    [{ ruleFiles: ["a/x.rules.yml", "b/x.rules.yml"] }, "two files named x.rules.yml"],
    [{ ruleFiles: ["missing.rules.yml"] }, "alerts.ruleFiles[0]: cannot read"],
  ])("refuses %j when the file is read, naming the field", (alerts, message) => {
    expect(() => load(alerts)).toThrow(message);
  });

  it("refuses an own rule file that names a shipped alert", () => {
    const env = load({ ruleFiles: ["mine.rules.yml"] }, { "mine.rules.yml": TEAM_RULES.replace(/TeamTargetsMissing/g, "TargetDown") });
    expect(() => synth(env)).toThrow("alerts.ruleFiles: mine.rules.yml: TargetDown is a shipped alert's name");
  });
});

describe("a team's own rule file is checked like the shipped ones", () => {
  const problems = (content: string) => ownRuleFileProblems({ path: "team.rules.yml", content });

  it("accepts a well-formed file", () => {
    expect(problems(TEAM_RULES)).toEqual([]);
  });

  it.each([
    ["groups: [", "cannot be read as YAML"],
    ["groups: []", "no rule groups"],
    [TEAM_RULES.replace("sum(up)", "sum(up"), "team:up:sum: expr is not valid PromQL (at character"],
    [TEAM_RULES.replace("severity: warning", "severity: urgent"), "TeamTargetsMissing: labels.severity must be one of critical, warning, info"],
    [TEAM_RULES.replace(/ *runbook_url: .*\n/, ""), "TeamTargetsMissing: needs annotations.runbook_url"],
    [TEAM_RULES.replace(/ *summary: .*\n/, ""), "TeamTargetsMissing: needs annotations.summary"],
    [TEAM_RULES.replace("- record: team:up:sum", "- alert: X\n        record: team:up:sum"), "needs either alert or record"],
    [TEAM_RULES.replace("  - name: team\n", "  - \n"), "groups[0]: needs a name"],
  ])("refuses %#, naming the problem", (content, message) => {
    expect(problems(content).join("\n")).toContain(message);
  });

  it("parses PromQL with Prometheus's grammar, and finds errors where there are some", () => {
    expect(promqlErrors('sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) > 0.1')).toEqual([]);
    expect(promqlErrors("rate(http_requests_total[5m]").length).toBeGreaterThan(0);
    expect(promqlErrors("up ==").length).toBeGreaterThan(0);
  });

  it("is refused when its environment file is loaded, naming both", () => {
    expect(() => load({ ruleFiles: ["bad.rules.yml"] }, { "bad.rules.yml": "groups: []" })).toThrow(/team\.yaml: invalid environment\n {2}alerts\.ruleFiles: bad\.rules\.yml: no rule groups/);
  });
});

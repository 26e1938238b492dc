/**
 * The alert rules (each service folder's rules/, and stacks/protocol/rules): their labels and
 * annotations, their promtool unit tests (rules/tests beside them), one runbook each (runbooks/
 * beside them, their links resolving), the alert table in docs/alerts.md, and where
 * Alertmanager sends each severity.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { alertmanagerConfig } from "../../stacks/services/alertmanager";
import { ruleParameters } from "../../stacks/services/prometheus/rules";
import type { Environment } from "../../stacks/environment";
import { writeRenderedRules } from "../helpers/promql";
import { amtool } from "../helpers/alertmanager";
import { ASSETS, environment, ROOT, shippedEnvironment } from "../helpers/synth";
import { run, tool } from "../helpers/tools";

/** Where the table of every alert is. */
const ALERTS_PAGE = path.join(ROOT, "docs", "alerts.md");
const SEVERITIES = ["critical", "warning", "info"];
/** Always firing by design, so it has no silent case and its own severity. */
const WATCHDOG = "Watchdog";

interface Alert {
  name: string;
  /** The folder of its rule file, where its runbook is too. */
  folder: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

type RuleFileYaml = { groups: { rules: { alert?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[] };

// Read from the files as written (placeholders included), so the runbook_url check sees [[ runbooks ]].
const alerts: Alert[] = ASSETS.ruleFiles.flatMap((file) =>
  (parse(file.content) as RuleFileYaml).groups
    .flatMap((group) => group.rules)
    .filter((rule) => rule.alert !== undefined)
    .map((rule) => ({ name: rule.alert as string, folder: file.folder, labels: rule.labels ?? {}, annotations: rule.annotations ?? {} })),
);
const alertNames = alerts.map((a) => a.name).sort();
/** Every promtool test file, by its path in the repository: `<folder>/rules/tests/<name>.test.yml`. */
const ruleFolders = [...new Set(ASSETS.ruleFiles.map((f) => f.folder))];
const testFiles = ruleFolders
  .flatMap((folder) => {
    const dir = path.join(ROOT, folder, "rules", "tests");
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".test.yml")).map((f) => `${folder}/rules/tests/${f}`) : [];
  })
  .sort();

describe("alert rules", () => {
  it("have unique names", () => {
    expect(alertNames.length).toBeGreaterThan(0);
    expect(alertNames).toEqual([...new Set(alertNames)]);
  });

  it.each(alerts.map((a) => [a.name, a] as const))("%s has a severity, a service, a summary, a description and its runbook_url", (name, alert) => {
    expect(name === WATCHDOG ? ["none"] : SEVERITIES).toContain(alert.labels.severity);
    expect(alert.labels.service).toMatch(/\S/);
    expect(alert.annotations.summary).toMatch(/\S/);
    expect(alert.annotations.description).toMatch(/\S/);
    expect(alert.annotations.runbook_url).toBe(`[[ runbooks ]]/${name}.md`);
    // `dormant`: why the alert cannot fire yet (fireable.test.ts checks it is true where loaded).
    expect(Object.keys(alert.annotations).filter((k) => !["summary", "description", "runbook_url", "dormant"].includes(k))).toEqual([]);
    if ("dormant" in alert.annotations) expect(alert.annotations.dormant).toMatch(/^needs /);
  });
});

/** Every runbook, by its path in the repository: `<folder>/runbooks/<Alert>.md` beside the rules. */
const runbooks = ruleFolders
  .flatMap((folder) => {
    const dir = path.join(ROOT, folder, "runbooks");
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".md")).map((f) => `${folder}/runbooks/${f}`) : [];
  })
  .sort();

/** The relative links of a Markdown text that lead nowhere, from the file at `file`. */
function brokenLinks(file: string, text: string, exists: (target: string) => boolean = fs.existsSync): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z]+:/.test(target) && !target.startsWith("#"))
    .filter((target) => !exists(path.resolve(path.dirname(file), target.replace(/#.*$/, ""))));
}

describe("runbooks", () => {
  it("exist for every alert, beside its rule file, and only for alerts", () => {
    expect(runbooks).toEqual(alerts.map((a) => `${a.folder}/runbooks/${a.name}.md`).sort());
  });

  it.each(runbooks)("%s is titled with its alert and shows how to silence it", (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    expect(text.split("\n")[0]).toBe(`# ${path.basename(file, ".md")}`);
    expect(text).toMatch(/amtool .*silence add .*environment=/);
  });

  it.each([...runbooks, "docs/runbooks.md"])("%s links only to files that exist", (file) => {
    const absolute = path.join(ROOT, file);
    expect(brokenLinks(absolute, fs.readFileSync(absolute, "utf8"))).toEqual([]);
  });

  it("the link check finds a link that leads nowhere", () => {
    const text = "[a](Other.md) [b](../guide.md#x) [c](https://example.org/x.md) [d](#here)";
    expect(brokenLinks("/r/x/A.md", text, (target) => target === "/r/guide.md")).toEqual(["Other.md"]);
  });
});

describe("promtool unit tests (rules/tests beside each rule file)", () => {
  // Against copies rendered for a default environment (writeRenderedRules).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pm-rules-"));
  // dev scrapes registries and the TEG layer, so its "absent" alerts are armed.
  const parameters = ruleParameters(shippedEnvironment("dev"));
  writeRenderedRules(dir, ASSETS.ruleFiles, parameters);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("are rendered with the thresholds and runbook base URL their expectations assume", () => {
    expect(parameters).toMatchObject({ runbookBaseUrl: ".", latencyP99Seconds: 2, treasuryMinimumTokens: 1000 });
  });

  it("exist for every rule file", () => {
    expect(testFiles).toEqual(ASSETS.ruleFiles.map((f) => `${f.folder}/rules/tests/${f.name.replace(/\.rules\.yml$/, ".test.yml")}`).sort());
  });

  it.each(testFiles)("%s passes", (file) => {
    // run() throws with promtool's output when a case fails.
    expect(run(tool("promtool"), ["test", "rules", path.basename(file)], { cwd: path.join(dir, path.dirname(file)) })).toMatch(/SUCCESS/);
  });

  it("show every alert firing and every alert but the Watchdog staying silent", () => {
    type TestFile = { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] };
    const firing = new Set<string>();
    const silent = new Set<string>();
    for (const file of testFiles) {
      const parsed = parse(fs.readFileSync(path.join(ROOT, file), "utf8")) as TestFile;
      for (const c of parsed.tests.flatMap((t) => t.alert_rule_test ?? [])) {
        (c.exp_alerts && c.exp_alerts.length > 0 ? firing : silent).add(c.alertname);
      }
    }
    expect(alertNames.filter((name) => !firing.has(name))).toEqual([]);
    expect(alertNames.filter((name) => name !== WATCHDOG && !silent.has(name))).toEqual([]);
  });
});

describe("Alertmanager routes (amtool config routes test)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pm-routes-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const configOf = (env: Environment) => alertmanagerConfig(env);
  const receiverIn = (name: string, env: Environment, labels: Record<string, string>) => {
    const matchers = Object.entries({ ...labels, environment: env.name }).map(([k, v]) => `${k}=${v}`);
    return amtool((file) => ["config", "routes", "test", `--config.file=${file}`, ...matchers], configOf(env), dir, name).trim();
  };
  const receiverFor = (environmentName: string, labels: Record<string, string>) => receiverIn(environmentName, shippedEnvironment(environmentName), labels);
  const expectedInProd = (alert: Alert) =>
    alert.name === WATCHDOG ? "heartbeat" : ({ critical: "pagerduty", warning: "slack", info: "null" } as Record<string, string>)[alert.labels.severity];

  it.each(alerts.map((a) => [a.name, a.labels.severity, a] as const))("prod sends %s (%s) to its receiver", (name, severity, alert) => {
    expect(receiverFor("prod", { alertname: name, severity })).toBe(expectedInProd(alert));
  });

  it.each(SEVERITIES)("dev, without receivers, sends %s to null", (severity) => {
    expect(receiverFor("dev", { alertname: "RegistryDown", severity })).toBe("null");
  });

  it("sends the Watchdog to the heartbeat service where there is one, and nowhere else", () => {
    expect(receiverFor("prod", { alertname: WATCHDOG, severity: "none", service: "monitoring" })).toBe("heartbeat");
    expect(receiverFor("dev", { alertname: WATCHDOG, severity: "none", service: "monitoring" })).toBe("null");
    const heartbeatOnly = environment({ name: "beat", alerting: { heartbeat: true, runbookBaseUrl: "https://runbooks.example" } });
    expect(receiverIn("beat", heartbeatOnly, { alertname: WATCHDOG, severity: "none" })).toBe("heartbeat");
    expect(receiverIn("beat", heartbeatOnly, { alertname: "RegistryDown", severity: "critical" })).toBe("null");
  });

  // The delivery-failure matrix of docs/alerts.md ("Dead man's switch"): a failing integration's
  // own alert goes to another integration wherever there is one.
  const failure = (integration: string) => ({ alertname: "AlertmanagerFailedToSendAlerts", severity: "critical", service: "alertmanager", integration });
  const receiversOnly = (name: string, alerting: Record<string, unknown>) =>
    environment({ name, alerting: { runbookBaseUrl: "https://runbooks.example", ...alerting } });

  it.each([
    ["pagerduty", "slack"],
    ["slack", "pagerduty"],
    ["webhook", "pagerduty"],
  ])("prod (PagerDuty, Slack, heartbeat) sends %s's delivery failure to %s", (integration, receiver) => {
    expect(receiverFor("prod", failure(integration))).toBe(receiver);
  });

  it("with one integration only, sends its failure to that one (the heartbeat's silence is the other way: see the inhibition tests)", () => {
    const pagerdutyOnly = receiversOnly("pdonly", { pagerduty: true, heartbeat: true });
    expect(receiverIn("pdonly", pagerdutyOnly, failure("pagerduty"))).toBe("pagerduty");
    expect(receiverIn("pdonly", pagerdutyOnly, failure("webhook"))).toBe("pagerduty");
    const slackOnly = receiversOnly("slackonly", { slack: { channel: "#alerts" }, heartbeat: true });
    expect(receiverIn("slackonly", slackOnly, failure("slack"))).toBe("slack");
    expect(receiverIn("slackonly", slackOnly, failure("webhook"))).toBe("slack");
  });
});

describe("the alert table (docs/alerts.md)", () => {
  it("lists every alert with its severity and a link to its runbook, and nothing else", () => {
    const page = fs.readFileSync(ALERTS_PAGE, "utf8");
    const section = page.slice(page.indexOf("\n## Alerts\n"), page.indexOf("\n## ", page.indexOf("\n## Alerts\n") + 1));
    const rows = section
      .split("\n")
      .filter((line) => line.startsWith("|"))
      .slice(2) // header and separator
      .map((line) => line.split("|").map((cell) => cell.trim().replace(/`/g, "")))
      .map(([, alert, severity, , firesWhen]) => ({ alert, severity, firesWhen }));
    const folderOf = new Map(alerts.map((a) => [a.name, a.folder]));
    // Links from docs/ into the repository: ../<rule file's folder>/runbooks/<Alert>.md.
    expect(rows.filter((r) => !/^\[(\w+)\]\(\.\.\/(\S+)\/runbooks\/\1\.md\)$/.test(r.alert) || /\(\.\.\/(\S+)\/runbooks\//.exec(r.alert)?.[1] !== folderOf.get(/^\[(\w+)\]/.exec(r.alert)?.[1] ?? "")).map((r) => r.alert)).toEqual([]);
    const documented = rows.map((r) => `${/^\[(\w+)\]/.exec(r.alert)?.[1]} ${r.severity}`).sort();
    expect(documented).toEqual(alerts.map((a) => `${a.name} ${a.labels.severity}`).sort());
    // Dormant alerts say so, with their reason, and only they do.
    const markedDormant = rows.filter((r) => /\*\*dormant\*\*: needs /.test(r.firesWhen)).map((r) => /^\[(\w+)\]/.exec(r.alert)?.[1]);
    expect(markedDormant.sort()).toEqual(alerts.filter((a) => "dormant" in a.annotations).map((a) => a.name).sort());
  });
});

/**
 * No alert is unfireable in the environments the project ships: every alert Prometheus loads
 * in an environment (the rule files uploaded into its container) reads only metrics that a
 * service of that environment exports (the metric catalog's `source`, mapped to the environment
 * by exportedSources in stacks/services/prometheus/rules.ts), or it is marked dormant with its reason (the
 * annotation `dormant`). A dormant marker must be true as well: an alert that could fire is not
 * dormant.
 */
import { parse as parseYaml } from "yaml";
import { exportedSources, type MetricSource } from "../../stacks/services/prometheus/rules";
import type { Environment } from "../../stacks/environment";
import { analyse, CATALOG } from "../helpers/promql";
import { ASSETS, CONFIG_PATHS, containerNamed, environment, shippedEnvironment, SHIPPED_ENVIRONMENTS, synth, uploadedFile } from "../helpers/synth";

interface LoadedAlert {
  file: string;
  name: string;
  expr: string;
  dormant?: string;
}

type RuleYaml = { groups: { rules: { alert?: string; expr: unknown; annotations?: Record<string, string> }[] }[] };

function alertsIn(file: string, content: string): LoadedAlert[] {
  return (parseYaml(content) as RuleYaml).groups.flatMap((g) =>
    g.rules.filter((r) => r.alert).map((r) => ({ file, name: r.alert as string, expr: String(r.expr), dormant: r.annotations?.dormant })),
  );
}

/** The alerts an environment's Prometheus loads: the rendered rule files uploaded into it. */
function loadedAlerts(env: Environment): LoadedAlert[] {
  const prometheus = containerNamed(synth(env), `${env.name}-prometheus`);
  return (prometheus.upload ?? [])
    .filter((u) => u.file.startsWith(`${CONFIG_PATHS.prometheusRulesDir}/`))
    .flatMap((u) => alertsIn(u.file.slice(CONFIG_PATHS.prometheusRulesDir.length + 1), uploadedFile(prometheus, u.file)));
}

/** Why an alert cannot fire where these sources export metrics: one line per missing metric. */
function missingMetrics(alert: Pick<LoadedAlert, "expr">, sources: ReadonlySet<MetricSource>): string[] {
  const { problems, uses } = analyse(alert.expr, CATALOG);
  if (problems.length > 0) return problems; // promql.test.ts reports these in detail
  return uses.flatMap((name) => {
    const entry = CATALOG[name];
    if (entry.status === "expected") return [`${name} is only expected (from ${entry.source}); nothing exports it yet`];
    if (!sources.has(entry.source)) return [`${name} comes from ${entry.source}, which this environment neither runs nor scrapes`];
    return [];
  });
}

/** Every alert that cannot fire without being marked dormant, and every stale dormant marker. */
function fireabilityProblems(alerts: readonly LoadedAlert[], sources: ReadonlySet<MetricSource>): string[] {
  return alerts.flatMap((alert) => {
    const missing = missingMetrics(alert, sources);
    const where = `${alert.file} › ${alert.name}`;
    if (alert.dormant === undefined) return missing.map((m) => `${where} cannot fire here and is not marked dormant: ${m}`);
    return missing.length === 0 ? [`${where} is marked dormant ("${alert.dormant}") but every metric it reads is exported here`] : [];
  });
}

describe.each(SHIPPED_ENVIRONMENTS)("environments/%s.yaml", (name) => {
  const env = shippedEnvironment(name);
  const alerts = loadedAlerts(env);

  it("loads only alerts that can fire there, or that are marked dormant with their reason", () => {
    expect(alerts.length).toBeGreaterThan(0);
    expect(fireabilityProblems(alerts, exportedSources(env))).toEqual([]);
  });
});

describe("across the shipped environments", () => {
  const loaded = SHIPPED_ENVIRONMENTS.map((name) => loadedAlerts(shippedEnvironment(name)));
  const allAlerts = ASSETS.ruleFiles.flatMap((f) => alertsIn(f.name, f.content));

  it("every alert is loaded in at least one of them (prod loads every rule file)", () => {
    const everLoaded = new Set(loaded.flat().map((a) => a.name));
    expect(allAlerts.map((a) => a.name).filter((n) => !everLoaded.has(n))).toEqual([]);
  });

  it("dev, which scrapes no agents, does not load the agent alert; prod and local load what they scrape", () => {
    const names = (env: string) => loadedAlerts(shippedEnvironment(env)).map((a) => a.name);
    expect(names("dev")).not.toContain("AgentHighResponseTime");
    expect(names("prod")).toContain("AgentHighResponseTime");
    expect(names("local")).toEqual(expect.arrayContaining(["HighMemoryUsage", "AlertmanagerFailedToSendAlerts", "RegistryDown"]));
  });
});

describe("the check itself", () => {
  const sources = exportedSources(environment({ services: ["prometheus"] }));

  it("flags an alert whose metric no service of the environment exports", () => {
    const alert = { file: "x.rules.yml", name: "LowTreasuryBalance", expr: "teg_treasury_balance < 1000" };
    expect(fireabilityProblems([alert], sources)).toEqual([
      "x.rules.yml › LowTreasuryBalance cannot fire here and is not marked dormant: teg_treasury_balance comes from teg, which this environment neither runs nor scrapes",
    ]);
    expect(fireabilityProblems([alert], exportedSources(environment({ scrape: { targets: [{ job: "teg_layer", targets: ["h:1"] }] } })))).toEqual([]);
  });

  it("flags an alert on an expected (not yet exported) metric, and accepts it when marked dormant", () => {
    const alert = { file: "x.rules.yml", name: "FailedAuthAttempts", expr: "rate(auth_failures_total[5m]) > 1" };
    const registries = exportedSources(environment({ scrape: { targets: [{ job: "registry_a", targets: ["h:1"] }] } }));
    expect(fireabilityProblems([alert], registries)).toEqual([expect.stringContaining("auth_failures_total is only expected")]);
    expect(fireabilityProblems([{ ...alert, dormant: "needs auth_failures_total" }], registries)).toEqual([]);
  });

  it("flags a stale dormant marker: the exporter is scraped now", () => {
    const alert = { file: "x.rules.yml", name: "RegistryDatabaseDown", expr: "pg_up == 0", dormant: "needs a postgres_exporter target" };
    expect(fireabilityProblems([alert], sources)).toEqual([]);
    const withExporter = exportedSources(environment({ scrape: { targets: [{ job: "postgres", targets: ["pg-exporter:9187"] }] } }));
    expect(fireabilityProblems([alert], withExporter)).toEqual([expect.stringContaining("is marked dormant")]);
  });

  it("finds the alerts of a rendered rule file", () => {
    const file = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations: { dormant: needs x }\n      - record: r\n        expr: up\n";
    expect(alertsIn("g.rules.yml", file)).toEqual([{ file: "g.rules.yml", name: "A", expr: "up == 0", dormant: "needs x" }]);
  });
});

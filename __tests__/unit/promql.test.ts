/**
 * Every PromQL expression the project ships (dashboard targets and rule `expr`s) is parsed with
 * Prometheus's own grammar, @prometheus-io/lezer-promql (the parser of the Prometheus web UI),
 * and every metric it selects, read from the syntax tree, must be in the metric catalog (each folder's metrics.yml). This
 * catches what the seed shipped: a misspelt metric, a metric nothing exports, a histogram read
 * as a summary. promtool, Prometheus's real parser and type checker, then checks the dashboard
 * expressions too (configs.test.ts already runs it on the rule files).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import {
  analyse,
  CATALOG,
  CATALOG_PATH,
  type DashboardModel,
  dashboardQueries,
  findings,
  interpolateGrafana,
  CATALOG_FILES,
  CATALOG_PROBLEMS,
  readCatalog,
  PROTOCOL_SOURCES,
  recordedSeries,
  renderedRules,
  ruleQueries,
} from "../helpers/promql";
import { ASSETS } from "../helpers/synth";
import { run, tool } from "../helpers/tools";
import { tempDir } from "../helpers/temp";

// ---------------------------------------------------------------------------------------------
// Tests (the checker itself is in __tests__/helpers/promql.ts)
// ---------------------------------------------------------------------------------------------

const DASHBOARDS = Object.entries(ASSETS.dashboards).map(([file, text]) => ({ file, model: JSON.parse(text) as DashboardModel }));
const RECORDED = recordedSeries(ASSETS.ruleFiles);
const ALL_QUERIES = [...DASHBOARDS.flatMap((d) => dashboardQueries(d.file, d.model)), ...ASSETS.ruleFiles.flatMap(ruleQueries)];

describe(CATALOG_PATH, () => {
  it("is a valid catalog: source, type, help, labels, and a status that says who documents or should export it", () => {
    expect(CATALOG_PROBLEMS).toEqual([]);
    expect(Object.keys(CATALOG).length).toBeGreaterThan(0);
    // Every folder that owns metrics has its file: the Protocol's and every service's with metrics.sources.
    expect(CATALOG_FILES.map((f) => f.file)).toContain("stacks/protocol/metrics.yml");
  });

  it("is refused, naming the file, where a metric is listed twice, its source is another folder's, or an entry is malformed", () => {
    const dir = tempDir("pm-catalog");
    const entry = (source: string) => ({ source, type: "gauge", help: "h", labels: [], status: "exported", documented_in: "d" });
    fs.writeFileSync(path.join(dir, "a.yml"), stringify({ metrics: { up: entry("prometheus"), node_load1: entry("node_exporter") } }));
    fs.writeFileSync(path.join(dir, "b.yml"), stringify({ metrics: { up: entry("prometheus") } }));
    fs.writeFileSync(path.join(dir, "c.yml"), stringify({ metrics: { thing: { source: "prometheus" } } }));
    const { problems } = readCatalog(dir, [
      { file: "a.yml", sources: ["prometheus"] },
      { file: "b.yml", sources: ["prometheus"] },
      { file: "c.yml", sources: ["prometheus"] },
    ]);
    expect(problems).toEqual([
      "a.yml: node_load1 has source node_exporter, which is not this folder's (prometheus)",
      "b.yml: up is in a.yml too",
      expect.stringMatching(/^c\.yml: metrics\.thing/),
    ]);
  });

  it("names counters *_total and lists histograms and summaries by their base name", () => {
    const misnamed = Object.entries(CATALOG).flatMap(([name, e]) => {
      if (e.type === "counter" && !name.endsWith("_total")) return [`counter ${name} does not end in _total`];
      if ((e.type === "histogram" || e.type === "summary") && /_(bucket|sum|count|total)$/.test(name)) return [`${e.type} ${name} must be listed by its base name`];
      return [];
    });
    expect(misnamed).toEqual([]);
  });

  it("documents the metrics of the Protocol services from the setup guide, with their types and labels", () => {
    const exported = (source: string, type: string, labels: string[] = []) => ({ source, type, labels, status: "exported" });
    expect(CATALOG).toMatchObject({
      registry_agent_registrations_total: exported("registry", "counter"),
      registry_active_agents: exported("registry", "gauge"),
      http_request_duration_seconds: exported("registry", "histogram"),
      registry_federation_peers: exported("registry", "gauge"),
      teg_transfers_total: exported("teg", "counter", ["type"]),
      teg_treasury_balance: exported("teg", "gauge"),
      teg_staking_total: exported("teg", "gauge"),
      teg_fees_collected_total: exported("teg", "counter"),
      requests_total: exported("agent", "counter"),
      request_duration: exported("agent", "summary"),
    });
  });

  it("marks as expected only metrics of the Protocol services, which nothing documents yet", () => {
    const expected = Object.entries(CATALOG).filter(([, e]) => e.status === "expected");
    expect(expected.map(([name]) => name)).toEqual(expect.arrayContaining(["auth_failures_total"]));
    expect(expected.filter(([, e]) => !PROTOCOL_SOURCES.includes(e.source)).map(([name]) => name)).toEqual([]);
  });
});

describe("the PromQL checker", () => {
  const problems = (expr: string, recorded?: ReadonlySet<string>) => analyse(expr, CATALOG, recorded).problems;

  it("accepts a valid expression and reports the catalog entries it reads", () => {
    const expr = 'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{job="registry_a"}[5m]))) / on() group_left teg_treasury_balance';
    expect(analyse(expr, CATALOG)).toEqual({ problems: [], uses: ["http_request_duration_seconds", "teg_treasury_balance"] });
  });

  it("reports a syntax error, marking where it is", () => {
    expect(problems("sum(rate(up[5m])")).toEqual([expect.stringMatching(/^does not parse .*: sum\(rate\(up\[5m\]\)⚠$/)]);
    expect(problems("up{job=}")).toEqual([expect.stringMatching(/does not parse/)]);
    expect(problems("  ")).toEqual(["empty expression"]);
  });

  it("reports an unknown metric (the seed's misspelt TEG counter)", () => {
    expect(problems("sum(rate(teg_transactions_total[5m])) * 60 > 100")).toEqual([`unknown metric teg_transactions_total: not in ${CATALOG_PATH}`]);
  });

  it("reads metric names from __name__ matchers and quoted names too", () => {
    expect(problems('x509_cert_expiry - time()')).toEqual([expect.stringContaining("unknown metric x509_cert_expiry")]);
    expect(problems('{__name__="x509_cert_expiry"} - time()')).toEqual([expect.stringContaining("unknown metric x509_cert_expiry")]);
    expect(problems('{"x509_cert_expiry"} - time()')).toEqual([expect.stringContaining("unknown metric x509_cert_expiry")]);
    expect(problems('{__name__=~"up|made_up_metric"}')).toEqual([expect.stringContaining("unknown metric made_up_metric")]);
    expect(problems('{__name__=~"node_.*"}')).toEqual([expect.stringContaining("cannot be checked")]);
    expect(problems('{job="node"}')).toEqual([expect.stringContaining("selects no metric by name")]);
    expect(problems('{__name__="up", job="node"}')).toEqual([]);
  });

  it("takes metric names from the syntax tree, not from words that merely look like metrics", () => {
    // A label value, a grouping label, a string argument and a function name: none is a metric.
    expect(problems('label_replace(up{job="made_up_metric"}, "made_up_metric", "$1", "job", "(.*)")')).toEqual([]);
    expect(problems("sum by (made_up_metric) (up)")).toEqual([]);
    expect(problems("absent_over_time(up[5m]) # made_up_metric in a comment")).toEqual([]);
  });

  it("rejects a histogram read as a summary (the seed's quantile label) and its bare name", () => {
    expect(problems('http_request_duration_seconds{quantile="0.99"} > 2')).toEqual([expect.stringContaining("http_request_duration_seconds is a histogram")]);
    expect(problems("rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])")).toEqual([]);
  });

  it("rejects a label the catalog does not list for the metric", () => {
    expect(problems('rate(http_request_duration_seconds_count{status=~"5.."}[5m])')).toEqual([expect.stringContaining('http_request_duration_seconds_count has no label "status"')]);
    expect(problems('http_request_duration_seconds_count{le="1"}')).toEqual([expect.stringContaining('has no label "le"')]);
    expect(problems('http_request_duration_seconds_bucket{le="1", job="registry_a", instance="x"}')).toEqual([]);
    expect(problems('up{environment="dev"}')).toEqual([expect.stringContaining('up has no label "environment"')]);
  });

  it("interpolates Grafana's interval variables and rejects any other variable", () => {
    expect(problems("rate(up[$__rate_interval]) + rate(up[${__interval}])")).toEqual([]);
    expect(problems("rate(up[$window])")).toEqual([expect.stringContaining("does not parse")]);
    expect(problems('up{job=~"$job"}')).toEqual([expect.stringContaining("unknown variable $job")]);
  });

  it("replaces a dashboard's own template variables, and only those", () => {
    const dashboard = {
      templating: { list: [{ name: "job" }, { name: "instance" }] },
      panels: [{ id: 1, title: "p", targets: [{ refId: "A", expr: 'up{job=~"$job", instance=~"${instance:regex}"} * on() group_left count(up{job=~"$jobs"})' }] }],
    };
    const [query] = dashboardQueries("x.json", dashboard);
    expect(query.expr).toBe('up{job=~".+", instance=~".+"} * on() group_left count(up{job=~"$jobs"})');
    expect(findings([query], CATALOG, new Set())).toEqual([expect.stringContaining("unknown variable $jobs")]);
  });

  it("knows the series the project's recording rules create", () => {
    expect(problems("job:up:avg > 0")).toEqual([expect.stringContaining("unknown metric job:up:avg")]);
    expect(problems("job:up:avg > 0", new Set(["job:up:avg"]))).toEqual([]);
  });

  it("finds every target of a dashboard, also inside rows, and names file, panel and target", () => {
    const dashboard = {
      panels: [
        { id: 1, title: "Fine", targets: [{ refId: "A", expr: "up" }] },
        { id: 2, title: "Row", panels: [{ id: 3, title: "Broken", targets: [{ refId: "B", expr: "rate(up[5m]" }] }] },
      ],
    };
    const queries = dashboardQueries("x.json", dashboard);
    expect(queries.map((q) => q.where)).toEqual(['stacks/services/grafana/dashboards/x.json › panel 1 "Fine" › target A', 'stacks/services/grafana/dashboards/x.json › panel 3 "Broken" › target B']);
    expect(findings(queries, CATALOG, new Set())).toEqual([expect.stringMatching(/^stacks\/services\/grafana\/dashboards\/x\.json › panel 3 "Broken" › target B\n {4}expr: rate\(up\[5m\]\n {4}does not parse/)]);
  });

  it("finds every rule of a rule file after rendering its placeholders, and names the alert", () => {
    const file = { name: "x.rules.yml", owner: "protocol", folder: "stacks/protocol", content: "groups:\n  - name: g\n    rules:\n      - alert: Bad\n        expr: made_up_metric > [[ latencyP99Seconds ]]\n      - record: job:up:avg\n        expr: avg by (job) (up)\n" };
    expect(ruleQueries(file)).toEqual([
      { where: "stacks/protocol/rules/x.rules.yml › group g › alert Bad", expr: "made_up_metric > 2" },
      { where: "stacks/protocol/rules/x.rules.yml › group g › record job:up:avg", expr: "avg by (job) (up)" },
    ]);
    expect(recordedSeries([file])).toEqual(new Set(["job:up:avg"]));
    expect(findings(ruleQueries(file), CATALOG, new Set())).toEqual([expect.stringContaining("stacks/protocol/rules/x.rules.yml › group g › alert Bad\n    expr: made_up_metric > 2\n    unknown metric made_up_metric")]);
  });
});

describe("shipped expressions", () => {
  it.each(DASHBOARDS.map((d) => [d.file, d.model] as const))("dashboard %s: every target parses and reads only catalogued metrics", (file, model) => {
    const queries = dashboardQueries(file, model);
    expect(queries.length).toBeGreaterThan(0);
    expect(findings(queries, CATALOG, RECORDED)).toEqual([]);
  });

  it.each(DASHBOARDS.map((d) => [d.file, d.model] as const))("dashboard %s: template variables read catalogued metrics", (file, model) => {
    const variables = (model as { templating?: { list?: { name: string; definition?: string }[] } }).templating?.list ?? [];
    const queries = variables.map((v) => {
      // label_values(<selector>, <label>): the selector is PromQL.
      const selector = /^label_values\((.+),\s*\w+\)$/.exec(v.definition ?? "")?.[1] ?? "";
      return dashboardQueries(file, { templating: model.templating, panels: [{ id: 0, title: `variable ${v.name}`, targets: [{ refId: v.name, expr: selector }] }] })[0];
    });
    expect(findings(queries, CATALOG, RECORDED)).toEqual([]);
  });

  it.each(ASSETS.ruleFiles.map((f) => [f.name, f] as const))("rule file %s: every rule parses and reads only catalogued metrics", (_, file) => {
    const queries = ruleQueries(file);
    expect(queries.length).toBe(renderedRules(file).groups.reduce((n, g) => n + g.rules.length, 0));
    expect(findings(queries, CATALOG, RECORDED)).toEqual([]);
  });

  it("Prometheus itself (promtool check rules) accepts every dashboard expression", () => {
    const queries = DASHBOARDS.flatMap((d) => dashboardQueries(d.file, d.model));
    // The record name carries file, panel and target, so promtool's error message names them.
    const rules = queries.map((q) => ({ record: `dashboard:${q.where.replace(/[^a-zA-Z0-9]+/g, "_")}`, expr: interpolateGrafana(q.expr) }));
    const file = path.join(tempDir("pm-promql"), "dashboards.rules.yml");
    fs.writeFileSync(file, stringify({ groups: [{ name: "dashboards", rules }] }));
    expect(run(tool("promtool"), ["check", "rules", file])).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  // Soft check: an entry nothing reads is not an error (the catalog also lists what may be used),
  // but the list is worth a look when the catalog grows.
  afterAll(() => {
    const used = new Set(ALL_QUERIES.flatMap((q) => analyse(q.expr, CATALOG, RECORDED).uses));
    const unused = Object.keys(CATALOG).filter((name) => !used.has(name));
    if (unused.length > 0) console.info(`${CATALOG_PATH}: ${unused.length} entries no dashboard or rule reads yet: ${unused.join(", ")}`);
  });
});

/**
 * Every PromQL expression the project ships (dashboard targets and rule `expr`s) is parsed with
 * Prometheus's own grammar, @prometheus-io/lezer-promql (the parser of the Prometheus web UI),
 * and every metric it selects, read from the syntax tree, must be in assets/metrics.yml. This
 * catches what the seed shipped: a misspelt metric, a metric nothing exports, a histogram read
 * as a summary. promtool, Prometheus's real parser and type checker, then checks the dashboard
 * expressions too (configs.test.ts already runs it on the rule files).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { parse as parseYaml, stringify } from "yaml";
import { z } from "zod";
import type { RuleFile } from "../../stacks/config/prometheus";
import { renderRuleFile, ruleParameters } from "../../stacks/config/rules";
import { ASSETS, environment, ROOT } from "../helpers/synth";
import { run, tool } from "../helpers/tools";

// ---------------------------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------------------------

const CATALOG_PATH = "assets/metrics.yml";
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Labels Prometheus attaches to every scraped series; any selector may match on them. */
const TARGET_LABELS = ["job", "instance"];
/** Components whose metrics are not documented anywhere yet, so the only ones that may be `expected`. */
const PROTOCOL_SOURCES = ["registry", "teg", "spire"];

const SOURCES = [
  "prometheus",
  "alertmanager",
  "node_exporter",
  "grafana",
  "client_library",
  "registry",
  "teg",
  "spire",
  "x509-certificate-exporter",
  "elasticsearch_exporter",
] as const;

const entryFields = {
  source: z.enum(SOURCES),
  type: z.enum(["counter", "gauge", "histogram", "summary"]),
  help: z.string().min(1),
  labels: z.array(z.string().regex(LABEL_NAME)),
};
const catalogSchema = z.strictObject({
  metrics: z.record(
    z.string().regex(METRIC_NAME),
    z.discriminatedUnion("status", [
      z.strictObject({ ...entryFields, status: z.literal("exported"), documented_in: z.string().min(1) }),
      z.strictObject({ ...entryFields, status: z.literal("expected"), expected_from: z.string().min(1) }),
    ]),
  ),
});
type CatalogEntry = z.infer<typeof catalogSchema>["metrics"][string];
type Catalog = Readonly<Record<string, CatalogEntry>>;

// `yaml` refuses duplicate keys, so a metric cannot be listed twice.
const parsedCatalog = catalogSchema.safeParse(parseYaml(fs.readFileSync(path.join(ROOT, CATALOG_PATH), "utf8")));
const CATALOG: Catalog = parsedCatalog.success ? parsedCatalog.data.metrics : {};

// ---------------------------------------------------------------------------------------------
// Where the expressions are
// ---------------------------------------------------------------------------------------------

interface Query {
  /** File, panel or alert, and target: what a failure names. */
  readonly where: string;
  readonly expr: string;
}

interface DashboardTarget {
  refId?: string;
  expr?: unknown;
}
interface DashboardPanel {
  id?: number;
  title?: string;
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

function dashboardQueries(file: string, dashboard: { panels?: DashboardPanel[] }): Query[] {
  const fromPanel = (panel: DashboardPanel): Query[] => [
    ...(panel.targets ?? []).map((target) => ({
      where: `assets/dashboards/${file} › panel ${panel.id} "${panel.title}" › target ${target.refId}`,
      expr: typeof target.expr === "string" ? target.expr : "",
    })),
    ...(panel.panels ?? []).flatMap(fromPanel), // panels inside a collapsed row
  ];
  return (dashboard.panels ?? []).flatMap(fromPanel);
}

interface RuleDocument {
  groups: { name: string; rules: { alert?: string; record?: string; expr: unknown }[] }[];
}

/** Rule files hold `[[ name ]]` placeholders: render them as for an environment with defaults. */
function renderedRules(file: RuleFile): RuleDocument {
  return parseYaml(renderRuleFile(file, ruleParameters(environment())).content) as RuleDocument;
}

function ruleQueries(file: RuleFile): Query[] {
  return renderedRules(file).groups.flatMap((group) =>
    group.rules.map((rule) => ({
      where: `assets/rules/${file.name} › group ${group.name} › ${rule.alert ? `alert ${rule.alert}` : `record ${rule.record}`}`,
      expr: String(rule.expr ?? ""),
    })),
  );
}

/** Series the project's own recording rules create: known without a catalog entry. */
function recordedSeries(files: readonly RuleFile[]): Set<string> {
  return new Set(files.flatMap((f) => renderedRules(f).groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])))));
}

/**
 * Grafana replaces its interval variables before the query reaches Prometheus; do the same with
 * representative values. Any other `$variable` stays and fails to parse: these dashboards define
 * no template variables.
 */
function interpolateGrafana(expr: string): string {
  const values: Record<string, string> = { __rate_interval: "1m", __interval: "15s", __range: "6h" };
  return expr.replace(/\$\{?(__rate_interval|__interval|__range)\b\}?/g, (_, name: string) => values[name]);
}

// ---------------------------------------------------------------------------------------------
// The checker: parse, walk the syntax tree, look metrics up
// ---------------------------------------------------------------------------------------------

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

interface Selector {
  readonly text: string;
  /** Metric names the selector names positively: identifier, quoted name, __name__ = / =~ a|b. */
  readonly names: string[];
  readonly matchers: { label: string; op: string; value: string }[];
  readonly problems: string[];
}

/** The value of a PromQL string literal ("…" and '…' with Go escapes, or `raw`). */
function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  if (literal.startsWith("`")) return body;
  try {
    return JSON.parse(`"${literal.startsWith("'") ? body.replace(/\\'/g, "'").replace(/"/g, '\\"') : body}"`) as string;
  } catch {
    return body;
  }
}

function readSelector(node: SyntaxNode, source: string): Selector {
  const text = (n: SyntaxNode) => source.slice(n.from, n.to);
  const selector: Selector = { text: text(node), names: [], matchers: [], problems: [] };
  const identifier = node.getChild("Identifier");
  if (identifier) selector.names.push(text(identifier));
  const matchers = node.getChild("LabelMatchers");
  for (let child = matchers?.firstChild ?? null; child; child = child.nextSibling) {
    if (child.name === "QuotedLabelName") {
      // {"metric.name", …}: a UTF-8 metric name in quotes (Prometheus 3).
      const literal = child.getChild("StringLiteral");
      if (literal) selector.names.push(unquote(text(literal)));
    } else if (child.name === "UnquotedLabelMatcher" || child.name === "QuotedLabelMatcher") {
      const labelNode = child.firstChild;
      const quotedLabel = labelNode?.getChild("StringLiteral");
      const label = quotedLabel ? unquote(text(quotedLabel)) : labelNode ? text(labelNode) : "";
      const opNode = child.getChild("MatchOp");
      const valueNode = child.lastChild;
      selector.matchers.push({ label, op: opNode ? text(opNode) : "", value: valueNode ? unquote(text(valueNode)) : "" });
    }
  }
  for (const { label, op, value } of selector.matchers.filter((m) => m.label === "__name__")) {
    if (op === "=") selector.names.push(value);
    else if (op === "=~" && /^[a-zA-Z_:][a-zA-Z0-9_:]*(\|[a-zA-Z_:][a-zA-Z0-9_:]*)*$/.test(value)) selector.names.push(...value.split("|"));
    else if (op === "=~") selector.problems.push(`${label}=~"${value}" cannot be checked against the catalog: list the names as a|b`);
  }
  if (selector.names.length === 0 && selector.problems.length === 0) selector.problems.push(`${selector.text} selects no metric by name`);
  return selector;
}

interface Analysis {
  readonly problems: string[];
  /** Catalog entries (histograms by their base name) and recorded series the expression reads. */
  readonly uses: string[];
}

/** Finds the catalog entry of a series name; a histogram's series resolve to its base entry. */
function resolve(name: string, catalog: Catalog): { key: string; entry: CatalogEntry; seriesLabels: string[] } | string {
  const entry = catalog[name];
  if (entry?.type === "histogram") return `${name} is a histogram: query ${name}_bucket, ${name}_sum or ${name}_count`;
  if (entry) return { key: name, entry, seriesLabels: entry.type === "summary" ? ["quantile"] : [] };
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    const base = name.slice(0, -suffix.length);
    const parent = name.endsWith(suffix) ? catalog[base] : undefined;
    if (parent?.type === "histogram") return { key: base, entry: parent, seriesLabels: suffix === "_bucket" ? ["le"] : [] };
    if (parent?.type === "summary" && suffix !== "_bucket") return { key: base, entry: parent, seriesLabels: [] };
  }
  return `unknown metric ${name}: not in ${CATALOG_PATH}`;
}

function analyse(expr: string, catalog: Catalog, recorded: ReadonlySet<string> = new Set()): Analysis {
  const source = interpolateGrafana(expr);
  if (source.trim() === "") return { problems: ["empty expression"], uses: [] };
  const tree = parser.parse(source);
  const errors: number[] = [];
  const selectors: Selector[] = [];
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) errors.push(ref.from);
      if (ref.name === "VectorSelector") selectors.push(readSelector(ref.node, source));
    },
  });
  if (errors.length > 0) {
    const at = errors[0];
    return { problems: [`does not parse (⚠ marks the first error): ${source.slice(0, at)}⚠${source.slice(at)}`], uses: [] };
  }
  const problems: string[] = [];
  const uses: string[] = [];
  for (const selector of selectors) {
    problems.push(...selector.problems);
    for (const name of selector.names) {
      if (recorded.has(name)) {
        uses.push(name);
        continue;
      }
      const found = resolve(name, catalog);
      if (typeof found === "string") {
        problems.push(found);
        continue;
      }
      uses.push(found.key);
      const allowed = new Set([...TARGET_LABELS, ...found.entry.labels, ...found.seriesLabels, "__name__"]);
      for (const { label } of selector.matchers.filter((m) => !allowed.has(m.label))) {
        problems.push(`${name} has no label "${label}" (${CATALOG_PATH} lists: ${[...allowed].filter((l) => l !== "__name__").join(", ")})`);
      }
    }
  }
  return { problems, uses };
}

/** One line per problem, naming the file, the panel or alert, and the expression. */
function findings(queries: readonly Query[], catalog: Catalog, recorded: ReadonlySet<string>): string[] {
  return queries.flatMap((q) => analyse(q.expr, catalog, recorded).problems.map((p) => `${q.where}\n    expr: ${q.expr}\n    ${p}`));
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

const DASHBOARDS = Object.entries(ASSETS.dashboards).map(([file, text]) => ({ file, model: JSON.parse(text) as { panels?: DashboardPanel[] } }));
const RECORDED = recordedSeries(ASSETS.ruleFiles);
const ALL_QUERIES = [...DASHBOARDS.flatMap((d) => dashboardQueries(d.file, d.model)), ...ASSETS.ruleFiles.flatMap(ruleQueries)];

describe(CATALOG_PATH, () => {
  it("is a valid catalog: source, type, help, labels, and a status that says who documents or should export it", () => {
    const issues = parsedCatalog.success ? [] : parsedCatalog.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues).toEqual([]);
    expect(Object.keys(CATALOG).length).toBeGreaterThan(0);
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
    expect(queries.map((q) => q.where)).toEqual(['assets/dashboards/x.json › panel 1 "Fine" › target A', 'assets/dashboards/x.json › panel 3 "Broken" › target B']);
    expect(findings(queries, CATALOG, new Set())).toEqual([expect.stringMatching(/^assets\/dashboards\/x\.json › panel 3 "Broken" › target B\n {4}expr: rate\(up\[5m\]\n {4}does not parse/)]);
  });

  it("finds every rule of a rule file after rendering its placeholders, and names the alert", () => {
    const file = { name: "x.rules.yml", content: "groups:\n  - name: g\n    rules:\n      - alert: Bad\n        expr: made_up_metric > [[ latencyP99Seconds ]]\n      - record: job:up:avg\n        expr: avg by (job) (up)\n" };
    expect(ruleQueries(file)).toEqual([
      { where: "assets/rules/x.rules.yml › group g › alert Bad", expr: "made_up_metric > 2" },
      { where: "assets/rules/x.rules.yml › group g › record job:up:avg", expr: "avg by (job) (up)" },
    ]);
    expect(recordedSeries([file])).toEqual(new Set(["job:up:avg"]));
    expect(findings(ruleQueries(file), CATALOG, new Set())).toEqual([expect.stringContaining("assets/rules/x.rules.yml › group g › alert Bad\n    expr: made_up_metric > 2\n    unknown metric made_up_metric")]);
  });
});

describe("shipped expressions", () => {
  it.each(DASHBOARDS.map((d) => [d.file, d.model] as const))("assets/dashboards/%s: every target parses and reads only catalogued metrics", (file, model) => {
    const queries = dashboardQueries(file, model);
    expect(queries.length).toBeGreaterThan(0);
    expect(findings(queries, CATALOG, RECORDED)).toEqual([]);
  });

  it.each(ASSETS.ruleFiles.map((f) => [f.name, f] as const))("assets/rules/%s: every rule parses and reads only catalogued metrics", (_, file) => {
    const queries = ruleQueries(file);
    expect(queries.length).toBe(renderedRules(file).groups.reduce((n, g) => n + g.rules.length, 0));
    expect(findings(queries, CATALOG, RECORDED)).toEqual([]);
  });

  it("Prometheus itself (promtool check rules) accepts every dashboard expression", () => {
    const queries = DASHBOARDS.flatMap((d) => dashboardQueries(d.file, d.model));
    // The record name carries file, panel and target, so promtool's error message names them.
    const rules = queries.map((q) => ({ record: `dashboard:${q.where.replace(/[^a-zA-Z0-9]+/g, "_")}`, expr: interpolateGrafana(q.expr) }));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pm-promql-")), "dashboards.rules.yml");
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

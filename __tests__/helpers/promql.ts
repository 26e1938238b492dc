/**
 * The PromQL checker of promql.test.ts and fireable.test.ts: the metric catalog
 * (each folder's metrics.yml), where the project's expressions are, and an analysis of one expression
 * with Prometheus's own grammar (@prometheus-io/lezer-promql).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { RuleFile } from "../../stacks/assets";
import { renderRuleFile, ruleParameters, SCRAPED_SOURCE_NAMES, type RuleParameters } from "../../stacks/services/prometheus/rules";
import { SERVICES } from "../../stacks/services";
import { grafana } from "../../stacks/services/grafana";
import { PROTOCOL_FOLDER, serviceFolder } from "../../stacks/assets";
import { environment, ROOT } from "./synth";

// ---------------------------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------------------------

/** Where the dashboards are, as failures name them. */
export const DASHBOARDS_FOLDER = `${serviceFolder(grafana)}/dashboards`;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Labels Prometheus attaches to every scraped series; any selector may match on them. */
export const TARGET_LABELS = ["job", "instance"];
/** Components whose metrics are not documented anywhere yet, so the only ones that may be `expected`. */
export const PROTOCOL_SOURCES = ["registry", "teg", "spire", "agent"];


/**
 * The metric catalog: what the dashboards and alert rules may use, one `metrics.yml` per folder
 * (each service's, with the metrics it exports; stacks/protocol's, with the Protocol services' and
 * the exporters that run beside them). promql.test.ts parses every expression with the Prometheus
 * grammar and fails on a metric or a selector label that is not listed, so a typo or an invented
 * metric (the seed read `teg_transactions_total`, `x509_cert_expiry` and a `quantile` label the
 * registry never exports) cannot ship. Each entry, keyed by the metric name as queried:
 *   source        the component that exports it (a `metrics.sources` of the folder's service, or
 *                 for stacks/protocol one of the scraped sources of rules.ts); which environments
 *                 have which source: exportedSources, against which fireable.test.ts checks every
 *                 loaded alert
 *   type          counter | gauge | histogram | summary | untyped (as the exporter declares it; a histogram listed once, by its base
 *                 name, and queried as <name>_bucket with `le`, <name>_sum, <name>_count)
 *   help          what one sample means
 *   labels        the labels the exporter puts on the series, besides `job` and `instance`
 *   status        exported (documented by that component; `documented_in` says where) or
 *                 expected (nothing documents it yet; `expected_from` names the Protocol
 *                 service expected to export it, for the rule or panel that reads it to show anything)
 * Series recorded by `record:` rules need no entry: the tests take them from the rule files.
 */
export const CATALOG_FILES: readonly { readonly file: string; readonly sources: readonly string[] }[] = [
  ...SERVICES.map((service) => ({ file: `${serviceFolder(service)}/metrics.yml`, sources: service.metrics?.sources ?? [] })),
  { file: `${PROTOCOL_FOLDER}/metrics.yml`, sources: SCRAPED_SOURCE_NAMES },
].filter((entry) => fs.existsSync(path.join(ROOT, entry.file)));
/** How failures name the catalog. */
export const CATALOG_PATH = "the metric catalog (metrics.yml)";

/**
 * Rule files have [[ placeholders ]]: promtool tests run against copies rendered with `parameters`,
 * laid out in `dir` as in the repository (<folder>/rules/<file>, its tests in <folder>/rules/tests).
 * Returns the folders that hold rules.
 */
export function writeRenderedRules(dir: string, files: readonly RuleFile[], parameters: RuleParameters): string[] {
  const folders = [...new Set(files.map((file) => file.folder))];
  for (const file of files) {
    fs.mkdirSync(path.join(dir, file.folder, "rules"), { recursive: true });
    fs.writeFileSync(path.join(dir, file.folder, "rules", file.name), renderRuleFile(file, parameters).content);
  }
  for (const folder of folders) fs.cpSync(path.join(ROOT, folder, "rules", "tests"), path.join(dir, folder, "rules", "tests"), { recursive: true });
  return folders;
}

const entryFields = {
  // Which sources a file may name is its folder's (readCatalog checks it).
  source: z.string().min(1),
  type: z.enum(["counter", "gauge", "histogram", "summary", "untyped"]),
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
export type Catalog = Readonly<Record<string, CatalogEntry>>;

/** Each file parsed (`yaml` refuses a key twice within a file); problems: a file that does not parse, a metric in two files, a source not the folder's. */
export function readCatalog(root: string, files: typeof CATALOG_FILES): { catalog: Catalog; problems: string[] } {
  const catalog: Record<string, CatalogEntry> = {};
  const problems: string[] = [];
  const owner = new Map<string, string>();
  for (const { file, sources } of files) {
    const parsed = catalogSchema.safeParse(parseYaml(fs.readFileSync(path.join(root, file), "utf8")));
    if (!parsed.success) {
      problems.push(`${file}: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
      continue;
    }
    for (const [name, entry] of Object.entries(parsed.data.metrics)) {
      if (owner.has(name)) problems.push(`${file}: ${name} is in ${owner.get(name)} too`);
      if (!sources.includes(entry.source)) problems.push(`${file}: ${name} has source ${entry.source}, which is not this folder's (${sources.join(", ")})`);
      owner.set(name, file);
      catalog[name] = entry;
    }
  }
  return { catalog, problems };
}
const read = readCatalog(ROOT, CATALOG_FILES);
export const CATALOG_PROBLEMS: readonly string[] = read.problems;
export const CATALOG: Catalog = read.catalog;

// ---------------------------------------------------------------------------------------------
// Where the expressions are
// ---------------------------------------------------------------------------------------------

export interface Query {
  /** File, panel or alert, and target: what a failure names. */
  readonly where: string;
  readonly expr: string;
}

interface DashboardTarget {
  refId?: string;
  expr?: unknown;
  datasource?: { type?: string };
}
export interface DashboardPanel {
  id?: number;
  title?: string;
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

export interface DashboardModel {
  panels?: DashboardPanel[];
  templating?: { list?: { name?: string }[] };
}

/** The value a declared template variable stands for in checks: any label value, as "All" does. */
const TEMPLATE_VARIABLE_VALUE = ".+";

/**
 * Every Prometheus target of a dashboard (log panels query Elasticsearch), with the dashboard's own template variables ($job, ${instance},
 * ${job:regex}) replaced by TEMPLATE_VARIABLE_VALUE. A variable the dashboard does not declare
 * stays and fails to parse.
 */
export function dashboardQueries(file: string, dashboard: DashboardModel): Query[] {
  const declared = (dashboard.templating?.list ?? []).map((v) => v.name).filter((n): n is string => typeof n === "string" && /^\w+$/.test(n));
  const substitute = (expr: string) =>
    declared.length === 0 ? expr : expr.replace(new RegExp(`\\$\\{(${declared.join("|")})(:\\w+)?\\}|\\$(${declared.join("|")})\\b`, "g"), TEMPLATE_VARIABLE_VALUE);
  const fromPanel = (panel: DashboardPanel): Query[] => [
    ...(panel.targets ?? []).filter((target) => target.datasource?.type !== "elasticsearch").map((target) => ({
      where: `${DASHBOARDS_FOLDER}/${file} › panel ${panel.id} "${panel.title}" › target ${target.refId}`,
      expr: typeof target.expr === "string" ? substitute(target.expr) : "",
    })),
    ...(panel.panels ?? []).flatMap(fromPanel), // panels inside a collapsed row
  ];
  return (dashboard.panels ?? []).flatMap(fromPanel);
}

interface RuleDocument {
  groups: { name: string; rules: { alert?: string; record?: string; expr: unknown }[] }[];
}

/** Rule files hold `[[ name ]]` placeholders: render them as for an environment with defaults. */
export function renderedRules(file: RuleFile): RuleDocument {
  return parseYaml(renderRuleFile(file, ruleParameters(environment())).content) as RuleDocument;
}

export function ruleQueries(file: RuleFile): Query[] {
  return renderedRules(file).groups.flatMap((group) =>
    group.rules.map((rule) => ({
      where: `${file.folder}/rules/${file.name} › group ${group.name} › ${rule.alert ? `alert ${rule.alert}` : `record ${rule.record}`}`,
      expr: String(rule.expr ?? ""),
    })),
  );
}

/** Series the project's own recording rules create: known without a catalog entry. */
export function recordedSeries(files: readonly RuleFile[]): Set<string> {
  return new Set(files.flatMap((f) => renderedRules(f).groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])))));
}

/**
 * Grafana replaces its interval variables before the query reaches Prometheus; do the same with
 * representative values. Any other `$variable` stays and fails to parse (dashboardQueries has
 * already replaced the dashboard's own template variables).
 */
export function interpolateGrafana(expr: string): string {
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

export function analyse(expr: string, catalog: Catalog, recorded: ReadonlySet<string> = new Set()): Analysis {
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
  // A variable left in a label value still parses: name it (the dashboard does not declare it).
  // ($1 in label_replace is a regex group, not a variable.)
  const unknownVariables = [...source.matchAll(/\$\{?([A-Za-z_]\w*)/g)].map((m) => `unknown variable $${m[1]}: not a template variable of the dashboard`);
  if (unknownVariables.length > 0) return { problems: unknownVariables, uses: [] };
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
export function findings(queries: readonly Query[], catalog: Catalog, recorded: ReadonlySet<string>): string[] {
  return queries.flatMap((q) => analyse(q.expr, catalog, recorded).problems.map((p) => `${q.where}\n    expr: ${q.expr}\n    ${p}`));
}

// ---------------------------------------------------------------------------------------------

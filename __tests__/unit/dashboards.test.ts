/**
 * The structure of every Grafana dashboard in stacks/services/grafana/dashboards, as Grafana's file provisioning
 * loads it. (configs.test.ts checks the copies uploaded into the Grafana container;
 * promql.test.ts checks the queries.)
 */
import { DATASOURCE_UIDS } from "../../stacks/services/grafana";
import { ASSETS } from "../helpers/synth";

const PROMETHEUS = { type: "prometheus", uid: DATASOURCE_UIDS.prometheus };
const ELASTICSEARCH = { type: "elasticsearch", uid: DATASOURCE_UIDS.elasticsearch };
/** A target's query: PromQL, or a Lucene query with its aggregations for a log panel. */
const hasQuery = (t: Target) =>
  t.datasource?.type === "elasticsearch" ? typeof t.query === "string" && Array.isArray(t.metrics) && Array.isArray(t.bucketAggs) : typeof t.expr === "string" && t.expr.trim() !== "";
const PANEL_TYPES = ["timeseries", "stat", "gauge", "table"];
/** Panels that show one value per series: their queries must be instant. */
const SINGLE_VALUE_TYPES = ["stat", "gauge"];
/** Units that say "a number of things", wrong for a per-second or per-minute rate. */
const COUNT_UNITS = [undefined, "", "short", "none"];
const EXPECTED_TITLES = ["Protocol Overview", "Protocol Operations", "Protocol Business", "Protocol Security"];
const GRID_COLUMNS = 24;
/** Grafana's first schema with timeseries as the default panel; it migrates older ones on load. */
const MIN_SCHEMA_VERSION = 36;

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Target {
  refId?: unknown;
  expr?: unknown;
  datasource?: { type?: unknown };
  instant?: unknown;
  range?: unknown;
  query?: unknown;
  metrics?: unknown;
  bucketAggs?: unknown;
}
interface Panel {
  id?: unknown;
  title?: unknown;
  type?: unknown;
  description?: unknown;
  collapsed?: unknown;
  gridPos?: GridPos;
  datasource?: unknown;
  targets?: Target[];
  panels?: unknown;
  fieldConfig?: {
    defaults?: { unit?: string };
    overrides?: { matcher?: { id?: string; options?: unknown }; properties?: { id?: string; value?: unknown }[] }[];
  };
}
interface TemplateVariable {
  name?: unknown;
  type?: unknown;
  datasource?: unknown;
  definition?: unknown;
}
type Dashboard = Record<string, unknown> & { panels?: Panel[]; templating?: { list?: TemplateVariable[] } };

const DASHBOARDS: [string, Dashboard][] = Object.entries(ASSETS.dashboards).map(([file, text]) => {
  try {
    return [file, JSON.parse(text) as Dashboard];
  } catch (error) {
    throw new Error(`stacks/services/grafana/dashboards/${file} is not valid JSON: ${(error as Error).message}`);
  }
});

const panelName = (panel: Panel) => `panel ${String(panel.id)} "${String(panel.title)}"`;
/** A row groups the panels below it; it has no query of its own. */
const isRow = (panel: Panel) => panel.type === "row";
const isInteger = (n: unknown): n is number => Number.isInteger(n);

/** Every panel or target whose datasource is not the provisioned Prometheus, by name. */
/** A panel queries one provisioned datasource, by its fixed uid: Prometheus, or Elasticsearch for logs. */
function datasourceProblems(panels: readonly Panel[]): string[] {
  const provisioned = [PROMETHEUS, ELASTICSEARCH].map((ds) => JSON.stringify(ds));
  return panels.filter((panel) => !isRow(panel)).flatMap((panel) => [
    ...(provisioned.includes(JSON.stringify(panel.datasource)) ? [] : [`${panelName(panel)}: datasource ${JSON.stringify(panel.datasource)}`]),
    ...(panel.targets ?? [])
      .filter((t) => !provisioned.includes(JSON.stringify(t.datasource)) || t.datasource?.type !== (panel.datasource as { type?: unknown } | undefined)?.type)
      .map((t) => `${panelName(panel)} target ${String(t.refId)}: datasource ${JSON.stringify(t.datasource)}`),
  ]);
}

const overlap = (a: GridPos, b: GridPos) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Stat and gauge panels whose queries return a range: they show its last point, or fail on a gap. */
function singleValueProblems(panels: readonly Panel[]): string[] {
  return panels
    .filter((panel) => SINGLE_VALUE_TYPES.includes(String(panel.type)))
    .flatMap((panel) => (panel.targets ?? []).filter((t) => t.instant !== true || t.range === true).map((t) => `${panelName(panel)} target ${String(t.refId)}: not an instant query`));
}

/** The unit a target's values are shown in: an override for its refId, else the panel's default. */
function unitOf(panel: Panel, refId: unknown): string | undefined {
  const override = (panel.fieldConfig?.overrides ?? []).find((o) => o.matcher?.id === "byFrameRefID" && o.matcher.options === refId);
  const unit = override?.properties?.find((p) => p.id === "unit")?.value;
  return typeof unit === "string" ? unit : panel.fieldConfig?.defaults?.unit;
}

/** Targets that compute a rate (per second, or per minute when multiplied) shown as a bare count. */
function rateUnitProblems(panels: readonly Panel[]): string[] {
  return panels.flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => typeof t.expr === "string" && /\b(i?rate|deriv)\s*\(/.test(t.expr) && !/\bhistogram_quantile\s*\(/.test(t.expr))
      .filter((t) => COUNT_UNITS.includes(unitOf(panel, t.refId)))
      .map((t) => `${panelName(panel)} target ${String(t.refId)}: a rate shown in unit ${JSON.stringify(unitOf(panel, t.refId) ?? "(none)")}; use reqps, ops, cps, cpm, percentunit, s, bytes…`),
  );
}

/** Panels placed off the 24-column grid, and every pair of panels that overlap. */
function layoutProblems(panels: readonly Panel[]): string[] {
  const problems: string[] = [];
  const placed: { panel: Panel; pos: GridPos }[] = [];
  for (const panel of panels) {
    const pos = panel.gridPos;
    if (!pos || ![pos.x, pos.y, pos.w, pos.h].every(isInteger) || pos.x < 0 || pos.y < 0 || pos.w < 1 || pos.h < 1 || pos.x + pos.w > GRID_COLUMNS) {
      problems.push(`${panelName(panel)}: gridPos ${JSON.stringify(pos)} is not on the ${GRID_COLUMNS}-column grid`);
      continue;
    }
    for (const other of placed.filter((o) => overlap(o.pos, pos))) problems.push(`${panelName(panel)} overlaps ${panelName(other.panel)}`);
    placed.push({ panel, pos });
  }
  return problems;
}

describe.each(DASHBOARDS)("dashboard %s", (_file, dashboard) => {
  const panels = dashboard.panels ?? [];

  it("is a bare, read-only dashboard model with a fixed uid, as file provisioning needs", () => {
    expect(dashboard).not.toHaveProperty("dashboard"); // the HTTP API's wrapper
    expect(dashboard).not.toHaveProperty("__inputs"); // an export "for sharing externally"
    expect(dashboard).not.toHaveProperty("__requires");
    expect(dashboard.id ?? null).toBeNull(); // Grafana assigns the database id
    expect(dashboard.uid).toEqual(expect.stringMatching(/^[a-z0-9-]{1,40}$/));
    expect(dashboard.title).toEqual(expect.stringMatching(/\S/));
    expect(dashboard.editable).toBe(false);
    expect(isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= MIN_SCHEMA_VERSION).toBe(true);
    expect(Array.isArray(dashboard.panels) && panels.length > 0).toBe(true);
  });

  it("queries only a provisioned datasource (Prometheus; Elasticsearch for logs), the same on a panel and its targets", () => {
    expect(datasourceProblems(panels)).toEqual([]);
    expect(JSON.stringify(dashboard)).not.toMatch(/\$\{DS_/);
  });

  it("uses only timeseries, stat, gauge and table panels (no graph), and open rows", () => {
    const content = panels.filter((p) => !isRow(p));
    expect(content.filter((p) => !PANEL_TYPES.includes(String(p.type))).map((p) => `${panelName(p)}: ${String(p.type)}`)).toEqual([]);
    expect(content.filter((p) => p.panels !== undefined).map(panelName)).toEqual([]);
    // A collapsed row would hide its panels inside it, out of reach of these checks.
    const rows = panels.filter(isRow);
    expect(rows.filter((r) => r.collapsed !== false || JSON.stringify(r.panels) !== "[]" || r.targets !== undefined).map(panelName)).toEqual([]);
    expect(rows.filter((r) => r.gridPos?.w !== GRID_COLUMNS || r.gridPos.h !== 1 || r.gridPos.x !== 0).map(panelName)).toEqual([]);
  });

  it("numbers its panels with unique positive integer ids", () => {
    const ids = panels.map((p) => p.id);
    expect(ids.filter((id) => !isInteger(id) || id < 1)).toEqual([]);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it("gives every panel a title and at least one query, each with its own refId", () => {
    const problems = panels.filter((p) => !isRow(p)).flatMap((panel) => {
      const targets = panel.targets ?? [];
      const refIds = targets.map((t) => t.refId);
      return [
        ...(typeof panel.title === "string" && panel.title.trim() !== "" ? [] : [`${panelName(panel)}: no title`]),
        ...(targets.length > 0 ? [] : [`${panelName(panel)}: no targets`]),
        ...targets.filter((t) => !hasQuery(t)).map((t) => `${panelName(panel)} target ${String(t.refId)}: no query`),
        ...refIds.filter((r, i) => typeof r !== "string" || r === "" || refIds.indexOf(r) !== i).map((r) => `${panelName(panel)}: refId ${String(r)} missing or repeated`),
      ];
    });
    expect(problems).toEqual([]);
  });

  it("lays its panels out on the 24-column grid without overlaps", () => {
    expect(layoutProblems(panels)).toEqual([]);
  });

  it("asks for an instant value in every stat and gauge panel", () => {
    expect(singleValueProblems(panels)).toEqual([]);
  });

  it("never shows a rate in a count unit (short, none or no unit)", () => {
    expect(rateUnitProblems(panels)).toEqual([]);
  });

  it("declares its template variables as queries on the provisioned Prometheus", () => {
    const variables = dashboard.templating?.list ?? [];
    const bad = variables.filter((v) => v.type !== "query" || JSON.stringify(v.datasource) !== JSON.stringify(PROMETHEUS) || typeof v.definition !== "string" || !/^label_values\(/.test(v.definition));
    expect(bad.map((v) => String(v.name))).toEqual([]);
  });
});

describe("the Operations dashboard", () => {
  const operations = DASHBOARDS.find(([, d]) => d.title === "Protocol Operations")?.[1] as Dashboard;
  const panels = operations.panels ?? [];
  const row = panels.find((p) => isRow(p) && p.title === "Stack health") as Panel;
  // The row's panels: those below it, up to the next row.
  const inRow = panels.filter((p) => !isRow(p) && (p.gridPos?.y ?? 0) > (row?.gridPos?.y ?? Infinity) && !panels.some((r) => isRow(r) && r !== row && (r.gridPos?.y ?? 0) > (row.gridPos?.y ?? 0) && (r.gridPos?.y ?? 0) < (p.gridPos?.y ?? 0)));
  const exprs = inRow.flatMap((p) => (p.targets ?? []).map((t) => String(t.expr)));

  it("has a Stack health row: the stack's services and probes, probe durations, container restarts, notification failures", () => {
    expect(row).toBeDefined();
    expect(exprs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^min by \(job\) \(up\{job=~"prometheus\|alertmanager\|node\|grafana\|blackbox_exporter\|elasticsearch\|cadvisor"\}\)$/),
        'min by (service) (probe_success{job="blackbox"})',
        'max by (service) (probe_duration_seconds{job="blackbox"})',
      ]),
    );
    expect(exprs.some((e) => e.includes("alertmanager_notifications_failed_total"))).toBe(true);
    expect(exprs.some((e) => e.includes("prometheus_notifications_errors_total"))).toBe(true);
    expect(exprs.some((e) => e.includes("container_start_time_seconds"))).toBe(true);
  });

  it("shows the probes beside the scrapes, and no panel of it is dormant any more", () => {
    const services = inRow.find((p) => (p.targets ?? []).some((t) => String(t.expr).startsWith("min by (job) (up{")));
    expect((services?.targets ?? []).map((t) => String(t.expr))).toEqual([expect.stringMatching(/^min by \(job\) \(up/), expect.stringMatching(/probe_success/)]);
    expect(inRow.filter((p) => /DORMANT/.test(String(p.description))).map((p) => p.title)).toEqual([]);
  });

  it("filters its many-target panels by the $job and $instance variables", () => {
    const names = (operations.templating?.list ?? []).map((v) => v.name);
    expect(names).toEqual(["job", "instance"]);
    const filtered = panels.filter((p) => (p.targets ?? []).some((t) => /\$job\b/.test(String(t.expr)))).map((p) => p.title);
    expect(filtered).toEqual(expect.arrayContaining(["Service health", "Targets up, by job", "Failed scrapes, by job", "Memory (RSS) per scraped process", "CPU per scraped process"]));
  });
});

describe("the Business and Security dashboards", () => {
  it.each([
    ["Protocol Business", ["job"]],
    ["Protocol Security", ["job", "instance"]],
  ])("%s filters every panel over Protocol jobs by its variables", (title, variables) => {
    const dashboard = DASHBOARDS.find(([, d]) => d.title === title)?.[1] as Dashboard;
    expect((dashboard.templating?.list ?? []).map((v) => v.name)).toEqual(variables);
    const exprs = (dashboard.panels ?? []).flatMap((p) => (p.targets ?? []).map((t) => String(t.expr)));
    // The Protocol's own series (registries, TEG, auth); SPIRE's `up` and the x509 exporter's certificates have one target each.
    const protocol = exprs.filter((e) => /registry_|teg_|auth_failures/.test(e));
    expect(protocol.length).toBeGreaterThan(3);
    expect(protocol.filter((e) => !e.includes('job=~"$job"'))).toEqual([]);
  });
});

describe("the dashboard set", () => {
  const field = (key: string) => DASHBOARDS.map(([, d]) => d[key]);
  const repeated = (values: unknown[]) => values.filter((v, i) => values.indexOf(v) !== i);

  it("has the Overview, Operations, Business and Security dashboards", () => {
    expect(field("title")).toEqual(expect.arrayContaining(EXPECTED_TITLES));
  });

  it("gives every dashboard its own uid and title (Grafana keeps only one per uid)", () => {
    expect(repeated(field("uid"))).toEqual([]);
    expect(repeated(field("title"))).toEqual([]);
  });
});

describe("the structure checks themselves", () => {
  it("catch a stat panel with a range query, and a rate shown as a bare count", () => {
    const stat: Panel = { id: 1, title: "s", type: "stat", targets: [{ refId: "A", expr: "up" }, { refId: "B", expr: "up", instant: true, range: false }] };
    expect(singleValueProblems([stat])).toEqual(['panel 1 "s" target A: not an instant query']);
    const rates: Panel = {
      id: 2,
      title: "r",
      type: "timeseries",
      targets: [
        { refId: "A", expr: "sum(rate(up[5m])) * 60" },
        { refId: "B", expr: "sum(increase(up[1h]))" },
        { refId: "C", expr: "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))" },
        { refId: "D", expr: "rate(up[5m])" },
      ],
      fieldConfig: { defaults: { unit: "short" }, overrides: [{ matcher: { id: "byFrameRefID", options: "D" }, properties: [{ id: "unit", value: "ops" }] }] },
    };
    expect(rateUnitProblems([rates])).toEqual([expect.stringMatching(/^panel 2 "r" target A: a rate shown in unit "short"/)]);
  });

  const panel = (id: number, gridPos: GridPos, extra: Partial<Panel> = {}): Panel => ({
    id,
    title: `p${id}`,
    type: "timeseries",
    gridPos,
    datasource: PROMETHEUS,
    targets: [{ refId: "A", expr: "up", datasource: PROMETHEUS }],
    ...extra,
  });

  it("catch overlapping panels and panels off the grid, and accept panels that only touch", () => {
    const touching = [panel(1, { x: 0, y: 0, w: 12, h: 8 }), panel(2, { x: 12, y: 0, w: 12, h: 8 }), panel(3, { x: 0, y: 8, w: 24, h: 4 })];
    expect(layoutProblems(touching)).toEqual([]);
    const broken = [panel(1, { x: 0, y: 0, w: 12, h: 8 }), panel(2, { x: 6, y: 4, w: 12, h: 8 }), panel(3, { x: 20, y: 20, w: 8, h: 4 })];
    expect(layoutProblems(broken)).toEqual(['panel 2 "p2" overlaps panel 1 "p1"', 'panel 3 "p3": gridPos {"x":20,"y":20,"w":8,"h":4} is not on the 24-column grid']);
  });

  it("catch an exported ${DS_…} input and a target without the datasource", () => {
    const exported = panel(1, { x: 0, y: 0, w: 24, h: 8 }, { datasource: { type: "prometheus", uid: "${DS_PROMETHEUS}" } });
    const bareTarget = panel(2, { x: 0, y: 8, w: 24, h: 8 }, { targets: [{ refId: "A", expr: "up" }] });
    expect(datasourceProblems([exported, bareTarget])).toEqual([
      'panel 1 "p1": datasource {"type":"prometheus","uid":"${DS_PROMETHEUS}"}',
      'panel 2 "p2" target A: datasource undefined',
    ]);
  });
});

/**
 * The structure of every Grafana dashboard in assets/dashboards, as Grafana's file provisioning
 * loads it. (configs.test.ts checks the copies uploaded into the Grafana container;
 * promql.test.ts checks the queries.)
 */
import { DATASOURCE_UIDS } from "../../stacks/catalog";
import { ASSETS } from "../helpers/synth";

const PROMETHEUS = { type: "prometheus", uid: DATASOURCE_UIDS.prometheus };
const PANEL_TYPES = ["timeseries", "stat", "gauge", "table"];
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
interface Panel {
  id?: unknown;
  title?: unknown;
  type?: unknown;
  gridPos?: GridPos;
  datasource?: unknown;
  targets?: { refId?: unknown; expr?: unknown; datasource?: unknown }[];
  panels?: unknown;
}
type Dashboard = Record<string, unknown> & { panels?: Panel[] };

const DASHBOARDS: [string, Dashboard][] = Object.entries(ASSETS.dashboards).map(([file, text]) => {
  try {
    return [file, JSON.parse(text) as Dashboard];
  } catch (error) {
    throw new Error(`assets/dashboards/${file} is not valid JSON: ${(error as Error).message}`);
  }
});

const panelName = (panel: Panel) => `panel ${String(panel.id)} "${String(panel.title)}"`;
const isInteger = (n: unknown): n is number => Number.isInteger(n);

/** Every panel or target whose datasource is not the provisioned Prometheus, by name. */
function datasourceProblems(panels: readonly Panel[]): string[] {
  const same = (ds: unknown) => JSON.stringify(ds) === JSON.stringify(PROMETHEUS);
  return panels.flatMap((panel) => [
    ...(same(panel.datasource) ? [] : [`${panelName(panel)}: datasource ${JSON.stringify(panel.datasource)}`]),
    ...(panel.targets ?? []).filter((t) => !same(t.datasource)).map((t) => `${panelName(panel)} target ${String(t.refId)}: datasource ${JSON.stringify(t.datasource)}`),
  ]);
}

const overlap = (a: GridPos, b: GridPos) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

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

describe.each(DASHBOARDS)("assets/dashboards/%s", (_file, dashboard) => {
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

  it("queries only the provisioned Prometheus datasource, on every panel and every target", () => {
    expect(datasourceProblems(panels)).toEqual([]);
    expect(JSON.stringify(dashboard)).not.toMatch(/\$\{DS_/);
  });

  it("uses only timeseries, stat, gauge and table panels (no graph, no rows)", () => {
    expect(panels.filter((p) => !PANEL_TYPES.includes(String(p.type))).map((p) => `${panelName(p)}: ${String(p.type)}`)).toEqual([]);
    expect(panels.filter((p) => p.panels !== undefined).map(panelName)).toEqual([]);
  });

  it("numbers its panels with unique positive integer ids", () => {
    const ids = panels.map((p) => p.id);
    expect(ids.filter((id) => !isInteger(id) || id < 1)).toEqual([]);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it("gives every panel a title and at least one query, each with its own refId", () => {
    const problems = panels.flatMap((panel) => {
      const targets = panel.targets ?? [];
      const refIds = targets.map((t) => t.refId);
      return [
        ...(typeof panel.title === "string" && panel.title.trim() !== "" ? [] : [`${panelName(panel)}: no title`]),
        ...(targets.length > 0 ? [] : [`${panelName(panel)}: no targets`]),
        ...targets.filter((t) => typeof t.expr !== "string" || t.expr.trim() === "").map((t) => `${panelName(panel)} target ${String(t.refId)}: no expr`),
        ...refIds.filter((r, i) => typeof r !== "string" || r === "" || refIds.indexOf(r) !== i).map((r) => `${panelName(panel)}: refId ${String(r)} missing or repeated`),
      ];
    });
    expect(problems).toEqual([]);
  });

  it("lays its panels out on the 24-column grid without overlaps", () => {
    expect(layoutProblems(panels)).toEqual([]);
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

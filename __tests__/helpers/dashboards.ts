import { dashboardQueries, interpolateGrafana, type DashboardModel, type Query } from "./promql";
import { ASSETS } from "./synth";

/**
 * Panels that may show nothing on a healthy stack, each with its reason: the one place that says
 * so. The end-to-end test runs every other Prometheus query of the dashboards (stacks/services/grafana/dashboards) against a live
 * stack and wants data.
 */
export const EXPECTED_EMPTY: Readonly<Record<string, string>> = {
  'stacks/services/grafana/dashboards/operations.json › panel 7 "Firing alerts" › target A': "no alert but the Watchdog fires during the test: the driven ones are pending, within their `for`",
};

/** Every Prometheus query of the shipped dashboards, as Grafana sends it with "All" selected. */
export function liveDashboardQueries(): Query[] {
  return Object.entries(ASSETS.dashboards).flatMap(([file, text]) =>
    dashboardQueries(file, JSON.parse(text) as DashboardModel).map((q) => ({ where: q.where, expr: interpolateGrafana(q.expr) })),
  );
}

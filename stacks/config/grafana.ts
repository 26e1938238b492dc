import { CONFIG_PATHS, DATASOURCE_UIDS, SERVICES } from "../catalog";
import type { Environment } from "../environment";
import { toYaml } from "./yaml";

/** Name of the Elasticsearch user Grafana reads logs with (created by the setup job). */
export const GRAFANA_ES_USER = "grafana_reader";

/** The uids of the datasources an environment provisions. */
function provisionedUids(env: Environment): string[] {
  return [DATASOURCE_UIDS.prometheus, ...(env.services.includes("elasticsearch") ? [DATASOURCE_UIDS.elasticsearch] : [])];
}

type DashboardPanel = { type?: string; datasource?: { uid?: string } };

/**
 * A dashboard as the environment gets it: panels on a datasource it does not provision (the log
 * panels, where Elasticsearch does not run) are left out, with a row left empty by that. A
 * dashboard that loses nothing is returned as the same text (its upload, and the plan, unchanged).
 */
export function dashboardFor(env: Environment, text: string): string {
  const dashboard = JSON.parse(text) as { panels?: DashboardPanel[] };
  const provisioned = provisionedUids(env);
  const panels = dashboard.panels ?? [];
  const kept = panels.filter((panel) => panel.type === "row" || !panel.datasource?.uid || provisioned.includes(panel.datasource.uid));
  if (kept.length === panels.length) return text;
  const withoutEmptyRows = kept.filter((panel, i) => panel.type !== "row" || (kept[i + 1] !== undefined && kept[i + 1].type !== "row"));
  return `${JSON.stringify({ ...dashboard, panels: withoutEmptyRows }, null, 2)}\n`;
}

export function grafanaDatasources(env: Environment): string {
  const datasources: Record<string, unknown>[] = [
    {
      name: "Prometheus",
      uid: DATASOURCE_UIDS.prometheus,
      type: "prometheus",
      access: "proxy",
      url: `http://${SERVICES.prometheus.hostname}:${SERVICES.prometheus.port}`,
      isDefault: true,
      editable: false,
      jsonData: { timeInterval: env.scrape.interval },
    },
  ];
  if (env.services.includes("elasticsearch")) {
    datasources.push({
      name: "Elasticsearch",
      uid: DATASOURCE_UIDS.elasticsearch,
      type: "elasticsearch",
      access: "proxy",
      url: `http://${SERVICES.elasticsearch.hostname}:${SERVICES.elasticsearch.port}`,
      basicAuth: true,
      basicAuthUser: GRAFANA_ES_USER,
      editable: false,
      jsonData: { index: "protocol-logs-*", timeField: "@timestamp" },
      // Grafana expands $__env{…} itself at provisioning; the password never enters this file.
      secureJsonData: { basicAuthPassword: "$__env{GRAFANA_ES_PASSWORD}" },
    });
  }
  return toYaml({ apiVersion: 1, deleteDatasources: [], datasources });
}

export function grafanaDashboardProvider(): string {
  return toYaml({
    apiVersion: 1,
    providers: [
      {
        name: "protocol",
        folder: "Protocol",
        type: "file",
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: CONFIG_PATHS.grafanaDashboardsDir, foldersFromFilesStructure: false },
      },
    ],
  });
}

import { CONFIG_PATHS, DATASOURCE_UIDS, SERVICES } from "../catalog";
import type { Environment } from "../environment";
import { toYaml } from "./yaml";

/** Name of the Elasticsearch user Grafana reads logs with (created by the setup job). */
export const GRAFANA_ES_USER = "grafana_reader";

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

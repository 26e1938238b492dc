import { toYaml } from "../../yaml";
import type { Environment } from "../../environment";
import { ownTlsPaths, servesTls } from "../../web-config";
import { elasticsearch, elasticsearchUrl } from "../elasticsearch/descriptor";
import { prometheus } from "../prometheus/descriptor";
import { grafana } from "./descriptor";

/** Paths inside the container where the provisioning files and dashboards are uploaded. */
export const GRAFANA_PATHS = {
  datasources: "/etc/grafana/provisioning/datasources/datasources.yml",
  dashboardProvider: "/etc/grafana/provisioning/dashboards/provider.yml",
  dashboardsDir: "/etc/grafana/dashboards",
  /** Passwords, one file each (never in the container's environment). */
  adminPassword: "/etc/grafana/secrets/admin_password",
  elasticsearchPassword: "/etc/grafana/secrets/elasticsearch_password",
  webPassword: "/etc/grafana/secrets/web_password",
} as const;

/** Grafana datasource uids, fixed so dashboards can reference them. */
export const DATASOURCE_UIDS = { prometheus: "prometheus", elasticsearch: "elasticsearch" } as const;


/** Name of the Elasticsearch user Grafana reads logs with (created by the setup job). */
export const GRAFANA_ES_USER = "grafana_reader";

/** The uids of the datasources an environment provisions. */
function provisionedUids(env: Environment): string[] {
  return [DATASOURCE_UIDS.prometheus, ...(env.services.includes(elasticsearch.name) ? [DATASOURCE_UIDS.elasticsearch] : [])];
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
      url: `http://${prometheus.hostname}:${prometheus.port}`,
      isDefault: true,
      editable: false,
      jsonData: { timeInterval: env.scrape.interval },
    },
  ];
  if (env.webAuth.enabled) {
    // Prometheus serves HTTPS with basic auth: Grafana checks its certificate against the CA and
    // signs in as the web user (Grafana expands $__env and $__file itself at provisioning).
    Object.assign(datasources[0], {
      url: `https://${prometheus.hostname}:${prometheus.port}`,
      basicAuth: true,
      basicAuthUser: env.webAuth.user,
      jsonData: { timeInterval: env.scrape.interval, tlsAuthWithCACert: true },
      secureJsonData: { basicAuthPassword: `$__file{${GRAFANA_PATHS.webPassword}}`, tlsCACert: `$__file{${grafanaCa(env)}}` },
    });
  }
  if (env.services.includes(elasticsearch.name)) {
    // webAuth: Elasticsearch serves HTTPS, checked against the CA.
    const https = servesTls(env, elasticsearch);
    datasources.push({
      name: "Elasticsearch",
      uid: DATASOURCE_UIDS.elasticsearch,
      type: "elasticsearch",
      access: "proxy",
      url: elasticsearchUrl(env),
      basicAuth: true,
      basicAuthUser: GRAFANA_ES_USER,
      editable: false,
      jsonData: { index: "protocol-logs-*", timeField: "@timestamp", ...(https ? { tlsAuthWithCACert: true } : {}) },
      // Grafana expands $__file{…} itself at provisioning; the password never enters this file.
      secureJsonData: { basicAuthPassword: `$__file{${GRAFANA_PATHS.elasticsearchPassword}}`, ...(https ? { tlsCACert: `$__file{${grafanaCa(env)}}` } : {}) },
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
        options: { path: GRAFANA_PATHS.dashboardsDir, foldersFromFilesStructure: false },
      },
    ],
  });
}

/** webAuth: the CA Grafana checks Prometheus's and Elasticsearch's certificates against (uploaded with its own certificate). */
function grafanaCa(env: Environment): string {
  const paths = ownTlsPaths(env, grafana);
  if (!paths) throw new Error("grafana: the CA file exists with webAuth only");
  return paths.ca;
}

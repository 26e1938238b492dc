import { filesIn } from "../../container";
import { serviceContainer } from "../../service";
import { ownTlsPaths } from "../../web-config";
import type { ServiceBuild } from "../../descriptor";
import { dashboardFor, GRAFANA_PATHS, grafanaDashboardProvider, grafanaDatasources } from "./config";

/** Its resources: the container and what it uploads. */
export const build: ServiceBuild = (scope, ctx) => {
  const grafana = ctx.service;
  const { env, secrets } = ctx;
  const dashboards = ctx.assets.folder(ctx.service, "dashboards", ".json");
  const tls = ownTlsPaths(env, grafana);
  return serviceContainer(scope, ctx, {
    env: {
      GF_SECURITY_ADMIN_USER: "admin",
      // Grafana reads a setting's value from the file GF_<SETTING>__FILE names.
      GF_SECURITY_ADMIN_PASSWORD__FILE: GRAFANA_PATHS.adminPassword,
      GF_USERS_ALLOW_SIGN_UP: "false",
      GF_AUTH_ANONYMOUS_ENABLED: "false",
      GF_ANALYTICS_REPORTING_ENABLED: "false",
      GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
      GF_SERVER_ROOT_URL: `${tls ? "https" : "http"}://${env.bindAddress}:${env.ports[grafana.name]}/`,
      // webAuth: HTTPS only, with a certificate of the environment's CA (sign-in as above, never anonymous).
      ...(tls ? { GF_SERVER_PROTOCOL: "https", GF_SERVER_CERT_FILE: tls.cert, GF_SERVER_CERT_KEY: tls.key } : {}),
    },
    secretFiles: {
      [GRAFANA_PATHS.adminPassword]: secrets.get("grafana_admin_password"),
      ...(secrets.has("grafana_es_password") ? { [GRAFANA_PATHS.elasticsearchPassword]: secrets.get("grafana_es_password") } : {}),
      ...(env.webAuth.enabled ? { [GRAFANA_PATHS.webPassword]: secrets.get("web_password") } : {}),
    },
    files: {
      [GRAFANA_PATHS.datasources]: grafanaDatasources(env),
      [GRAFANA_PATHS.dashboardProvider]: grafanaDashboardProvider(),
      ...filesIn(GRAFANA_PATHS.dashboardsDir, Object.fromEntries(Object.entries(dashboards).map(([name, text]) => [name, dashboardFor(env, text)]))),
    },
  });
};

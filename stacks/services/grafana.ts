import { Construct } from "constructs";
import { CONFIG_PATHS, SERVICES } from "../catalog";
import { dashboardFor, grafanaDashboardProvider, grafanaDatasources } from "../config/grafana";
import { filesIn, ServiceContainer, type StackContext } from "../container";
import type { Environment } from "../environment";
import type { Secrets } from "../secrets";

export interface GrafanaProps {
  readonly context: StackContext;
  readonly env: Environment;
  readonly secrets: Secrets;
  /** Dashboard JSON files (assets/dashboards), file name → content. */
  readonly dashboards: Readonly<Record<string, string>>;
}

export class Grafana extends Construct {
  readonly service: ServiceContainer;

  constructor(scope: Construct, id: string, { context, env, secrets, dashboards }: GrafanaProps) {
    super(scope, id);
    const spec = SERVICES.grafana;
    const files = {
      [CONFIG_PATHS.grafanaDatasources]: grafanaDatasources(env),
      [CONFIG_PATHS.grafanaDashboardProvider]: grafanaDashboardProvider(),
      ...filesIn(CONFIG_PATHS.grafanaDashboardsDir, Object.fromEntries(Object.entries(dashboards).map(([name, text]) => [name, dashboardFor(env, text)]))),
    };

    this.service = new ServiceContainer(this, "grafana", {
      context,
      service: spec.hostname,
      image: env.images.grafana,
      memoryMb: env.memoryMb.grafana,
      user: "472:0",
      env: {
        GF_SECURITY_ADMIN_USER: "admin",
        GF_SECURITY_ADMIN_PASSWORD: secrets.get("grafana_admin_password"),
        GF_USERS_ALLOW_SIGN_UP: "false",
        GF_AUTH_ANONYMOUS_ENABLED: "false",
        GF_ANALYTICS_REPORTING_ENABLED: "false",
        GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
        GF_SERVER_ROOT_URL: `http://${context.bindAddress}:${env.ports.grafana}/`,
        // Grafana's read-only Elasticsearch user exists only when both run.
        ...(secrets.has("grafana_es_password") ? { GRAFANA_ES_PASSWORD: secrets.get("grafana_es_password") } : {}),
      },
      ports: [{ internal: spec.port, external: env.ports.grafana }],
      dataPath: spec.dataPath,
      files,
      healthcheck: `wget -q -O /dev/null http://127.0.0.1:${spec.port}/api/health`,
    });
  }
}

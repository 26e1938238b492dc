import { Construct } from "constructs";
import { CONFIG_PATHS, SERVICES } from "../catalog";
import { ALERTMANAGER_SECRET_FILES, alertmanagerConfig, alertmanagerFlags } from "../config/alertmanager";
import { filesIn, ServiceContainer, type StackContext } from "../container";
import type { Environment } from "../environment";
import type { Secrets } from "../secrets";

export interface AlertmanagerProps {
  readonly context: StackContext;
  readonly env: Environment;
  readonly secrets: Secrets;
  /** Notification templates (assets/alertmanager/*.tmpl), file name → content. */
  readonly templates: Readonly<Record<string, string>>;
}

export class Alertmanager extends Construct {
  readonly service: ServiceContainer;

  constructor(scope: Construct, id: string, { context, env, secrets, templates }: AlertmanagerProps) {
    super(scope, id);
    const spec = SERVICES.alertmanager;
    const files = {
      [CONFIG_PATHS.alertmanagerConfig]: alertmanagerConfig(env),
      ...filesIn(CONFIG_PATHS.alertmanagerTemplatesDir, templates),
      ...(env.alertingCaPem ? { [CONFIG_PATHS.alertmanagerCa]: env.alertingCaPem } : {}),
    };
    const secretFiles: Record<string, string> = {};
    if (env.alerting.pagerduty) secretFiles[ALERTMANAGER_SECRET_FILES.pagerdutyRoutingKey] = secrets.get("pagerduty_routing_key");
    if (env.alerting.slack) secretFiles[ALERTMANAGER_SECRET_FILES.slackWebhookUrl] = secrets.get("slack_webhook_url");
    if (env.alerting.heartbeat) secretFiles[ALERTMANAGER_SECRET_FILES.heartbeatUrl] = secrets.get("heartbeat_url");

    this.service = new ServiceContainer(this, "alertmanager", {
      context,
      service: spec.hostname,
      image: env.images.alertmanager,
      memoryMb: env.memoryMb.alertmanager,
      command: alertmanagerFlags(),
      user: "65534:65534",
      ports: [{ internal: spec.port, external: env.ports.alertmanager }],
      dataPath: spec.dataPath,
      files,
      secretFiles,
      healthcheck: `wget -q -O /dev/null http://127.0.0.1:${spec.port}/-/ready`,
    });
  }
}

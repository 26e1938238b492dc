import { CONFIG_PATHS, SERVICES } from "../catalog";
import type { Environment } from "../environment";
import { toYaml } from "./yaml";

/** Secret files Alertmanager reads (`*_file` settings), so alertmanager.yml itself holds no secret. */
export const ALERTMANAGER_SECRET_FILES = {
  pagerdutyRoutingKey: `${CONFIG_PATHS.alertmanagerSecretsDir}/pagerduty_routing_key`,
  slackWebhookUrl: `${CONFIG_PATHS.alertmanagerSecretsDir}/slack_webhook_url`,
} as const;

export const NULL_RECEIVER = "null";

function receivers(env: Environment): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [{ name: NULL_RECEIVER }];
  if (env.alerting.pagerduty) {
    list.push({
      name: "pagerduty",
      pagerduty_configs: [
        {
          routing_key_file: ALERTMANAGER_SECRET_FILES.pagerdutyRoutingKey,
          description: '{{ template "protocol.title" . }}',
          details: { summary: '{{ template "protocol.text" . }}' },
          send_resolved: true,
        },
      ],
    });
  }
  if (env.alerting.slack) {
    list.push({
      name: "slack",
      slack_configs: [
        {
          api_url_file: ALERTMANAGER_SECRET_FILES.slackWebhookUrl,
          channel: env.alerting.slack.channel,
          title: '{{ template "protocol.title" . }}',
          text: '{{ template "protocol.text" . }}',
          send_resolved: true,
        },
      ],
    });
  }
  return list;
}

/**
 * Where each severity goes. Critical pages (PagerDuty, else Slack), warnings go to Slack,
 * info and the Watchdog go nowhere: a receiver that is not configured falls back to null.
 */
function routes(env: Environment): Record<string, unknown>[] {
  const slack = env.alerting.slack ? "slack" : NULL_RECEIVER;
  const critical = env.alerting.pagerduty ? "pagerduty" : slack;
  return [
    // The Watchdog always fires; it proves the pipeline works and must never page anyone.
    { matchers: ['alertname="Watchdog"'], receiver: NULL_RECEIVER },
    { matchers: ['severity="critical"'], receiver: critical, repeat_interval: "1h" },
    { matchers: ['severity="warning"'], receiver: slack },
    { matchers: ['severity="info"'], receiver: NULL_RECEIVER },
  ];
}

export function alertmanagerConfig(env: Environment): string {
  return toYaml({
    global: { resolve_timeout: "5m" },
    templates: [`${CONFIG_PATHS.alertmanagerTemplatesDir}/*.tmpl`],
    route: {
      receiver: NULL_RECEIVER,
      group_by: ["alertname", "service", "severity"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: routes(env),
    },
    // A critical alert for a service mutes that service's warnings and infos: one page, not three.
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity=~"warning|info"'],
        equal: ["environment", "service"],
      },
    ],
    receivers: receivers(env),
  });
}

export function alertmanagerFlags(): string[] {
  return [
    `--config.file=${CONFIG_PATHS.alertmanagerConfig}`,
    `--storage.path=${SERVICES.alertmanager.dataPath}`,
    // A single instance: no gossip port (9094) is opened.
    "--cluster.listen-address=",
  ];
}

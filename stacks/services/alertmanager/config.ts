import { toYaml } from "../../yaml";
import type { Environment } from "../../environment";
import type { SecretName } from "../../secrets";

/** Paths inside the container where the generated configuration, templates and secrets are uploaded. */
export const ALERTMANAGER_PATHS = {
  config: "/etc/alertmanager/alertmanager.yml",
  templatesDir: "/etc/alertmanager/templates",
  secretsDir: "/etc/alertmanager/secrets",
  ca: "/etc/alertmanager/ca.pem",
} as const;

export const DATA_PATH = "/alertmanager";

/** Its secrets: the receivers', by the alerting switch that turns each on; the web password (webAuth: its web config holds the hash). */
export function alertmanagerSecrets(env: Environment): SecretName[] {
  return [...receiverSecrets(env), ...(env.webAuth.enabled ? (["web_password"] as const) : [])];
}

/** The receivers' secrets, by the alerting switch that turns each on. */
export function receiverSecrets(env: Environment): SecretName[] {
  return [
    ...(env.alerting.pagerduty ? (["pagerduty_routing_key"] as const) : []),
    ...(env.alerting.slack ? (["slack_webhook_url"] as const) : []),
    ...(env.alerting.heartbeat ? (["heartbeat_url"] as const) : []),
    ...(env.alerting.email?.username ? (["smtp_password"] as const) : []),
  ];
}


/** Secret files Alertmanager reads (`*_file` settings), so alertmanager.yml itself holds no secret. */
export const secretFile = (name: SecretName) => `${ALERTMANAGER_PATHS.secretsDir}/${name}`;

export const NULL_RECEIVER = "null";
export const HEARTBEAT_RECEIVER = "heartbeat";
export const EMAIL_RECEIVER = "email";

/** How often the Watchdog is sent to the heartbeat service; see the Dead man's switch section of docs/alerts.md. */
export const HEARTBEAT_TIMING = { group_wait: "10s", group_interval: "1m", repeat_interval: "1m" } as const;

/** The value of the `integration` label Alertmanager puts on its notification metrics, per receiver. */
type Integration = "pagerduty" | "slack" | "webhook";

/** The integration that pages: critical alerts go there (PagerDuty, else Slack), or none. */
function pagingIntegration(env: Environment): Integration | undefined {
  if (env.alerting.pagerduty) return "pagerduty";
  return env.alerting.slack ? "slack" : undefined;
}

function receivers(env: Environment): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [{ name: NULL_RECEIVER }];
  // Receivers behind a relay or proxy with a private CA are checked against it, never skipped.
  const tls = env.alertingCaPem ? { http_config: { tls_config: { ca_file: ALERTMANAGER_PATHS.ca } } } : {};
  if (env.alerting.pagerduty) {
    list.push({
      name: "pagerduty",
      pagerduty_configs: [
        {
          routing_key_file: secretFile("pagerduty_routing_key"),
          description: '{{ template "protocol.title" . }}',
          details: { summary: '{{ template "protocol.text" . }}' },
          send_resolved: true,
          ...tls,
        },
      ],
    });
  }
  if (env.alerting.slack) {
    list.push({
      name: "slack",
      slack_configs: [
        {
          api_url_file: secretFile("slack_webhook_url"),
          channel: env.alerting.slack.channel,
          title: '{{ template "protocol.title" . }}',
          text: '{{ template "protocol.text" . }}',
          send_resolved: true,
          ...tls,
        },
      ],
    });
  }
  if (env.alerting.heartbeat) {
    list.push({
      name: HEARTBEAT_RECEIVER,
      webhook_configs: [
        {
          // url_file needs Alertmanager 0.26+ (0.28+ fixes a crash with it); the catalog pins 0.34.
          url_file: secretFile("heartbeat_url"),
          // A "resolved" Watchdog means Prometheus stopped sending it: that must not count as a beat.
          send_resolved: false,
          ...tls,
        },
      ],
    });
  }
  const email = env.alerting.email;
  if (email) {
    list.push({
      name: EMAIL_RECEIVER,
      email_configs: [
        {
          to: email.to,
          from: email.from,
          smarthost: email.smarthost,
          // STARTTLS or nothing: a password and alerts never cross the network in the clear.
          require_tls: true,
          ...(email.username ? { auth_username: email.username, auth_password_file: secretFile("smtp_password") } : {}),
          headers: { Subject: '{{ template "protocol.title" . }}' },
          text: '{{ template "protocol.text" . }}',
          send_resolved: true,
          ...(env.alertingCaPem ? { tls_config: { ca_file: ALERTMANAGER_PATHS.ca } } : {}),
        },
      ],
    });
  }
  return list;
}

/**
 * Where each alert goes. Critical pages (PagerDuty, else Slack), warnings go to Slack, info goes
 * nowhere; a receiver that is not configured falls back to null. The Watchdog goes to the
 * heartbeat service where there is one, else nowhere. A failing integration's own
 * AlertmanagerFailedToSendAlerts goes to the other one (docs/alerts.md, "Dead man's switch").
 */
export function routes(env: Environment): Record<string, unknown>[] {
  const slack = env.alerting.slack ? "slack" : NULL_RECEIVER;
  const critical = env.alerting.pagerduty ? "pagerduty" : slack;
  const failed = (integration: Integration) => ['alertname="AlertmanagerFailedToSendAlerts"', `integration="${integration}"`];
  return [
    // The Watchdog always fires; it proves the pipeline works and must never page anyone. A
    // heartbeat service pages when it stops arriving.
    env.alerting.heartbeat
      ? { matchers: ['alertname="Watchdog"'], receiver: HEARTBEAT_RECEIVER, ...HEARTBEAT_TIMING }
      : { matchers: ['alertname="Watchdog"'], receiver: NULL_RECEIVER },
    ...(env.alerting.pagerduty && env.alerting.slack
      ? [
          { matchers: failed("pagerduty"), receiver: "slack", repeat_interval: "1h" },
          { matchers: failed("slack"), receiver: "pagerduty", repeat_interval: "1h" },
        ]
      : []),
    // Email as well as the others (continue): for the severities the environment lists.
    ...(env.alerting.email ? [{ matchers: [`severity=~"${env.alerting.email.severities.join("|")}"`], receiver: EMAIL_RECEIVER, continue: true }] : []),
    { matchers: ['severity="critical"'], receiver: critical, repeat_interval: "1h" },
    { matchers: ['severity="warning"'], receiver: slack },
    { matchers: ['severity="info"'], receiver: NULL_RECEIVER },
  ];
}

/**
 * Inhibition: a cause mutes its own symptoms and nothing else. `equal` names the labels that
 * identify the same thing (Alertmanager counts a label missing on both sides as equal).
 */
function inhibitRules(env: Environment): Record<string, unknown>[] {
  const rules: Record<string, unknown>[] = [
    // A target that cannot be scraped: its own warnings and infos are symptoms (same job and
    // instance; registry_a being down says nothing about registry_b).
    {
      source_matchers: ['alertname=~"RegistryDown|TEGLayerDown"'],
      target_matchers: ['severity=~"warning|info"'],
      equal: ["environment", "job", "instance"],
    },
    // A target that cannot be scraped also fails its probe (the blackbox exporter's, whose
    // `instance` is the probed host:port, the scrape target's instance): one outage, one alert.
    {
      source_matchers: ['alertname=~"RegistryDown|TEGLayerDown|TargetDown"'],
      target_matchers: ['alertname=~"ProbeFailed|ProtocolHealthCheckFailed"'],
      equal: ["environment", "instance"],
    },
    // An empty treasury is also a low one.
    {
      source_matchers: ['alertname="TreasuryDepleted"'],
      target_matchers: ['alertname="LowTreasuryBalance"'],
      equal: ["environment", "job", "instance"],
    },
    // A file system that is almost full is also filling up: the same file system only.
    {
      source_matchers: ['alertname="NodeFilesystemAlmostFull"'],
      target_matchers: ['alertname="NodeFilesystemFillingUp"'],
      equal: ["environment", "instance", "mountpoint"],
    },
    {
      source_matchers: ['alertname="NodeFilesystemAlmostOutOfFiles"'],
      target_matchers: ['alertname="NodeFilesystemFilesFillingUp"'],
      equal: ["environment", "instance", "mountpoint"],
    },
    // Past Elasticsearch's flood stage is also past its low watermark: the same data path only.
    {
      source_matchers: ['alertname="ElasticsearchDiskFloodStage"'],
      target_matchers: ['alertname="ElasticsearchDiskLowWatermark"'],
      equal: ["environment", "cluster", "name", "path"],
    },
  ];
  // When the integration that pages fails, nobody would hear of it: stop the heartbeat, so the
  // heartbeat service pages through its own channels.
  const paging = pagingIntegration(env);
  if (env.alerting.heartbeat && paging) {
    rules.push({
      source_matchers: ['alertname="AlertmanagerFailedToSendAlerts"', `integration="${paging}"`],
      target_matchers: ['alertname="Watchdog"'],
      equal: ["environment"],
    });
  }
  return rules;
}

export function alertmanagerConfig(env: Environment): string {
  return toYaml({
    global: { resolve_timeout: "5m", ...(env.alerting.pagerdutyUrl ? { pagerduty_url: env.alerting.pagerdutyUrl } : {}) },
    templates: [`${ALERTMANAGER_PATHS.templatesDir}/*.tmpl`],
    route: {
      receiver: NULL_RECEIVER,
      group_by: ["alertname", "service", "severity"],
      group_wait: env.alerting.timing.groupWait,
      group_interval: env.alerting.timing.groupInterval,
      repeat_interval: env.alerting.timing.repeatInterval,
      routes: routes(env),
    },
    inhibit_rules: inhibitRules(env),
    receivers: receivers(env),
  });
}

export function alertmanagerFlags(): string[] {
  return [
    `--config.file=${ALERTMANAGER_PATHS.config}`,
    `--storage.path=${DATA_PATH}`,
    // A single instance: no gossip port (9094) is opened.
    "--cluster.listen-address=",
  ];
}

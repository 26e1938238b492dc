import { Fn, TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import type { Environment } from "./environment";

/**
 * Every secret is a sensitive Terraform variable without a default, given as `TF_VAR_<name>`.
 * The synthesized JSON only holds `${var.<name>}`; `plan` stops with the variable's name when
 * one is missing, before anything touches Docker.
 */
export const SECRET_NAMES = {
  grafanaAdminPassword: "grafana_admin_password",
  elasticPassword: "elastic_password",
  kibanaSystemPassword: "kibana_system_password",
  logstashWriterPassword: "logstash_writer_password",
  grafanaEsPassword: "grafana_es_password",
  kibanaEncryptionKey: "kibana_encryption_key",
  pagerdutyRoutingKey: "pagerduty_routing_key",
  slackWebhookUrl: "slack_webhook_url",
  heartbeatUrl: "heartbeat_url",
} as const;

export type SecretKey = keyof typeof SECRET_NAMES;

/** Secrets a local deploy may generate at random; the receivers' keys come from their services. */
const RECEIVER_SECRETS: readonly string[] = ["pagerdutyRoutingKey", "slackWebhookUrl", "heartbeatUrl"];
export const GENERATABLE_SECRETS: readonly string[] = Object.entries(SECRET_NAMES)
  .filter(([key]) => !RECEIVER_SECRETS.includes(key))
  .map(([, name]) => name);

interface SecretRule {
  readonly description: string;
  readonly condition: (ref: string) => string;
  readonly errorMessage: string;
}

// Passwords are embedded in JSON bodies and env files, so quotes and backslashes are ruled out.
const password = (what: string, minLength = 12): SecretRule => ({
  description: what,
  condition: (ref) => `can(regex("^[A-Za-z0-9_.~+=@!-]{${minLength},}$", ${ref}))`,
  errorMessage: `${what}: at least ${minLength} characters of A-Z a-z 0-9 _ . ~ + = @ ! -`,
});

const RULES: Record<SecretKey, SecretRule> = {
  grafanaAdminPassword: password("Grafana admin password"),
  elasticPassword: password("Elasticsearch elastic superuser password"),
  kibanaSystemPassword: password("Elasticsearch kibana_system password"),
  logstashWriterPassword: password("Elasticsearch logstash_writer password"),
  grafanaEsPassword: password("Elasticsearch grafana_reader password"),
  kibanaEncryptionKey: password("Kibana encryption key", 32),
  pagerdutyRoutingKey: password("PagerDuty Events v2 routing key", 20),
  slackWebhookUrl: {
    description: "Slack incoming webhook URL",
    condition: (ref) => `startswith(${ref}, "https://")`,
    errorMessage: "Slack incoming webhook URL: must start with https://",
  },
  heartbeatUrl: {
    description: "Heartbeat (dead man's switch) ping URL",
    condition: (ref) => `startswith(${ref}, "https://")`,
    errorMessage: "Heartbeat ping URL: must start with https://",
  },
};

/** What each secret is, for messages that name a missing one. */
export const SECRET_DESCRIPTIONS = Object.fromEntries(Object.entries(RULES).map(([key, rule]) => [key, rule.description])) as Record<SecretKey, string>;

/** Which secrets an environment needs, from the services it runs and the receivers it enables. */
export function requiredSecrets(env: Environment): SecretKey[] {
  const keys: SecretKey[] = [];
  if (env.services.includes("grafana")) keys.push("grafanaAdminPassword");
  if (env.services.includes("elasticsearch")) {
    keys.push("elasticPassword", "logstashWriterPassword", "kibanaSystemPassword");
    if (env.services.includes("grafana")) keys.push("grafanaEsPassword");
  }
  if (env.services.includes("kibana")) keys.push("kibanaEncryptionKey");
  if (env.alerting.pagerduty) keys.push("pagerdutyRoutingKey");
  if (env.alerting.slack) keys.push("slackWebhookUrl");
  if (env.alerting.heartbeat) keys.push("heartbeatUrl");
  return keys;
}

export class Secrets extends Construct {
  private readonly refs = new Map<SecretKey, string>();

  constructor(scope: Construct, id: string, env: Environment) {
    super(scope, id);
    for (const key of requiredSecrets(env)) {
      const rule = RULES[key];
      const variable = new TerraformVariable(this, SECRET_NAMES[key], {
        type: "string",
        sensitive: true,
        nullable: false,
        description: `${rule.description} (set TF_VAR_${SECRET_NAMES[key]})`,
      });
      variable.overrideLogicalId(SECRET_NAMES[key]);
      // The condition is an HCL expression: it must be interpolated, not a plain string.
      variable.addValidation({ condition: `\${${rule.condition(`var.${SECRET_NAMES[key]}`)}}`, errorMessage: rule.errorMessage });
      this.refs.set(key, variable.stringValue);
    }
  }

  /** Whether the environment needs this secret (requiredSecrets decides, nobody else). */
  has(key: SecretKey): boolean {
    return this.refs.has(key);
  }

  /** A Terraform reference to the secret; throws if the environment does not need it. */
  get(key: SecretKey): string {
    const ref = this.refs.get(key);
    if (!ref) throw new Error(`secret ${SECRET_NAMES[key]} is not required by this environment`);
    return ref;
  }

  /** A key derived from a secret, so one variable can feed several independent keys. */
  derived(key: SecretKey, purpose: string): string {
    return Fn.sha256(`${purpose}:${this.get(key)}`);
  }
}

import * as path from "node:path";
import { z } from "zod";
import { isLoopback, port } from "./addresses";
import { hasLocalBuild, isPublished, LOCAL_IMAGE_REPOSITORY, pinnedTag, type Service, type ServiceDescriptor } from "./descriptor";
import { dnsName, fleetHost, fleetIssues, hostName } from "./fleet";
import { servesTls } from "./web-config";

/**
 * The environment schema: an environment file's content (`environments/<name>.yaml`, read by
 * environment-files.ts) validated here; everything downstream gets the typed,
 * defaults-filled `Environment`. Each default is written once, on its field: an absent block is
 * parsed as `{}` (zod's prefault), which fills its fields' defaults; a service's defaults (port,
 * image, memory) are its descriptor's. The schema is made from a catalog of service descriptors
 * (stacks/services, or a test's), and the environment carries that catalog: whatever takes an
 * environment knows its services from it.
 */

/** The services an environment can run: the shipped list (stacks/services/index.ts), or a test's. */
export type Catalog = readonly Service[];

/** The severities Alertmanager routes (critical pages, warning goes to Slack, info to neither). */
export const SEVERITIES = ["critical", "warning", "info"] as const;
/** The dead man's switch: always firing by design. */
export const DEAD_MANS_SWITCH = "Watchdog";
const alertName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an alert name");
const duration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/, "must be a duration such as 15s, 30d or 1h30m");
const size = z.string().regex(/^\d+(B|KB|MB|GB|TB|PB)$/, "must be a size such as 500MB or 10GB");
const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "must be host:port (e.g. host.docker.internal:8000)");
// A tag or digest is required; `latest` is refused so that two deploys of one commit match.
const imageRef = z
  .string()
  .regex(/^[a-z0-9./_:-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$/, "must name a pinned tag or digest")
  .refine((ref) => !ref.endsWith(":latest"), "must not use the floating tag latest");

/** A block keyed by service name (ports:, images:, memoryMb:); an unknown name is a typo. */
function perService<T extends z.ZodTypeAny>(names: readonly string[], value: T) {
  return z.strictObject(Object.fromEntries(names.map((n) => [n, value.optional()])) as Record<string, z.ZodOptional<T>>);
}

/** The services of an environment that does not list them: the catalog, or (localImages) what this machine builds. */
function defaultServices(catalog: Catalog, localImages: boolean): string[] {
  const buildable = (service: ServiceDescriptor, seen: ReadonlySet<string> = new Set()): boolean =>
    hasLocalBuild(service) &&
    (service.needs ?? []).every((need) => !seen.has(need) && catalog.some((other) => other.name === need && buildable(other, new Set([...seen, service.name]))));
  return catalog.filter((service) => !localImages || buildable(service)).map((service) => service.name);
}

/** The image of a service built on this machine (scripts/build-local-images.sh): the catalog's release, tagged as upstream tags it. */
export function localImage(service: ServiceDescriptor): string {
  return `${LOCAL_IMAGE_REPOSITORY}/${service.hostname}:${pinnedTag(service)}`;
}

/** `list` (services:) breaks the catalog's rules: a required service missing, or one without what it needs. */
function serviceListIssues(catalog: Catalog, list: readonly string[]): string[] {
  const issues = catalog.filter((service) => service.required && !list.includes(service.name)).map((service) => `must include ${service.name}`);
  const missingNeeds = new Set(catalog.filter((service) => list.includes(service.name)).flatMap((service) => (service.needs ?? []).filter((need) => !list.includes(need))));
  for (const need of missingNeeds) {
    // Names every service that needs it: the rule, not only this file's case.
    const dependents = catalog.filter((service) => service.needs?.includes(need)).map((service) => service.name);
    issues.push(`${dependents.join(" and ")} need${dependents.length === 1 ? "s" : ""} ${need}`);
  }
  return issues;
}

/**
 * Where the environment's Terraform state lives. `local`: a file per environment (state/<env>.tfstate).
 * Shared backends, for teams and CI: `pg` (PostgreSQL; the connection string comes from PG_CONN_STR,
 * never from this file) and `s3` (or an S3-compatible store; credentials from the AWS_* variables),
 * both with locking.
 */
const stateBackend = z.discriminatedUnion("backend", [
  z.strictObject({ backend: z.literal("local") }),
  z.strictObject({
    backend: z.literal("pg"),
    /** PostgreSQL schema holding this environment's state; default protocol_monitoring_<name>. */
    schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case PostgreSQL identifier").optional(),
  }),
  z.strictObject({
    backend: z.literal("s3"),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name"),
    /** The state object is <keyPrefix><name>.tfstate. */
    keyPrefix: z.string().regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, "must be empty or end with /").default("protocol-monitoring/"),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be a region such as eu-central-1"),
    /** For S3-compatible stores (MinIO, Ceph, …). */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
  }),
]);

const scrapeTarget = z.strictObject({
  job: z.string().regex(/^[a-z][a-z0-9_]*$/, "must be a lower-case job name"),
  targets: z.array(hostPort).min(1),
  metricsPath: z.string().startsWith("/").default("/metrics"),
  scheme: z.enum(["http", "https"]).default("http"),
  scrapeInterval: duration.optional(),
});

function buildSchema(catalog: Catalog) {
  const names = catalog.map((service) => service.name);
  const published = catalog.filter(isPublished);
  return z
    .strictObject({
      name: z
        .string()
        .regex(/^[a-z][a-z0-9-]{0,23}$/, "must be lower-case letters, digits and dashes (max 24), starting with a letter"),
      description: z.string().optional(),
      docker: z
        .strictObject({
          host: z
            .string()
            .regex(/^(unix|tcp|ssh|npipe):\/\//, "must start with unix://, tcp://, ssh:// or npipe://")
            .default("unix:///var/run/docker.sock"),
          /** Folder with ca.pem, cert.pem and key.pem for a tcp:// host with TLS. */
          certPath: z.string().optional(),
          sshOpts: z.array(z.string()).optional(),
          /** The `host` label of its Node Exporter's metrics when the environment has a fleet (hosts:); default "stack". */
          name: hostName.optional(),
        })
        .prefault({}),
      /** The monitored Docker hosts besides the stack's own (docs/fleet.md). */
      hosts: z.array(fleetHost).default([]),
      bindAddress: z.union([z.ipv4(), z.ipv6()]).default("127.0.0.1"),
      /**
       * Prometheus and Alertmanager serve HTTPS with basic auth (their --web.config.file; user
       * `user`, password TF_VAR_web_password). Required when bindAddress is not a loopback address.
       * `names`: DNS names the server certificate adds to localhost, their service names and bindAddress.
       */
      webAuth: z
        .strictObject({
          enabled: z.boolean().default(false),
          user: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, "must be a lower-case user name").default("admin"),
          names: z.array(dnsName).default([]),
        })
        .prefault({}),
      /** Default: every service of the catalog; with localImages, those built on this machine. */
      services: z
        .array(z.enum(names as [string, ...string[]]))
        .refine((list) => new Set(list).size === list.length, "lists a service twice")
        .optional(),
      /**
       * Run the images this machine builds (scripts/build-local-images.sh): a service with a local
       * build defaults to `protocol-monitoring-local/<hostname>:<the catalog's tag>`, and
       * `services:` defaults to the services that have one (and whose needs have one too).
       */
      localImages: z.boolean().default(false),
      ports: perService(published.map((service) => service.name), port).default({}),
      images: perService(names, imageRef).default({}),
      memoryMb: perService(names, z.number().int().min(64)).default({}),
      retention: z
        .strictObject({ time: duration.default("30d"), size: size.default("10GB") })
        .prefault({}),
      scrape: z
        .strictObject({
          interval: duration.default("15s"),
          evaluationInterval: duration.default("15s"),
          targets: z.array(scrapeTarget).default([]),
          consul: z
            .strictObject({
              server: hostPort,
              services: z.array(z.string().min(1)).min(1),
              job: z.string().regex(/^[a-z][a-z0-9_]*$/).default("agents"),
            })
            .optional(),
        })
        .prefault({}),
      alerting: z
        .strictObject({
          /** PagerDuty receives critical alerts; the routing key comes from TF_VAR_pagerduty_routing_key. */
          pagerduty: z.boolean().default(false),
          /** Slack receives warnings; the webhook URL comes from TF_VAR_slack_webhook_url. */
          slack: z.strictObject({ channel: z.string().startsWith("#") }).optional(),
          /**
           * The Watchdog goes to a heartbeat service (a dead man's switch: it alerts when the pings
           * stop); the ping URL comes from TF_VAR_heartbeat_url. Off: the Watchdog goes nowhere.
           */
          heartbeat: z.boolean().default(false),
          /**
           * Email through an SMTP server (STARTTLS required), for the severities listed (critical by
           * default), besides PagerDuty and Slack. With `username`, the password comes from
           * TF_VAR_smtp_password.
           */
          email: z
            .strictObject({
              to: z.email(),
              from: z.email(),
              smarthost: hostPort,
              username: z.string().min(1).optional(),
              severities: z.array(z.enum(SEVERITIES)).min(1).default(["critical"]),
            })
            .optional(),
          /**
           * Where alerts' runbook links point: this repository as your team browses it (a
           * runbook is at <this>/stacks/services/<service>/runbooks/<Alert>.md); "." links
           * within the repository. The runbooks left docs/runbooks: a URL that still ends there is refused.
           */
          runbookBaseUrl: z
            .string()
            .min(1)
            .refine((url) => !/(^|\/)docs\/runbooks\/*$/.test(url), "must be the repository's URL, without /docs/runbooks: the runbooks now live beside their rules (stacks/services/<service>/runbooks, stacks/protocol/runbooks)")
            .transform((url) => url.replace(/\/+$/, "") || ".")
            .default("."),
          /** PagerDuty's Events API v2 URL: set it only to send through a relay or proxy. */
          pagerdutyUrl: z.url({ protocol: /^https$/, error: "must be an https:// URL" }).optional(),
          /**
           * A PEM file, relative to this file, with the CA that the receivers' certificates are checked
           * against (a relay or proxy with a private CA); the system's CAs otherwise.
           */
          caFile: z.string().min(1).optional(),
          /** The notification timers: before a group's first notification, between updates of a group, before a repeat. */
          timing: z
            .strictObject({ groupWait: duration.default("30s"), groupInterval: duration.default("5m"), repeatInterval: duration.default("4h") })
            .prefault({}),
        })
        // A notification is read far from this repository: a relative link there leads nowhere.
        .superRefine((alerting, ctx) => {
          const notifies = alerting.pagerduty || alerting.slack !== undefined || alerting.heartbeat || alerting.email !== undefined;
          if (notifies && !/^https:\/\/[^/\s]+/.test(alerting.runbookBaseUrl)) {
            ctx.addIssue({
              code: "custom",
              path: ["runbookBaseUrl"],
              message: `must be an https:// URL (e.g. https://github.com/<org>/protocol-monitoring/blob/main) when PagerDuty, Slack, email or the heartbeat is on, not "${alerting.runbookBaseUrl}"`,
            });
          }
        })
        .prefault({}),
      /**
       * Changes to the shipped alerts here (docs/alerts.md, Changing the alerts): alerts not loaded, the
       * `for`, severity or labels of others, and rule files of the team's own, relative to this file.
       */
      alerts: z
        .strictObject({
          disable: z.array(alertName).default([]),
          override: z
            .record(
              alertName,
              z.strictObject({
                for: duration.optional(),
                severity: z.enum(SEVERITIES).optional(),
                labels: z
                  .record(z.string(), z.string())
                  .superRefine((labels, ctx) => {
                    for (const name of Object.keys(labels)) {
                      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) ctx.addIssue({ code: "custom", path: [name], message: "must be a label name" });
                      else if (["severity", "alertname"].includes(name)) ctx.addIssue({ code: "custom", path: [name], message: "is set otherwise (severity: its own field)" });
                    }
                  })
                  .optional(),
              }),
            )
            .default({}),
          ruleFiles: z.array(z.string().regex(/\.ya?ml$/, "must be a .yml or .yaml file")).default([]),
        })
        .superRefine((alerts, ctx) => {
          // The dead man's switch pages when it stops: turned off or rerouted, the heartbeat would page for nothing, or nothing would.
          if (alerts.disable.includes(DEAD_MANS_SWITCH)) ctx.addIssue({ code: "custom", path: ["disable"], message: `${DEAD_MANS_SWITCH} is the dead man's switch: it cannot be disabled (turn alerting.heartbeat off instead)` });
          if (DEAD_MANS_SWITCH in alerts.override) ctx.addIssue({ code: "custom", path: ["override", DEAD_MANS_SWITCH], message: "the dead man's switch cannot be changed" });
          const both = alerts.disable.filter((name) => name in alerts.override);
          if (both.length) ctx.addIssue({ code: "custom", path: ["override"], message: `${both.join(", ")}: disabled and overridden at once` });
          const names = alerts.ruleFiles.map((file) => file.split("/").pop());
          const twice = names.filter((name, i) => names.indexOf(name) !== i);
          if (twice.length) ctx.addIssue({ code: "custom", path: ["ruleFiles"], message: `two files named ${twice[0]}: they share one folder in the container` });
        })
        .prefault({}),
      /** Alert thresholds an operator tunes per environment; rule files refer to them as [[ name ]]. */
      thresholds: z
        .strictObject({
          treasuryMinimumTokens: z.number().nonnegative().default(1000),
          latencyP99Seconds: z.number().positive().default(2),
          transfersPerMinuteMax: z.number().positive().default(100),
          authFailuresPerMinuteMax: z.number().positive().default(10),
          certificateExpiryDays: z.number().positive().default(7),
          /** A container's working set against its memory limit (memoryMb), in percent. */
          containerMemoryPercentMax: z.number().positive().max(100).default(90),
          /** CPU and memory in use on the Docker host, in percent (the seed's "resource usage > 80%"). */
          resourceUsagePercentMax: z.number().positive().max(100).default(80),
          /** Fewest federation peers a registry should have; 0 turns the alert off (a registry without federation). */
          federationPeersMin: z.number().int().nonnegative().default(1),
          /** Mean duration of an agent's requests (the SDK's request_duration timer). */
          agentLatencySeconds: z.number().positive().default(1),
        })
        .prefault({}),
      state: stateBackend.default({ backend: "local" }),
      /**
       * OpenTofu's state and plan encryption (docs/team-state.md, Encrypted state), with a key derived from
       * TF_VAR_state_passphrase. `key` is the passphrase's generation (raise it to rotate);
       * `previousKey`, only while rotating, the generation the state was written with
       * (TF_VAR_state_passphrase_previous), or 0 for state not yet encrypted.
       */
      encryption: z
        .strictObject({
          enabled: z.boolean().default(false),
          key: z.number().int().positive().default(1),
          previousKey: z.number().int().nonnegative().optional(),
        })
        .prefault({}),
      /** Keep data volumes on `destroy`: Terraform refuses to delete them. */
      protectData: z.boolean().default(false),
    })
    .transform((env) => ({ ...env, services: env.services ?? defaultServices(catalog, env.localImages) }))
    .superRefine((env, ctx) => {
      // On the list as it ends up, given or by default.
      for (const message of serviceListIssues(catalog, env.services)) ctx.addIssue({ code: "custom", path: ["services"], message });
      for (const [issuePath, message] of fleetIssues(env)) ctx.addIssue({ code: "custom", path: issuePath, message });
      if (env.encryption.previousKey !== undefined && !env.encryption.enabled) {
        ctx.addIssue({ code: "custom", path: ["encryption", "previousKey"], message: "is for rotating the key of encrypted state: set encryption.enabled too" });
      }
      if (env.encryption.previousKey === env.encryption.key) {
        ctx.addIssue({ code: "custom", path: ["encryption", "previousKey"], message: `must differ from key (${env.encryption.key}): a rotation goes to a new key` });
      }
      // What is published beyond this machine is served with TLS and a login, or not at all.
      if (!isLoopback(env.bindAddress)) {
        const unprotected = catalog.filter((service) => env.services.includes(service.name) && isPublished(service) && !servesTls(env, service));
        if (unprotected.length) {
          const fix = env.webAuth.enabled ? "they cannot serve TLS: leave them out of services" : "set webAuth: { enabled: true } (TLS and a login for each, docs/fleet.md, Security model)";
          ctx.addIssue({
            code: "custom",
            path: ["bindAddress"],
            message: `${env.bindAddress} would publish ${unprotected.map((service) => service.title).join(", ")} beyond this machine without TLS and a login: ${fix}, or keep 127.0.0.1`,
          });
        }
      }
      const seenJobs = new Map<string, number>();
      const seenTargets = new Map<string, number>();
      env.scrape.targets.forEach((target, index) => {
        if (seenJobs.has(target.job)) {
          ctx.addIssue({ code: "custom", path: ["scrape", "targets", index, "job"], message: `duplicates job "${target.job}"` });
        }
        seenJobs.set(target.job, index);
        target.targets.forEach((address, t) => {
          const key = `${target.scheme}://${address}${target.metricsPath}`;
          if (seenTargets.has(key)) {
            ctx.addIssue({ code: "custom", path: ["scrape", "targets", index, "targets", t], message: `duplicates target ${key}` });
          }
          seenTargets.set(key, index);
        });
      });
      const byPort = new Map<number, string>();
      for (const service of published) {
        const hostPortNumber = env.ports[service.name] ?? service.hostPort;
        if (hostPortNumber === undefined || !env.services.includes(service.name)) continue;
        const other = byPort.get(hostPortNumber);
        if (other) ctx.addIssue({ code: "custom", path: ["ports", service.name], message: `host port ${hostPortNumber} is also used by ${other}` });
        byPort.set(hostPortNumber, service.name);
      }
    });
}

type Schema = ReturnType<typeof buildSchema>;
const schemas = new WeakMap<Catalog, Schema>();
export function schemaFor(catalog: Catalog): Schema {
  let schema = schemas.get(catalog);
  if (!schema) {
    schema = buildSchema(catalog);
    schemas.set(catalog, schema);
  }
  return schema;
}

export type EnvironmentFile = z.input<Schema>;
type Parsed = z.output<Schema>;

/** A validated environment with every default filled in. */
export interface Environment extends Omit<Parsed, "ports" | "images" | "memoryMb"> {
  /** The host port of every published service, by name. */
  readonly ports: Readonly<Record<string, number>>;
  /** The image of every service, by name. */
  readonly images: Readonly<Record<string, string>>;
  /** The memory limit (MiB) of every service, by name. */
  readonly memoryMb: Readonly<Record<string, number>>;
  /** The services it could run, which it was validated against; `services` names those it runs. */
  readonly catalog: Catalog;
  /** The file the environment was read from, for messages. */
  readonly source: string;
  /** The content of alerting.caFile, read with the file. */
  readonly alertingCaPem?: string;
  /** The files of alerts.ruleFiles, read with the file. */
  readonly ownRuleFiles?: readonly { readonly path: string; readonly content: string }[];
}

export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnvironmentError";
  }
}

function fieldPath(pathParts: readonly PropertyKey[]): string {
  return pathParts.reduce<string>((acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), "");
}

/** Validates already-parsed data; `source` names the file in error messages. */
export function parseEnvironment(data: unknown, source: string, catalog: Catalog): Environment {
  const result = schemaFor(catalog).safeParse(data);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${fieldPath(issue.path) || "(file)"}: ${issue.message}`);
    throw new EnvironmentError(`${source}: invalid environment\n${lines.join("\n")}`);
  }
  const env = result.data;
  const expectedName = path.basename(source, ".yaml");
  if (source.endsWith(".yaml") && env.name !== expectedName) {
    throw new EnvironmentError(`${source}: invalid environment\n  name: "${env.name}" must match the file name "${expectedName}"`);
  }
  const fill = <V>(services: Catalog, given: Readonly<Record<string, V | undefined>>, fallback: (service: ServiceDescriptor) => V) =>
    Object.fromEntries(services.map((service) => [service.name, given[service.name] ?? fallback(service)])) as Record<string, V>;
  return {
    ...env,
    ports: fill(catalog.filter(isPublished), env.ports, (service) => service.hostPort as number),
    images: fill(catalog, env.images, (service) => (env.localImages && hasLocalBuild(service) ? localImage(service) : service.image)),
    memoryMb: fill(catalog, env.memoryMb, (service) => service.memoryMb),
    catalog,
    source,
  };
}

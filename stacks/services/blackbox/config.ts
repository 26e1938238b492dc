import { toYaml } from "../../yaml";
import type { Environment } from "../../environment";
import type { SecretName } from "../../secrets";
import { isPublished, runningServices } from "../../descriptor";
import { behindWebAuth, healthOverTls } from "../../web-config";

/**
 * The endpoint that says whether a Protocol service the environment scrapes is healthy, as the
 * seed's health check has it: `/health` of the registries and the TEG layer, the metrics path of
 * the others. `npm run health` requests it once; the blackbox exporter probes it continuously.
 */
export function protocolHealthPath(target: { readonly job: string; readonly metricsPath: string }): string {
  return target.job.startsWith("registry_") || target.job === "teg_layer" ? "/health" : target.metricsPath;
}

/** Paths inside the container where its configuration and the probes' passwords are uploaded. */
export const BLACKBOX_PATHS = {
  config: "/etc/blackbox_exporter/config.yml",
  secretsDir: "/etc/blackbox_exporter/secrets",
  /** webAuth: the environment's CA, which the HTTPS services' certificates are checked against. */
  ca: "/etc/blackbox_exporter/secrets/ca.pem",
} as const;

export const PORT = 9115;
/** The probes' job in prometheus.yml; the exporter's own metrics are job blackbox_exporter. */
export const PROBE_JOB = "blackbox";
/** The module of a plain probe: any 2xx answer within the timeout. */
const HTTP_2XX = "http_2xx";

/** One endpoint the blackbox exporter probes, and what its probe_* series are labelled with. */
export interface Probe {
  /** The stack service (its name in environment files) or the Protocol job it belongs to. */
  readonly service: string;
  readonly url: string;
  /** The blackbox module: http_2xx, or http_2xx_<service> for a probe that logs in. */
  readonly module: string;
  /** The secret a module that logs in reads its password from. */
  readonly secret?: SecretName;
  readonly user?: string;
  /** HTTPS checked against the environment's CA (a service behind webAuth). */
  readonly tls?: boolean;
}

/**
 * What the blackbox exporter probes, from inside the stack's network: every UI and API the
 * environment publishes (the health endpoint its descriptor names, as Docker's healthcheck and
 * `npm run health` use it; a service whose endpoint needs a login is probed with its descriptor's
 * low-privilege `probeAuth`; one behind webAuth over HTTPS as the web user), and every Protocol service it scrapes (`/health` of the registries
 * and the TEG layer, the metrics path of the others, as `npm run health` does).
 */
export function probes(env: Environment): Probe[] {
  const stack = runningServices(env)
    .filter(isPublished)
    .map((service): Probe => {
      const health = service.health;
      const module = `${HTTP_2XX}_${service.name}`;
      if (behindWebAuth(env, service)) {
        return { service: service.name, url: `https://${service.hostname}:${service.port}${health.path}`, module, user: env.webAuth.user, secret: "web_password", tls: true };
      }
      // Serving TLS with settings of its own (webAuth): HTTPS checked against the CA, its own login.
      const tls = healthOverTls(env, service);
      const url = `${tls ? "https" : "http"}://${service.hostname}:${health.port ?? service.port}${health.path}`;
      if (!health.auth) return tls ? { service: service.name, url, module, tls } : { service: service.name, url, module: HTTP_2XX };
      if (!health.probeAuth) throw new Error(`service ${service.name}: its health endpoint needs a login; give it a probeAuth (a low-privilege user) for the blackbox probe`);
      return { service: service.name, url, module, user: health.probeAuth.user, secret: health.probeAuth.secret, ...(tls ? { tls } : {}) };
    });
  const protocol = env.scrape.targets.flatMap((target) =>
    target.targets.map((address): Probe => ({ service: target.job, url: `${target.scheme}://${address}${protocolHealthPath(target)}`, module: HTTP_2XX })),
  );
  return [...stack, ...protocol];
}

/** The secrets the probes log in with. */
export function probeSecrets(env: Environment): SecretName[] {
  return [...new Set(probes(env).flatMap((probe) => (probe.secret ? [probe.secret] : [])))];
}

export function blackboxConfig(env: Environment): string {
  const http = { preferred_ip_protocol: "ip4" };
  const modules: Record<string, unknown> = { [HTTP_2XX]: { prober: "http", timeout: "5s", http } };
  for (const probe of probes(env)) {
    if (!probe.secret && !probe.tls) continue;
    modules[probe.module] = {
      prober: "http",
      timeout: "5s",
      http: {
        ...http,
        ...(probe.secret ? { basic_auth: { username: probe.user, password_file: `${BLACKBOX_PATHS.secretsDir}/${probe.secret}` } } : {}),
        ...(probe.tls ? { tls_config: { ca_file: BLACKBOX_PATHS.ca } } : {}),
      },
    };
  }
  return toYaml({ modules });
}


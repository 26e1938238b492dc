import { ALL_ADDRESSES } from "./addresses";
import type { Environment } from "./environment";
import type { Pki, ServerCertificate } from "./pki";
import type { ServiceContext } from "./service";
import type { ServiceDescriptor } from "./descriptor";

/**
 * The web config of a Prometheus-family server (Prometheus, Alertmanager, exporters: the
 * exporter-toolkit's `--web.config.file`): HTTPS with a certificate of the environment's CA, and
 * basic auth checked against a bcrypt hash. Every file lives in the service's secrets folder and
 * is uploaded as it is (Terraform references: the certificate, its key, the hash).
 */
export interface WebConfig {
  /** Files to upload (a ServiceContainer's secretFiles). */
  readonly files: Record<string, string>;
  /** The server's flag. */
  readonly flag: string;
}

export const WEB_CONFIG_FILES = { config: "web.yml", cert: "tls.crt", key: "tls.key" } as const;

export function webConfig(secretsDir: string, certificate: ServerCertificate, users: Readonly<Record<string, string>>): WebConfig {
  const file = (name: string) => `${secretsDir}/${name}`;
  const config = [
    "tls_server_config:",
    `  cert_file: ${file(WEB_CONFIG_FILES.cert)}`,
    `  key_file: ${file(WEB_CONFIG_FILES.key)}`,
    // TLS 1.2 at least (the toolkit's default, said).
    "  min_version: TLS12",
    "basic_auth_users:",
    ...Object.entries(users).map(([user, hash]) => `  ${user}: "${hash}"`),
    "",
  ].join("\n");
  return {
    files: { [file(WEB_CONFIG_FILES.config)]: config, [file(WEB_CONFIG_FILES.cert)]: certificate.cert, [file(WEB_CONFIG_FILES.key)]: certificate.key },
    flag: `--web.config.file=${file(WEB_CONFIG_FILES.config)}`,
  };
}

/** Whether the service serves HTTPS with basic auth here: webAuth is on and its descriptor has a webConfig. */
export function behindWebAuth(env: Environment, service: ServiceDescriptor): boolean {
  return env.webAuth.enabled && service.webConfig !== undefined;
}

/**
 * Whether the service serves TLS here: webAuth is on and it can, through an exporter-toolkit web
 * config or with settings of its own (`ownTls`). Only such a service may be published beyond loopback.
 */
export function servesTls(env: Pick<Environment, "webAuth">, service: ServiceDescriptor): boolean {
  return env.webAuth.enabled && (service.webConfig !== undefined || service.ownTls !== undefined);
}

/** Whether its health endpoint is on the port it serves TLS on (Logstash's is its plain API port, on the private network only). */
export function healthOverTls(env: Environment, service: ServiceDescriptor): boolean {
  return servesTls(env, service) && (service.health.port ?? service.port) === service.port;
}

/** Where a service that serves TLS with settings of its own finds its certificate, its key and the CA. */
export interface OwnTlsPaths {
  readonly cert: string;
  readonly key: string;
  /** The environment's CA: what it checks its clients (Logstash) or its servers (Elasticsearch) against. */
  readonly ca: string;
}

/** The TLS files of a service with `ownTls` while webAuth is on (its build sets them), else undefined; serviceContainer uploads them. */
export function ownTlsPaths(env: Pick<Environment, "webAuth">, service: ServiceDescriptor): OwnTlsPaths | undefined {
  if (!env.webAuth.enabled || !service.ownTls) return undefined;
  const at = (name: string) => `${service.ownTls?.dir}/${name}`;
  return { cert: at(WEB_CONFIG_FILES.cert), key: at(WEB_CONFIG_FILES.key), ca: at("ca.crt") };
}

/** The uploads of those files: the service's certificate of the environment's CA, its key, the CA. */
export function ownTlsUploads(ctx: ServiceContext): Record<string, string> | undefined {
  const { env, service, pki } = ctx;
  const paths = ownTlsPaths(env, service);
  if (!paths) return undefined;
  if (!pki) throw new Error(`service ${service.name}: webAuth needs the environment's CA (monitoring-stack.ts makes it)`);
  const certificate = webCertificate(pki, env, service);
  return { [paths.cert]: certificate.cert, [paths.key]: certificate.key, [paths.ca]: pki.caPem };
}

/** The web config of a service behind webAuth (its certificate, the web user's hash), else undefined. */
export function serviceWebConfig(ctx: ServiceContext): WebConfig | undefined {
  const { env, service, pki } = ctx;
  if (!behindWebAuth(env, service) || !service.webConfig) return undefined;
  if (!pki) throw new Error(`service ${service.name}: webAuth needs the environment's CA (monitoring-stack.ts makes it)`);
  return webConfig(service.webConfig.secretsDir, webCertificate(pki, env, service), { [env.webAuth.user]: ctx.secrets.bcrypt("web_password") });
}

/** How a client (Prometheus) reaches such a server: scheme, CA and credentials (prometheus.yml keys). */
export function webClient(caFile: string, user: string, passwordFile: string): Record<string, unknown> {
  return { scheme: "https", tls_config: { ca_file: caFile }, basic_auth: { username: user, password_file: passwordFile } };
}

/**
 * The server certificate of a service behind webAuth: its name on the private network, localhost
 * (Prometheus scrapes itself there), 127.0.0.1, the bind address and the names the environment adds.
 */
export function webCertificate(pki: Pki, env: Environment, service: ServiceDescriptor): ServerCertificate {
  const ips = [...new Set(["127.0.0.1", ...(ALL_ADDRESSES.includes(env.bindAddress) ? [] : [env.bindAddress])])];
  return pki.server(`web-${service.hostname}`, service.hostname, { dns: [service.hostname, "localhost", ...env.webAuth.names], ips });
}

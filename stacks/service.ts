import type { Network } from "@cdktf/provider-docker/lib/network";
import type { ITerraformDependable, TerraformProvider } from "cdktf";
import type { Construct } from "constructs";
import type { StackAssets } from "./assets";
import { isLoopback } from "./addresses";
import { ServiceContainer, type ServiceContainerProps } from "./container";
import { isPublished, type ServiceDescriptor } from "./descriptor";
import type { Environment } from "./environment";
import type { FleetMember } from "./fleet";
import type { Pki } from "./pki";
import type { StackImages } from "./images";
import { healthOverTls, ownTlsPaths, ownTlsUploads, serviceWebConfig } from "./web-config";
import type { Secrets } from "./secret-variables";

/**
 * What a service's build works with: its context, and the container helpers every build uses
 * (the healthcheck and published ports its descriptor implies). The descriptor itself, data the
 * scripts read too, is in descriptor.ts.
 */

/**
 * The one context a service is built from. A service deployed on several Docker hosts builds each
 * instance from a copy with that host's `provider` (an alias), `network` and `images`.
 */
export interface ServiceContext {
  readonly env: Environment;
  /** The environment's certificate authority, where something is served over TLS (a fleet, webAuth). */
  readonly pki?: Pki;
  /** The fleet (`hosts:`): each host with its own provider alias, private network and images. */
  readonly fleet: readonly FleetMember[];
  readonly assets: StackAssets;
  /** The Docker host it is built on; unset: the stack's default provider. */
  readonly provider?: TerraformProvider;
  /** The private network of that Docker host. */
  readonly network: Network;
  /** The images of that Docker host. */
  readonly images: StackImages;
  readonly secrets: Secrets;
  /** The service being built. */
  readonly service: ServiceDescriptor;
  /** The readiness of the services it needs. */
  readonly after: readonly ITerraformDependable[];
}

/**
 * Docker's healthcheck of a server behind a web config (TLS and basic auth). The images' only
 * HTTPS client, busybox wget, cannot talk TLS to Go's servers (they require the
 * signature_algorithms extension it does not send), and a host that must not hold the password
 * could not authenticate anyway. So the check asks the server in plain HTTP on its TLS port: Go's
 * HTTP server answers "Client sent an HTTP request to an HTTPS server", which proves it is up and
 * serving TLS, and nothing more (not readiness: Prometheus's /-/ready needs credentials).
 */
export function tlsHealthcheckCommand(service: ServiceDescriptor): string {
  return `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 127.0.0.1 ${service.health.port ?? service.port} | grep -q 'HTTPS server'`;
}

/** Docker's healthcheck command (a CMD-SHELL string), from the health endpoint. */
export function healthcheckCommand(service: ServiceDescriptor, https?: { readonly caFile?: string }): string {
  const health = service.health;
  const url = `${https ? "https" : "http"}://127.0.0.1:${health.port ?? service.port}${health.path}${health.waitQuery ? `?${health.waitQuery}` : ""}`;
  if (health.client === "wget") {
    if (health.auth) throw new Error(`service ${service.name}: busybox wget takes no basic auth: use curl`);
    // busybox wget cannot talk TLS to Go's servers: tlsHealthcheckCommand says why and what instead.
    if (https) return tlsHealthcheckCommand(service);
    return `wget -q -O /dev/null ${url}`;
  }
  const auth = health.auth ? `-u "${health.auth.user}:$${health.auth.env}" ` : "";
  if (https && !https.caFile) throw new Error(`service ${service.name}: curl over HTTPS needs the CA file`);
  const ca = https ? `--cacert ${https.caFile} ` : "";
  // Quoted when the shell would read the query's & or ? itself.
  const target = /[?&]/.test(url) ? `"${url}"` : url;
  return `curl -fsS --max-time 4 ${ca}${auth}${target} >/dev/null`;
}

/** The container ports a service publishes, with the environment's host port. */
export function publishedPorts(service: ServiceDescriptor, env: Environment): NonNullable<ServiceContainerProps["ports"]> {
  if (!isPublished(service)) return [];
  const external = env.ports[service.name];
  // UDP carries neither TLS nor a login: beyond loopback it is published on 127.0.0.1 only.
  const udpIp = isLoopback(env.bindAddress) ? {} : { ip: "127.0.0.1" };
  return [{ internal: service.port, external }, ...(service.extraPorts ?? []).map((extra) => ({ internal: extra.internal, external, protocol: extra.protocol, ...udpIp }))];
}

type Extras = Omit<ServiceContainerProps, "ctx" | "service" | "image" | "memoryMb" | "ports" | "dataPath" | "user" | "runsAsRoot" | "healthcheck"> & {
  /** One of several instances (one per Docker host): named `<hostname>-<instance>`. */
  readonly instance?: string;
  /** Published there instead of the descriptor's host port on the bind address (a fleet host's exporter). */
  readonly publishOn?: { readonly ip: string; readonly port: number };
  /** Docker's check, when not the descriptor's plain HTTP one (TLS: tlsHealthcheckCommand). */
  readonly healthcheck?: string;
};

/**
 * The service's container as its descriptor and the environment say (image, memory, ports, data
 * volume, healthcheck, user, what it waits for), plus what only the service knows (`extras`).
 */
export function serviceContainer(scope: Construct, ctx: ServiceContext, { instance, publishOn, ...extras }: Extras = {}): ServiceContainer {
  const service = ctx.service;
  const ports = publishOn ? [{ internal: service.port, external: publishOn.port, ip: publishOn.ip }] : publishedPorts(service, ctx.env);
  const name = instance ? `${service.hostname}-${instance}` : service.hostname;
  // Behind webAuth: its web config's flag and files; serving TLS with settings of its own (its
  // build sets them): the certificate, key and CA. Either way its check goes over TLS.
  const web = serviceWebConfig(ctx);
  const secretFiles = { ...extras.secretFiles, ...web?.files, ...ownTlsUploads(ctx) };
  const httpsHealth = healthOverTls(ctx.env, service) ? { caFile: ownTlsPaths(ctx.env, service)?.ca } : undefined;
  return new ServiceContainer(scope, name, {
    ctx,
    service: name,
    image: ctx.env.images[service.name],
    memoryMb: ctx.env.memoryMb[service.name],
    user: service.user,
    runsAsRoot: service.runsAsRoot,
    ports: ports.length ? ports : undefined,
    dataPath: service.dataPath,
    dependsOn: ctx.after.length ? [...ctx.after] : undefined,
    ...extras,
    ...(web ? { command: [...(extras.command ?? []), web.flag] } : {}),
    secretFiles: Object.keys(secretFiles).length ? secretFiles : undefined,
    healthcheck: extras.healthcheck ?? healthcheckCommand(service, httpsHealth),
  });
}

import type { Network } from "@cdktf/provider-docker/lib/network";
import type { TerraformProvider } from "cdktf";
import { z } from "zod";
import { ALL_ADDRESSES, ip, isIp, isLoopback, port } from "./addresses";
import type { StackImages } from "./images";

/**
 * The fleet (`hosts:` in an environment file): the Docker hosts monitored besides the stack's own,
 * each with a Node Exporter of its own. Its schema and rules are here; environment.ts puts them in
 * the environment's schema, the Node Exporter's build deploys to each host.
 */

/** A name for people and for labels: the `host` and `instance` labels of its metrics, container names. */
export const hostName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "must be lower-case letters, digits and dashes (max 32), starting with a letter");
// A DNS name (RFC 1123 labels) or an IP address: what Prometheus reaches a host's exporter on.
export const dnsName = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, "must be an IP address or a DNS name");

/**
 * A monitored Docker host of the fleet (`hosts:`): a Node Exporter is deployed there through a
 * docker provider of its own, serving TLS with basic auth, published on `publishAddress` (default:
 * `address`), and scraped by Prometheus at `address:port` with the labels `instance` and `host`
 * set to `name`.
 */
export const fleetHost = z.strictObject({
  name: hostName,
  /** Its Docker API: unix:// (this machine), tcp:// with certPath (TLS), or ssh:// (sshOpts). */
  docker: z.strictObject({
    host: z.string().regex(/^(unix|tcp|ssh):\/\//, "must start with unix://, tcp:// or ssh://"),
    /** Folder with the client's ca.pem, cert.pem and key.pem (tcp://). */
    certPath: z.string().min(1).optional(),
    sshOpts: z.array(z.string()).optional(),
  }),
  /** Where Prometheus reaches the exporter: an IP address or a DNS name (the server certificate names it). */
  address: z.string({ error: "is required: the IP address or DNS name Prometheus reaches this host's exporter on" }).pipe(z.union([ip, dnsName])),
  /** The IP the exporter is published on; default `address` when that is an IP (a DNS name needs it). */
  publishAddress: ip.optional(),
  /** Allows publishAddress 0.0.0.0 or :: (every interface of the host): off unless said. */
  exposeOnAllInterfaces: z.boolean().default(false),
  port: port.default(9100),
});
export type FleetHost = z.output<typeof fleetHost>;

/** Where a fleet host's exporter is published (the schema made sure there is such an IP). */
export function publishAddressOf(host: FleetHost): string {
  return host.publishAddress ?? host.address;
}

/** Problems of the fleet (`hosts:`), as [path, message]. */
export function fleetIssues(env: { docker: { host: string; name?: string }; services: readonly string[]; hosts: readonly FleetHost[] }): [PropertyKey[], string][] {
  const issues: [PropertyKey[], string][] = [];
  if (env.hosts.length && !env.services.includes("nodeExporter")) issues.push([["services"], "must include nodeExporter: hosts: deploys a Node Exporter to each host"]);
  const names = new Map<string, number>([[env.docker.name ?? STACK_HOST_NAME, -1]]);
  const endpoints = new Map<string, number>([[env.docker.host, -1]]);
  const published = new Map<string, number>();
  env.hosts.forEach((host, index) => {
    const at = (...rest: PropertyKey[]) => ["hosts", index, ...rest];
    const where = (other: number) => (other < 0 ? "the stack's own Docker host (docker:)" : `hosts[${other}]`);
    const sameName = names.get(host.name);
    if (sameName !== undefined) issues.push([at("name"), `duplicates host name "${host.name}" of ${where(sameName)}`]);
    else names.set(host.name, index);
    const sameEndpoint = endpoints.get(host.docker.host);
    if (sameEndpoint !== undefined) {
      issues.push([at("docker", "host"), sameEndpoint < 0 ? `${host.docker.host} is the stack's own Docker host (docker.host): its Node Exporter runs there already, on the private network` : `${host.docker.host} is also hosts[${sameEndpoint}]'s Docker host`]);
    } else endpoints.set(host.docker.host, index);
    if (host.docker.host.startsWith("tcp://") && !host.docker.certPath) issues.push([at("docker", "certPath"), "is required for a tcp:// Docker API: TLS (never expose the API without it)"]);
    if (!host.docker.host.startsWith("tcp://") && host.docker.certPath) issues.push([at("docker", "certPath"), "is only for a tcp:// Docker API"]);
    if (!host.docker.host.startsWith("ssh://") && host.docker.sshOpts) issues.push([at("docker", "sshOpts"), "is only for an ssh:// Docker API"]);
    if (ALL_ADDRESSES.includes(host.address)) issues.push([at("address"), `${host.address} is not an address Prometheus can reach: give the host's IP or DNS name (publishAddress says where the exporter listens)`]);
    else if (isLoopback(host.address)) issues.push([at("address"), `${host.address} is a loopback address: from Prometheus's container it is Prometheus itself. Give the IP or DNS name the host is reached on`]);
    if (!host.publishAddress && !isIp(host.address)) issues.push([at("publishAddress"), `is required when address is a DNS name (${host.address}): the IP of the host's interface the exporter is published on`]);
    const publish = host.publishAddress ?? host.address;
    if (ALL_ADDRESSES.includes(publish) && !host.exposeOnAllInterfaces) {
      issues.push([at("publishAddress"), `${publish} publishes the exporter on every interface of ${host.name}: give one IP, or set exposeOnAllInterfaces: true to mean it`]);
    }
    const key = `${host.docker.host} ${publish}:${host.port}`;
    if (published.has(key)) issues.push([at("port"), `${publish}:${host.port} is also hosts[${published.get(key)}]'s`]);
    published.set(key, index);
  });
  return issues;
}

/** The `host` label of the stack's own Node Exporter when there is a fleet (docker.name). */
export const STACK_HOST_NAME = "stack";

/** The docker provider alias of a fleet host (Terraform: docker.<alias>). */
export function fleetAlias(hostName: string): string {
  return `fleet-${hostName}`;
}

/** A monitored Docker host of the fleet, as services build on it. */
export interface FleetMember {
  readonly host: FleetHost;
  readonly provider: TerraformProvider;
  readonly network: Network;
  readonly images: StackImages;
}

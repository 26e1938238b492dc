import type { Construct } from "constructs";
import { ALL_ADDRESSES, isIp } from "../../addresses";
import type { ServiceBuild } from "../../descriptor";
import { type FleetHost, publishAddressOf } from "../../fleet";
import { serviceContainer, type ServiceContext, tlsHealthcheckCommand } from "../../service";
import { webConfig } from "../../web-config";
import { FLEET_SCRAPE_USER, PORT } from "./descriptor";

/** Where a fleet host's exporter finds its web config, certificate and key. */
const FLEET_SECRETS_DIR = "/etc/node-exporter/secrets";
const FLAGS = [
  "--path.rootfs=/host/root",
  "--path.procfs=/host/proc",
  "--path.sysfs=/host/sys",
  "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|var/lib/docker/.+|run/docker/.+)($|/)",
  `--web.listen-address=:${PORT}`,
];

const hostMount = (source: string, target: string) => ({ type: "bind", source, target, readOnly: true });
// No rslave propagation on "/": engines whose root mount is private refuse it, and file
// systems mounted later are still seen after a restart.
const HOST_MOUNTS = [hostMount("/", "/host/root"), hostMount("/proc", "/host/proc"), hostMount("/sys", "/host/sys")];

/** The names a fleet host's server certificate holds: what Prometheus dials (address), and where it is published. */
function certificateNames(host: FleetHost): { dns: string[]; ips: string[] } {
  const names = [...new Set([host.address, publishAddressOf(host)])].filter((name) => !ALL_ADDRESSES.includes(name));
  return { dns: names.filter((name) => !isIp(name)), ips: names.filter(isIp) };
}

/** Its resources: the exporter of the stack's Docker host, and one per fleet host. */
export const build: ServiceBuild = (scope, ctx) => {
  const local = serviceContainer(scope, ctx, { command: FLAGS, pidMode: "host", mounts: HOST_MOUNTS, readOnlyRootFs: true });
  for (const member of ctx.fleet) fleetExporter(scope, ctx, member);
  return local;
};

/** The exporter of one fleet host, built through its provider, network and images. */
function fleetExporter(scope: Construct, ctx: ServiceContext, { host, provider, network, images }: ServiceContext["fleet"][number]) {
  if (!ctx.pki) throw new Error("a fleet needs the environment's CA (MonitoringStack makes one)");
  const certificate = ctx.pki.server(`node-exporter-${host.name}`, host.address, certificateNames(host));
  const web = webConfig(FLEET_SECRETS_DIR, certificate, { [FLEET_SCRAPE_USER]: ctx.secrets.bcrypt("fleet_scrape_password") });
  return serviceContainer(scope, { ...ctx, provider, network, images, after: [] }, {
    instance: host.name,
    publishOn: { ip: publishAddressOf(host), port: host.port },
    command: [...FLAGS, web.flag],
    pidMode: "host",
    mounts: HOST_MOUNTS,
    // Uploads need a writable root (docker cp); the exporter still runs as nobody with no capabilities.
    secretFiles: web.files,
    healthcheck: tlsHealthcheckCommand(ctx.service),
  });
}

import { Construct } from "constructs";
import { ALL_ADDRESSES, isIp } from "../../addresses";
import { type FleetHost, publishAddressOf, STACK_HOST_NAME } from "../../fleet";
import { defineService } from "../../descriptor";
import { serviceContainer, type ServiceContext, tlsHealthcheckCommand } from "../../service";
import { webConfig } from "../../web-config";

const PORT = 9100;

/** Where a fleet host's exporter finds its web config, certificate and key. */
const FLEET_SECRETS_DIR = "/etc/node-exporter/secrets";
/** The user Prometheus scrapes the fleet's exporters as (password: TF_VAR_fleet_scrape_password). */
export const FLEET_SCRAPE_USER = "prometheus";

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

/**
 * Node Exporter reports the Docker host, not its own container: the host's root, /proc and /sys
 * are mounted read-only and it shares the host's process namespace. On the stack's Docker host it
 * stays on the private network (no host networking, no published port), so host metrics are never
 * exposed beyond Prometheus; the price is that network-interface metrics describe the container's
 * interface. On every fleet host (`hosts:`) one more runs through that host's provider, published
 * on the host's address and serving only HTTPS (a certificate of the environment's CA) with basic
 * auth (the bcrypt hash of TF_VAR_fleet_scrape_password): what crosses machines is encrypted and
 * authenticated.
 */
export const nodeExporter = defineService({
  name: "nodeExporter",
  title: "Node Exporter",
  image: "prom/node-exporter:v1.12.1",
  localBuild: {
    goModule: "github.com/prometheus/node_exporter",
    // As prom/node-exporter's Dockerfile (its systemd collector is off by default upstream).
    binaries: { node_exporter: "/bin/node_exporter" },
    entrypoint: ["/bin/node_exporter"],
  },
  port: PORT,
  memoryMb: 128,
  user: "65534:65534",
  secrets: (env) => (env.hosts.length ? ["fleet_scrape_password"] : []),
  health: { path: "/", client: "wget" },
  // With a fleet, the stack host's exporter is one host among others: named by docker.name.
  scrape: { job: "node", labels: (env) => (env.hosts.length ? { host: env.docker.name ?? STACK_HOST_NAME } : undefined) },
  metrics: { sources: ["node_exporter"] },
  build: (scope, ctx) => {
    const local = serviceContainer(scope, ctx, { command: FLAGS, pidMode: "host", mounts: HOST_MOUNTS, readOnlyRootFs: true });
    for (const member of ctx.fleet) fleetExporter(scope, ctx, member);
    return local;
  },
});

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

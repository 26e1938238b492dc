import { STACK_HOST_NAME } from "../../fleet";
import { defineService } from "../../descriptor";

export const PORT = 9100;

/** The user Prometheus scrapes the fleet's exporters as (password: TF_VAR_fleet_scrape_password). */
export const FLEET_SCRAPE_USER = "prometheus";

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
});

import { defineService, serviceContainer } from "../service";

const PORT = 9100;

/**
 * Node Exporter reports the Docker host, not its own container: the host's root, /proc and /sys
 * are mounted read-only and it shares the host's process namespace. It stays on the private
 * network (no host networking, no published port), so host metrics are never exposed beyond
 * Prometheus; the price is that network-interface metrics describe the container's interface.
 */
export const nodeExporter = defineService({
  name: "nodeExporter",
  title: "Node Exporter",
  image: "prom/node-exporter:v1.12.1",
  localBuild: true,
  port: PORT,
  memoryMb: 128,
  user: "65534:65534",
  health: { path: "/", client: "wget" },
  scrape: { job: "node" },
  metrics: { sources: ["node_exporter"], ruleFiles: ["host.rules.yml"] },
  build: (scope, ctx) => {
    const hostMount = (source: string, target: string) => ({ type: "bind", source, target, readOnly: true });
    return serviceContainer(scope, ctx, {
      command: [
        "--path.rootfs=/host/root",
        "--path.procfs=/host/proc",
        "--path.sysfs=/host/sys",
        "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|var/lib/docker/.+|run/docker/.+)($|/)",
        `--web.listen-address=:${PORT}`,
      ],
      pidMode: "host",
      // No rslave propagation on "/": engines whose root mount is private refuse it, and file
      // systems mounted later are still seen after a restart.
      mounts: [hostMount("/", "/host/root"), hostMount("/proc", "/host/proc"), hostMount("/sys", "/host/sys")],
      readOnlyRootFs: true,
    });
  },
});

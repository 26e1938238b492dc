import { Construct } from "constructs";
import { SERVICES } from "../catalog";
import { ServiceContainer, type StackContext } from "../container";
import type { Environment } from "../environment";

export interface NodeExporterProps {
  readonly context: StackContext;
  readonly env: Environment;
}

/**
 * Reports the Docker host, not its own container: the host's root, /proc and /sys are mounted
 * read-only and it shares the host's process namespace. It stays on the private network (no
 * host networking, no published port), so host metrics are never exposed beyond Prometheus;
 * the price is that network-interface metrics describe the container's interface.
 */
export class NodeExporter extends Construct {
  readonly service: ServiceContainer;

  constructor(scope: Construct, id: string, { context, env }: NodeExporterProps) {
    super(scope, id);
    const spec = SERVICES.nodeExporter;
    const hostMount = (source: string, target: string) => ({ type: "bind", source, target, readOnly: true });
    this.service = new ServiceContainer(this, "node-exporter", {
      context,
      service: spec.hostname,
      image: env.images.nodeExporter,
      memoryMb: env.memoryMb.nodeExporter,
      command: [
        "--path.rootfs=/host/root",
        "--path.procfs=/host/proc",
        "--path.sysfs=/host/sys",
        "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|var/lib/docker/.+|run/docker/.+)($|/)",
        `--web.listen-address=:${spec.port}`,
      ],
      user: "65534:65534",
      pidMode: "host",
      // No rslave propagation on "/": engines whose root mount is private refuse it, and file
      // systems mounted later are still seen after a restart.
      mounts: [hostMount("/", "/host/root"), hostMount("/proc", "/host/proc"), hostMount("/sys", "/host/sys")],
      readOnlyRootFs: true,
      healthcheck: `wget -q -O /dev/null http://127.0.0.1:${spec.port}/`,
    });
  }
}

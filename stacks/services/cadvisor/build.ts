import { ENVIRONMENT_LABEL, SERVICE_LABEL } from "../../labels";
import { serviceContainer } from "../../service";
import type { ServiceBuild } from "../../descriptor";
import { PORT } from "./config";

/** Its resources: the container and what it uploads. */
export const build: ServiceBuild = (scope, ctx) => {
  const hostMount = (source: string, target: string) => ({ type: "bind", source, target, readOnly: true });
  return serviceContainer(scope, ctx, {
    command: [
      `--port=${PORT}`,
      "--docker_only=true",
      "--housekeeping_interval=30s",
      "--enable_metrics=cpu,memory",
      "--store_container_labels=false",
      `--whitelisted_container_labels=${ENVIRONMENT_LABEL},${SERVICE_LABEL}`,
      "--event_storage_event_limit=default=0",
      "--event_storage_age_limit=default=0",
    ],
    // As upstream's `docker run` (but /dev/disk and /dev/kmsg: no disk or OOM events here).
    mounts: [hostMount("/", "/rootfs"), hostMount("/var/run", "/var/run"), hostMount("/sys", "/sys"), hostMount("/var/lib/docker", "/var/lib/docker")],
    // The host's cgroup tree, not only its own (cgroup v2 engines default to a private namespace).
    cgroupnsMode: "host",
    readOnlyRootFs: true,
  });
};

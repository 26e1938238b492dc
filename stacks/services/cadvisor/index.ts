import type { Environment } from "../../environment";
import { ENVIRONMENT_LABEL, SERVICE_LABEL } from "../../labels";
import { defineService } from "../../descriptor";
import { serviceContainer } from "../../service";

const PORT = 8080;

/** A Docker label as cAdvisor names it on its series (container_label_ and the name, _ for what Prometheus refuses). */
const asMetricLabel = (dockerLabel: string) => `container_label_${dockerLabel.replace(/[^a-zA-Z0-9_]/g, "_")}`;

/**
 * Only this environment's containers are kept (cAdvisor sees every container of the Docker host,
 * other environments' too), each with `service`, the service its container is (the label the
 * stack puts on it); the Docker labels themselves are dropped. cAdvisor's own process metrics stay.
 */
function metricRelabelConfigs(env: Environment): Record<string, unknown>[] {
  const environment = asMetricLabel(ENVIRONMENT_LABEL);
  const service = asMetricLabel(SERVICE_LABEL);
  return [
    { source_labels: [environment, service], regex: `${env.name};(.+)`, target_label: "service", replacement: "$1" },
    { source_labels: ["__name__", "service"], regex: "container_.*;", action: "drop" },
    { regex: `${environment}|${service}`, action: "labeldrop" },
  ];
}

/**
 * cAdvisor: the Docker host's containers as Prometheus series, for the restart alert
 * (ContainerRestarting, from container_start_time_seconds, which changes on every start) and the
 * Operations dashboard's "Container restarts". Why cAdvisor and not Docker's own metrics: the
 * engine's metrics endpoint has no per-container start or restart series and must be switched on
 * in the engine's daemon.json, outside what a deploy manages.
 *
 * Lean: Docker containers only, housekeeping every 30 s instead of every second, CPU and memory
 * only (no disk usage walks, no network, process or per-CPU series), no event history.
 */
export const cadvisor = defineService({
  name: "cadvisor",
  title: "cAdvisor",
  image: "ghcr.io/google/cadvisor:v0.60.6",
  localBuild: {
    goModule: "github.com/google/cadvisor",
    // cAdvisor publishes its library (the root and /lib, one version) but not its main package,
    // whose module replaces the library with ../: a main of this project (images/cadvisor,
    // upstream's cmd/cadvisor.go reduced to what the stack uses) is built with both required.
    alsoRequires: ["github.com/google/cadvisor/lib"],
    main: "images/cadvisor",
    versionPackage: "github.com/google/cadvisor/lib/version",
    // As deploy/Dockerfile: started by upstream's entrypoint.sh (cadvisor -logtostderr "$@").
    binaries: { cadvisor: "/usr/bin/cadvisor" },
    files: { "deploy/entrypoint.sh": "/usr/bin/entrypoint.sh", "deploy/healthcheck.sh": "/usr/bin/healthcheck.sh", LICENSE: "/LICENSE" },
    entrypoint: ["/usr/bin/entrypoint.sh"],
  },
  port: PORT,
  memoryMb: 128,
  runsAsRoot:
    "it reads the host's cgroups, /var/lib/docker and the Docker socket, which only root may read (all mounted read-only; no capability, not privileged; the socket is still the Docker API: it is not published, only Prometheus reaches it)",
  health: { path: "/healthz", client: "wget" },
  scrape: { job: "cadvisor", settings: (env) => ({ metric_relabel_configs: metricRelabelConfigs(env) }) },
  metrics: { sources: ["cadvisor"] },
  build: (scope, ctx) => {
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
  },
});

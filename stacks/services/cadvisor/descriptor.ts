import { defineService } from "../../descriptor";
import { metricRelabelConfigs, PORT } from "./config";

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
});

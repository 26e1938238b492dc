import type { Environment } from "../../environment";
import { ENVIRONMENT_LABEL, SERVICE_LABEL } from "../../labels";

export const PORT = 8080;

/** A Docker label as cAdvisor names it on its series (container_label_ and the name, _ for what Prometheus refuses). */
const asMetricLabel = (dockerLabel: string) => `container_label_${dockerLabel.replace(/[^a-zA-Z0-9_]/g, "_")}`;

/**
 * Only this environment's containers are kept (cAdvisor sees every container of the Docker host,
 * other environments' too), each with `service`, the service its container is (the label the
 * stack puts on it); the Docker labels themselves are dropped. cAdvisor's own process metrics stay.
 */
export function metricRelabelConfigs(env: Environment): Record<string, unknown>[] {
  const environment = asMetricLabel(ENVIRONMENT_LABEL);
  const service = asMetricLabel(SERVICE_LABEL);
  return [
    { source_labels: [environment, service], regex: `${env.name};(.+)`, target_label: "service", replacement: "$1" },
    { source_labels: ["__name__", "service"], regex: "container_.*;", action: "drop" },
    { regex: `${environment}|${service}`, action: "labeldrop" },
  ];
}

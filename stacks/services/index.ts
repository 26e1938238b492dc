import type { Service } from "../descriptor";
import { alertmanager } from "./alertmanager";
import { blackbox } from "./blackbox";
import { cadvisor } from "./cadvisor";
import { elasticsearch } from "./elasticsearch";
import { elasticsearchExporter } from "./elasticsearch-exporter";
import { grafana } from "./grafana";
import { kibana } from "./kibana";
import { logstash } from "./logstash";
import { nodeExporter } from "./node-exporter";
import { prometheus } from "./prometheus";

/**
 * Every service the stack can run: the one list. An import list rather than discovery (reading
 * this folder at run time): the compiler checks it, the order is stated (it is the order of
 * prometheus.yml's jobs, of `npm run health` and of the default `services:`), and a descriptor is
 * an ordinary module that tests can add to a catalog of their own. Add a service: write
 * stacks/services/<name>/ (descriptor.ts, build.ts, an index.ts joining them) and add it here.
 */
export const SERVICES: readonly Service[] = [
  prometheus,
  nodeExporter,
  alertmanager,
  grafana,
  elasticsearch,
  logstash,
  kibana,
  blackbox,
  elasticsearchExporter,
  cadvisor,
];

/** A service of a catalog by its name. */
export function serviceNamed(name: string, catalog: readonly Service[] = SERVICES): Service {
  const found = catalog.find((service) => service.name === name);
  if (!found) throw new Error(`no service is named ${name} (have ${catalog.map((s) => s.name).join(", ")})`);
  return found;
}

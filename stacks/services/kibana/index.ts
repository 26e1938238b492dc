import { withBuild } from "../../descriptor";
import { build } from "./build";
import { kibana as descriptor } from "./descriptor";

export * from "./descriptor";
/** The service: its descriptor (descriptor.ts) with its build (build.ts). */
export const kibana = withBuild(descriptor, build);

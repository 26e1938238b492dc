import { withBuild } from "../../descriptor";
import { build } from "./build";
import { alertmanager as descriptor } from "./descriptor";

export * from "./config";
export * from "./descriptor";
/** The service: its descriptor (descriptor.ts) with its build (build.ts). */
export const alertmanager = withBuild(descriptor, build);

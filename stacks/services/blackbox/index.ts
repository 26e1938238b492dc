import { withBuild } from "../../descriptor";
import { build } from "./build";
import { blackbox as descriptor } from "./descriptor";

export * from "./config";
export * from "./descriptor";
/** The service: its descriptor (descriptor.ts) with its build (build.ts). */
export const blackbox = withBuild(descriptor, build);

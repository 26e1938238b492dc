import { withBuild } from "../../descriptor";
import { build } from "./build";
import { cadvisor as descriptor } from "./descriptor";

export * from "./config";
export * from "./descriptor";
/** The service: its descriptor (descriptor.ts) with its build (build.ts). */
export const cadvisor = withBuild(descriptor, build);

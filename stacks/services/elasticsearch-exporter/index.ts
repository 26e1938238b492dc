import { withBuild } from "../../descriptor";
import { build } from "./build";
import { elasticsearchExporter as descriptor } from "./descriptor";

export * from "./descriptor";
/** The service: its descriptor (descriptor.ts) with its build (build.ts). */
export const elasticsearchExporter = withBuild(descriptor, build);

import * as fs from "node:fs";
import * as path from "node:path";
import type { ServiceDescriptor } from "./descriptor";

/** Where the Protocol's own files are: its rule files, their tests, runbooks and metric catalog entries (it is not a service the stack runs). */
export const PROTOCOL_FOLDER = "stacks/protocol";

/** Who a rule file belongs to: the service whose folder holds it (its name), or the Protocol. */
export type RuleFileOwner = string;
export const PROTOCOL_OWNER: RuleFileOwner = "protocol";

/** A rule file as shipped (with its `[[ placeholders ]]`), uploaded beside the scraper's configuration. */
export interface RuleFile {
  readonly name: string;
  readonly content: string;
  /** The service whose folder holds it, or "protocol". */
  readonly owner: RuleFileOwner;
  /** Its folder's path in the repository (where its runbooks are too). */
  readonly folder: string;
}

/** A service's folder in the repository: `stacks/services/<hostname>` unless its descriptor says (a test's service). */
export function serviceFolder(service: ServiceDescriptor): string {
  return service.folder ?? `stacks/services/${service.hostname}`;
}

/**
 * Hand-written files that services upload as they are (rule files, dashboards, templates,
 * pipelines, scripts), each in the folder of the service it belongs to. Each file is read once, at synth.
 */
export interface StackAssets {
  /** One file of the service's folder, by its path there. */
  file(service: ServiceDescriptor, filePath: string): string;
  /** The files of a sub-folder of the service's folder whose names end in `suffix`: name → content, sorted by name. */
  folder(service: ServiceDescriptor, folder: string, suffix: string): Readonly<Record<string, string>>;
  /** Every rule file: each service's `rules/` and the Protocol's, sorted by name (names are unique: they share one folder in the container). */
  ruleFiles(catalog: readonly ServiceDescriptor[]): RuleFile[];
}

/** The assets of the repository at `root`. */
export function loadAssets(root: string): StackAssets {
  const cache = new Map<string, string>();
  const read = (file: string): string => {
    let content = cache.get(file);
    if (content === undefined) {
      content = fs.readFileSync(file, "utf8");
      cache.set(file, content);
    }
    return content;
  };
  const readFolder = (folder: string, suffix: string): Record<string, string> => {
    const directory = path.join(root, folder);
    if (!fs.existsSync(directory)) return {};
    const names = fs.readdirSync(directory).filter((f) => f.endsWith(suffix)).sort();
    return Object.fromEntries(names.map((name) => [name, read(path.join(directory, name))]));
  };
  return {
    file: (service, filePath) => read(path.join(root, serviceFolder(service), filePath)),
    folder: (service, folder, suffix) => readFolder(path.posix.join(serviceFolder(service), folder), suffix),
    ruleFiles(catalog) {
      const owners = [...catalog.map((service) => ({ owner: service.name, folder: serviceFolder(service) })), { owner: PROTOCOL_OWNER, folder: PROTOCOL_FOLDER }];
      const files = owners.flatMap(({ owner, folder }) => Object.entries(readFolder(`${folder}/rules`, ".rules.yml")).map(([name, content]) => ({ name, content, owner, folder })));
      const byName = new Map<string, RuleFile>();
      for (const file of files) {
        const other = byName.get(file.name);
        if (other) throw new Error(`${file.folder}/rules/${file.name}: ${other.folder}/rules has a file of that name too (rule files share one folder in Prometheus's container)`);
        byName.set(file.name, file);
      }
      return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
  };
}

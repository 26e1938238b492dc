import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Hand-written files in assets/ that services upload as they are (rule files, dashboards,
 * templates, pipelines, scripts). Each service asks for its own; each file is read once, at synth.
 */
export interface StackAssets {
  /** The files of assets/<folder> whose names end in `suffix`: name → content, sorted by name. */
  folder(folder: string, suffix: string): Readonly<Record<string, string>>;
  /** One file, by its path under assets/. */
  file(filePath: string): string;
}

export function loadAssets(assetsDir: string): StackAssets {
  const cache = new Map<string, string>();
  const read = (file: string): string => {
    let content = cache.get(file);
    if (content === undefined) {
      content = fs.readFileSync(file, "utf8");
      cache.set(file, content);
    }
    return content;
  };
  return {
    folder(folder, suffix) {
      const directory = path.join(assetsDir, folder);
      const names = fs.readdirSync(directory).filter((f) => f.endsWith(suffix)).sort();
      return Object.fromEntries(names.map((name) => [name, read(path.join(directory, name))]));
    },
    file: (filePath) => read(path.join(assetsDir, filePath)),
  };
}

import * as fs from "node:fs";
import * as path from "node:path";
import madge from "madge";
import { ROOT } from "../helpers/synth";
import { tempDir } from "../helpers/temp";

/**
 * The shape of stacks/: modules form layers (addresses → descriptor, environment, fleet →
 * service and container → each service's folder → the catalog → the stack), so any module can be
 * loaded and read alone. A cycle is what made modules load cdktf lazily with require() to work
 * around their order. Type-only imports are left out: they vanish from the compiled code, and a
 * descriptor's functions take an Environment while an environment carries its catalog of
 * descriptors — one model, in types that name each other.
 */
async function runtimeGraph(directory: string) {
  const graph = await madge(directory, {
    fileExtensions: ["ts"],
    tsConfig: path.join(ROOT, "tsconfig.json"),
    detectiveOptions: { ts: { skipTypeImports: true } },
  });
  // A module madge cannot resolve would hide its edges (and a cycle through them).
  expect(graph.warnings().skipped).toEqual([]);
  return graph;
}

async function runtimeCycles(directory: string): Promise<string[][]> {
  return (await runtimeGraph(directory)).circular();
}

/** The build side: what creates resources (and loads cdktf and the provider). */
const BUILD_SIDE = /(^|\/)(container|service|hardening|monitoring-stack|secret-variables|pki)\.ts$|(^|\/)build\.ts$/;

/** For each service's data module (descriptor.ts, config.ts), the build-side modules it loads, directly or not. */
function dataModulesLoadingBuilds(graph: Readonly<Record<string, readonly string[]>>): Record<string, string[]> {
  const closure = (start: string) => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      for (const next of graph[stack.pop() as string] ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        stack.push(next);
      }
    }
    return [...seen];
  };
  const found: Record<string, string[]> = {};
  for (const file of Object.keys(graph).filter((f) => /services\/[^/]+\/(descriptor|config)\.ts$/.test(f))) {
    const loaded = closure(file).filter((f) => BUILD_SIDE.test(f));
    if (loaded.length) found[file] = loaded;
  }
  return found;
}

function typeScriptFiles(directory: string): string[] {
  return fs.readdirSync(directory, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts")).map((file) => path.join(directory, file));
}

describe("stacks/ architecture", () => {
  it("has no import cycle", async () => {
    expect(await runtimeCycles(path.join(ROOT, "stacks"))).toEqual([]);
  });

  it("the check finds a cycle where there is one, and ignores type-only imports", async () => {
    const dir = tempDir("pm-cycle");
    fs.writeFileSync(path.join(dir, "a.ts"), 'import { b } from "./b";\nexport const a = () => b;\n');
    fs.writeFileSync(path.join(dir, "b.ts"), 'import { c } from "./c";\nexport const b = () => c;\n');
    fs.writeFileSync(path.join(dir, "c.ts"), 'import { a } from "./a";\nexport const c = () => a;\n');
    fs.writeFileSync(path.join(dir, "d.ts"), 'import type { E } from "./e";\nexport interface D { e?: E }\n');
    fs.writeFileSync(path.join(dir, "e.ts"), 'import type { D } from "./d";\nexport interface E { d?: D }\n');
    expect(await runtimeCycles(dir)).toEqual([["a.ts", "b.ts", "c.ts"]]);
  });

  it("keeps each service's data apart from every build: its descriptor.ts and config.ts load no build-side module", async () => {
    expect(dataModulesLoadingBuilds((await runtimeGraph(path.join(ROOT, "stacks"))).obj())).toEqual({});
    // The check sees one that does, through another module.
    const graph = { "services/a/descriptor.ts": ["services/b/index.ts"], "services/b/index.ts": ["services/b/build.ts"], "services/b/build.ts": ["service.ts"], "service.ts": [] };
    expect(dataModulesLoadingBuilds(graph)).toEqual({ "services/a/descriptor.ts": ["services/b/build.ts", "service.ts"] });
  });

  it("loads nothing lazily with require()", () => {
    const lazy = typeScriptFiles(path.join(ROOT, "stacks")).filter((file) => /\brequire\(/.test(fs.readFileSync(file, "utf8")));
    expect(lazy.map((file) => path.relative(ROOT, file))).toEqual([]);
  });
});

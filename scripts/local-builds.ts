import * as fs from "node:fs";
import * as path from "node:path";
import { hasLocalBuild, type LocalBuild, pinnedTag, type ServiceDescriptor } from "../stacks/descriptor";
import { SERVICES } from "../stacks/services";
import { STANDIN_LABEL } from "./preflight";

/**
 * What scripts/build-local-images.sh builds, read from the catalog: each service's local build
 * (its descriptor's `localBuild` recipe, user and ports) and the stand-ins of the testing wing
 * (testing/standin/layouts.json, with the user and ports of the service they stand in for). The
 * script reads them all at once (`shell`) and builds what it is told; nothing about an image is
 * restated there.
 *
 *   node dist/scripts/local-builds.js list    program NAME / standin NAME, one per line (for people)
 *   node dist/scripts/local-builds.js shell   every recipe, for `eval`: LOCAL_BUILDS (the list) and a
 *                                             function _lb_<name> per image that sets its LB_*
 */

const STANDINS_FILE = "testing/standin/layouts.json";

/** A program image's recipe, as the builder takes it. */
export interface ProgramRecipe {
  readonly kind: "program";
  /** The image and build name: the service's hostname (protocol-monitoring-local/<name>). */
  readonly name: string;
  readonly service: string;
  /** The release: the tag of the descriptor's image. */
  readonly tag: string;
  readonly module: string;
  readonly moduleVersion: string;
  /** Main packages under the module ("" for its root). */
  readonly packages: readonly string[];
  readonly alsoRequires: readonly string[];
  readonly main: string;
  readonly versionPackage: string;
  readonly uiPlaceholder: string;
  /** Built binary → path in the image. */
  readonly binaries: readonly (readonly [string, string])[];
  /** Module file → [path in the image, mode]. */
  readonly files: readonly (readonly [string, string, string])[];
  readonly dirs: readonly string[];
  readonly owned: readonly string[];
  /** The image's user (uid:gid), or "" for root. */
  readonly user: string;
  /** docker import --change lines: USER, EXPOSE, VOLUME, WORKDIR, ENTRYPOINT, CMD. */
  readonly changes: readonly string[];
}

/** A stand-in image's recipe. */
export interface StandinRecipe {
  readonly kind: "standin";
  readonly name: string;
  readonly uid: string;
  readonly gid: string;
  readonly home: string;
  readonly dirs: readonly string[];
  readonly changes: readonly string[];
}

/** The Go module version of a release tag: Prometheus 3.Y.Z is published as module v0.3YY.Z (its go.mod has no /v3). */
export function moduleVersion(build: LocalBuild, tag: string): string {
  if (build.moduleVersion !== "prometheus-v0") return tag;
  const match = /^v(\d+)\.(\d+)\.(\d+)$/.exec(tag);
  if (!match || Number(match[1]) < 3) throw new Error(`${build.goModule}: no Go module version known for tag ${tag}`);
  return `v0.${Number(match[1]) * 100 + Number(match[2])}.${match[3]}`;
}

/** The ports the image exposes: the descriptor's (a UDP one as <port>/udp), its health port too. */
function exposed(service: ServiceDescriptor): string {
  const ports = [String(service.port), ...(service.health.port && service.health.port !== service.port ? [String(service.health.port)] : []), ...(service.extraPorts ?? []).map((p) => `${p.internal}/${p.protocol}`)];
  return `EXPOSE ${ports.join(" ")}`;
}

export function programRecipe(service: ServiceDescriptor): ProgramRecipe {
  if (!hasLocalBuild(service)) throw new Error(`${service.name} has no local build: ${"none" in service.localBuild ? service.localBuild.none : ""}`);
  const build = service.localBuild;
  const tag = pinnedTag(service);
  const json = (list: readonly string[]) => JSON.stringify(list);
  return {
    kind: "program",
    name: service.hostname,
    service: service.name,
    tag,
    module: build.goModule,
    moduleVersion: moduleVersion(build, tag),
    packages: build.packages ?? [""],
    alsoRequires: build.alsoRequires ?? [],
    main: build.main ?? "",
    versionPackage: build.versionPackage ?? "",
    uiPlaceholder: build.uiPlaceholder ?? "",
    binaries: Object.entries(build.binaries),
    files: Object.entries(build.files ?? {}).map(([from, to]) => [from, to, from.endsWith(".sh") ? "0755" : "0644"] as const),
    dirs: build.dirs ?? [],
    owned: build.owned ?? [],
    user: service.user ?? "",
    changes: [
      ...(service.user ? [`USER ${service.user}`] : []),
      exposed(service),
      ...(build.volume ? [`VOLUME ${json([build.volume])}`] : []),
      ...(build.workdir ? [`WORKDIR ${build.workdir}`] : []),
      `ENTRYPOINT ${json(build.entrypoint)}`,
      ...(build.cmd ? [`CMD ${json(build.cmd)}`] : []),
    ],
  };
}

type StandinLayouts = Readonly<Record<string, { readonly home: string; readonly dirs: readonly string[] }>>;

function standinLayouts(root: string): StandinLayouts {
  const parsed = JSON.parse(fs.readFileSync(path.join(root, STANDINS_FILE), "utf8")) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(parsed).filter(([role]) => !role.startsWith("//"))) as StandinLayouts;
}

export function standinRecipe(service: ServiceDescriptor, layouts: StandinLayouts): StandinRecipe {
  const layout = layouts[service.hostname];
  if (!layout) throw new Error(`${service.hostname}: no stand-in in ${STANDINS_FILE}`);
  if (!service.user) throw new Error(`${service.name}: a stand-in runs as its descriptor's user, which it has not`);
  const [uid, gid] = service.user.split(":");
  return {
    kind: "standin",
    name: service.hostname,
    uid,
    gid,
    home: layout.home,
    dirs: layout.dirs,
    changes: [`USER ${service.user}`, exposed(service), `WORKDIR ${layout.home}`, `ENTRYPOINT ["/bin/standin","${service.hostname}"]`, `LABEL ${STANDIN_LABEL}=true`],
  };
}

/** Every image the builder knows, in build order: the programs, then the stand-ins. */
export function localBuilds(catalog: readonly ServiceDescriptor[], root: string): (ProgramRecipe | StandinRecipe)[] {
  const layouts = standinLayouts(root);
  const unknown = Object.keys(layouts).filter((role) => !catalog.some((service) => service.hostname === role));
  if (unknown.length) throw new Error(`${STANDINS_FILE}: ${unknown.join(", ")} stand(s) in for no service of the catalog`);
  return [
    ...catalog.filter(hasLocalBuild).map(programRecipe),
    ...catalog.filter((service) => !hasLocalBuild(service) && service.hostname in layouts).map((service) => standinRecipe(service, layouts)),
  ];
}

/** A bash word: single-quoted. */
const word = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
const array = (values: readonly string[]) => `(${values.map(word).join(" ")})`;

/** The recipe as bash declarations (LB_*), for `eval`. */
export function shellDeclarations(recipe: ProgramRecipe | StandinRecipe): string {
  const scalars = Object.entries(recipe).filter(([, value]) => typeof value === "string") as [string, string][];
  const lines = scalars.map(([key, value]) => `LB_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}=${word(value)}`);
  const lists: Record<string, readonly string[]> =
    recipe.kind === "program"
      ? {
          PACKAGES: recipe.packages,
          ALSO_REQUIRES: recipe.alsoRequires,
          BINARIES: recipe.binaries.map(([from, to]) => `${from}:${to}`),
          FILES: recipe.files.map(([from, to, mode]) => `${from}:${to}:${mode}`),
          DIRS: recipe.dirs,
          OWNED: recipe.owned,
          CHANGES: recipe.changes,
        }
      : { DIRS: recipe.dirs, CHANGES: recipe.changes };
  return [...lines, ...Object.entries(lists).map(([key, values]) => `LB_${key}=${array(values)}`)].join("\n");
}

/** A bash function name for an image: _lb_<name>, dashes as underscores. */
export function recipeFunction(name: string): string {
  return `_lb_${name.replace(/-/g, "_")}`;
}

/** Every recipe at once: LOCAL_BUILDS and one function per image (see the header). */
export function shellAll(builds: readonly (ProgramRecipe | StandinRecipe)[]): string {
  const list = builds.map((build) => `${build.kind} ${build.name}`).join("\n");
  const functions = builds.map((build) => `${recipeFunction(build.name)}() {\n${shellDeclarations(build)}\n}`);
  return [`LOCAL_BUILDS=${word(list)}`, ...functions].join("\n");
}

function main(args: readonly string[]): number {
  // Compiled to dist/scripts/: the repository is two levels up.
  const builds = localBuilds(SERVICES, path.resolve(__dirname, "../.."));
  if (args[0] === "list" && args.length === 1) {
    for (const build of builds) console.log(`${build.kind} ${build.name}`);
    return 0;
  }
  if (args[0] === "shell" && args.length === 1) {
    console.log(shellAll(builds));
    return 0;
  }
  console.error("usage: node dist/scripts/local-builds.js list | shell");
  return 2;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

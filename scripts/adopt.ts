import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ENVIRONMENT_LABEL } from "../stacks/catalog";
import { loadEnvironmentFile, type Environment } from "../stacks/environment";

/**
 * Recovery from an interrupted apply. A deploy killed midway (CI timeout, OOM, a lost machine)
 * leaves Docker objects that the state never recorded; the next plan would try to create them
 * again and fail on their names. This finds the objects that carry the environment's label but
 * are missing from its state and writes `import` blocks for them (adopt.tf.json beside the
 * synthesized stack), so the engine's own plan shows each adoption before it happens. Data
 * volumes are always adopted, never deleted; containers and networks are adopted, then updated
 * or replaced as the plan requires. Objects labelled with another environment are never seen.
 *
 *   node dist/scripts/adopt.js ENV STACK_DIR     prints one line per adopted object
 *   node dist/scripts/adopt.js --remove-leftovers ENV   after a destroy: removes (and prints) what
 *                                                  of the environment is still on Docker
 */

export const ADOPT_FILE = "adopt.tf.json";
const ADOPTABLE = ["docker_container", "docker_network", "docker_volume"] as const;
type Adoptable = (typeof ADOPTABLE)[number];

export interface DockerObject {
  readonly type: Adoptable;
  readonly name: string;
  /** What the provider imports by: the ID of a container or network, a volume's name. */
  readonly importId: string;
}

export interface Adoption {
  readonly to: string;
  readonly id: string;
  readonly name: string;
}

type StackJson = { resource?: Partial<Record<string, Record<string, { name?: string }>>> };

/** The objects to adopt: labelled on Docker, declared in the stack, absent from the state. */
export function adoptions(stack: StackJson, inState: ReadonlySet<string>, objects: readonly DockerObject[]): Adoption[] {
  const byName = new Map<string, string>();
  for (const type of ADOPTABLE) {
    for (const [id, resource] of Object.entries(stack.resource?.[type] ?? {})) {
      if (resource.name) byName.set(`${type} ${resource.name}`, `${type}.${id}`);
    }
  }
  return objects
    .map((object) => ({ object, to: byName.get(`${object.type} ${object.name}`) }))
    .filter((entry): entry is { object: DockerObject; to: string } => entry.to !== undefined && !inState.has(entry.to))
    .map(({ object, to }) => ({ to, id: object.importId, name: object.name }))
    .sort((a, b) => a.to.localeCompare(b.to));
}

function dockerEnv(env: Environment): NodeJS.ProcessEnv {
  const variables: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: env.docker.host };
  if (env.docker.certPath) Object.assign(variables, { DOCKER_CERT_PATH: env.docker.certPath, DOCKER_TLS_VERIFY: "1" });
  return variables;
}

function docker(env: Environment, args: string[]): string[] {
  const result = spawnSync("docker", args, { env: dockerEnv(env), encoding: "utf8" });
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")}: ${result.stderr.trim()}`);
  return result.stdout.split("\n").filter(Boolean);
}

/** Every container, network and volume on the environment's Docker host that carries its label. */
export function labelledObjects(env: Environment): DockerObject[] {
  const filter = ["--filter", `label=${ENVIRONMENT_LABEL}=${env.name}`];
  const pairs = (args: string[]) => docker(env, [...args, ...filter]).map((line) => line.split(" ") as [string, string]);
  return [
    ...pairs(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"]).map(([id, name]) => ({ type: "docker_container" as const, name, importId: id })),
    ...pairs(["network", "ls", "--no-trunc", "--format", "{{.ID}} {{.Name}}"]).map(([id, name]) => ({ type: "docker_network" as const, name, importId: id })),
    ...docker(env, ["volume", "ls", "--format", "{{.Name}}", ...filter]).map((name) => ({ type: "docker_volume" as const, name, importId: name })),
  ];
}

/** Resource addresses the state records; none when there is no state yet. */
function stateAddresses(stackDir: string): Set<string> {
  const engine = process.env.TERRAFORM_BINARY_NAME ?? "terraform";
  const listed = spawnSync(engine, [`-chdir=${stackDir}`, "state", "list"], { encoding: "utf8" });
  if (listed.status !== 0) {
    if (/No state file was found/i.test(listed.stderr)) return new Set();
    throw new Error(`${engine} state list: ${listed.stderr.trim()}`);
  }
  return new Set(listed.stdout.split("\n").filter(Boolean));
}

function main(args: string[]): number {
  const root = path.resolve(__dirname, "../..");
  const load = (name: string) => loadEnvironmentFile(path.join(process.env.PM_ENVIRONMENTS_DIR ?? path.join(root, "environments"), `${name}.yaml`));
  if (args[0] === "--remove-leftovers") {
    const env = load(args[1]);
    const objects = labelledObjects(env);
    // Containers before the network they are attached to and the volumes they mount.
    for (const [type, remove] of [["docker_container", ["rm", "-f"]], ["docker_network", ["network", "rm"]], ["docker_volume", ["volume", "rm"]]] as const) {
      const names = objects.filter((o) => o.type === type).map((o) => o.name);
      if (!names.length) continue;
      docker(env, [...remove, ...names]);
      for (const n of names) console.log(`${type} ${n}`);
    }
    return 0;
  }
  const [name, stackDir] = args;
  const file = path.join(stackDir, ADOPT_FILE);
  fs.rmSync(file, { force: true });
  const stack = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as StackJson;
  const adopted = adoptions(stack, stateAddresses(stackDir), labelledObjects(load(name)));
  if (!adopted.length) return 0;
  fs.writeFileSync(file, JSON.stringify({ import: adopted.map(({ to, id }) => ({ to, id })) }, null, 2));
  for (const a of adopted) console.log(`${a.name} (${a.to})`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

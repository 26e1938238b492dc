import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ENVIRONMENT_LABEL } from "../stacks/labels";
import type { Environment } from "../stacks/environment";
import { dockerEnv, type DockerEndpoint } from "./docker-host";
import { engineBinary } from "./lib/engine";

/**
 * Recovery from an interrupted apply. A deploy killed midway (CI timeout, OOM, a lost machine)
 * leaves Docker objects that the state never recorded; the next plan would try to create them
 * again and fail on their names. This finds the objects that carry the environment's label but
 * are missing from its state and writes `import` blocks for them (adopt.tf.json beside the
 * synthesized stack), so the engine's own plan shows each adoption before it happens. Data
 * volumes are always adopted, never deleted; containers and networks are adopted, then updated
 * or replaced as the plan requires. Objects labelled with another environment are never seen.
 *
 * The plan just made (`show -json plan.bin`) says what the state records.
 * (A destroy's own sweep of what no state records is scripts/sweep.ts.)
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

/** What the state records: resource address → the ID of the object it points at. */
export type Recorded = ReadonlyMap<string, string>;

/**
 * The objects to adopt: labelled on Docker, declared in the stack, not recorded by the state.
 * `forget` lists records whose object is gone and whose name a newer object carries (a run
 * killed while replacing it): dropping such a record is what the next refresh would do anyway,
 * and it lets the newer object be adopted in its place.
 */
export function adoptions(stack: StackJson, recorded: Recorded, objects: readonly DockerObject[]): { adopt: Adoption[]; forget: string[] } {
  const byName = new Map<string, string>();
  for (const type of ADOPTABLE) {
    for (const [id, resource] of Object.entries(stack.resource?.[type] ?? {})) {
      if (resource.name) byName.set(`${type} ${resource.name}`, `${type}.${id}`);
    }
  }
  const onDocker = new Set(objects.map((o) => o.importId));
  const adopt: Adoption[] = [];
  const forget: string[] = [];
  for (const object of objects) {
    const to = byName.get(`${object.type} ${object.name}`);
    if (!to) continue;
    const recordedId = recorded.get(to);
    if (recordedId === object.importId) continue;
    if (recordedId !== undefined) {
      if (onDocker.has(recordedId)) continue;
      forget.push(to);
    }
    adopt.push({ to, id: object.importId, name: object.name });
  }
  return { adopt: adopt.sort((a, b) => a.to.localeCompare(b.to)), forget: forget.sort() };
}

/** The docker CLI on a Docker host (an environment's own, or a fleet host's): its output lines; throws with its error. */
export function runDocker(endpoint: Environment | DockerEndpoint, args: string[]): string[] {
  const result = spawnSync("docker", args, { env: dockerEnv(endpoint), encoding: "utf8" });
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")}: ${result.stderr.trim()}`);
  return result.stdout.split("\n").filter(Boolean);
}

/** Every container, network and volume on a Docker host that carries the environment's label. */
export function labelledObjects(envName: string, endpoint: Environment | DockerEndpoint): DockerObject[] {
  const filter = ["--filter", `label=${ENVIRONMENT_LABEL}=${envName}`];
  const pairs = (args: string[]) => runDocker(endpoint, [...args, ...filter]).map((line) => line.split(" ") as [string, string]);
  return [
    ...pairs(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"]).map(([id, name]) => ({ type: "docker_container" as const, name, importId: id })),
    ...pairs(["network", "ls", "--no-trunc", "--format", "{{.ID}} {{.Name}}"]).map(([id, name]) => ({ type: "docker_network" as const, name, importId: id })),
    ...runDocker(endpoint, ["volume", "ls", "--format", "{{.Name}}", ...filter]).map((name) => ({ type: "docker_volume" as const, name, importId: name })),
  ];
}

type PlannedResource = { address: string; type: string; values?: { id?: string } | null };
/** The parts of a plan (`show -json plan.bin`) that say what the state records. */
export interface RecordingPlan {
  prior_state?: { values?: { root_module?: { resources?: PlannedResource[] } } };
  resource_drift?: { address: string; type: string; change: { actions: string[]; before?: { id?: string } | null } }[];
}

/**
 * The state's records of the adoptable resources, read from the plan that was just made (no
 * second engine run): what the refreshed state holds, plus the records the refresh found gone
 * (drift "delete"), which the stored state still has.
 */
export function recordedObjects(plan: RecordingPlan): Map<string, string> {
  const adoptable = (type: string) => (ADOPTABLE as readonly string[]).includes(type);
  const recorded = new Map<string, string>();
  for (const r of plan.prior_state?.values?.root_module?.resources ?? []) {
    if (adoptable(r.type) && r.values?.id) recorded.set(r.address, r.values.id);
  }
  for (const d of plan.resource_drift ?? []) {
    if (adoptable(d.type) && d.change.actions.includes("delete") && d.change.before?.id) recorded.set(d.address, d.change.before.id);
  }
  return recorded;
}

/** The records (addresses) whose object is not among the objects found on Docker. */
export function goneRecords(recorded: Recorded, objects: readonly DockerObject[]): string[] {
  const onDocker = new Set(objects.map((o) => o.importId));
  return [...recorded].filter(([, id]) => !onDocker.has(id)).map(([address]) => address);
}

/** The records of `plan` whose object is no longer on the environment's Docker host (a fleet host's never is). */
export function goneFromDocker(env: Environment, plan: RecordingPlan): string[] {
  return goneRecords(recordedObjects(plan), labelledObjects(env.name, env));
}

/**
 * Writes the import blocks (adopt.tf.json in `stackDir`) for what an interrupted run left on Docker
 * and drops the records of containers that are gone; returns one line per adopted object.
 */
export function adoptLeftovers(env: Environment, stackDir: string, plan: RecordingPlan): string[] {
  const file = path.join(stackDir, ADOPT_FILE);
  fs.rmSync(file, { force: true });
  const stack = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as StackJson;
  const { adopt, forget } = adoptions(stack, recordedObjects(plan), labelledObjects(env.name, env));
  for (const address of forget) {
    const lockTimeout = `-lock-timeout=${process.env.PM_LOCK_TIMEOUT ?? "60s"}`;
    const removed = spawnSync(engineBinary(), [`-chdir=${stackDir}`, "state", "rm", lockTimeout, address], { encoding: "utf8" });
    if (removed.status !== 0) throw new Error(`${removed.stderr}\ncould not drop the stale record ${address} (errors above)`);
  }
  if (!adopt.length) return [];
  fs.writeFileSync(file, JSON.stringify({ import: adopt.map(({ to, id }) => ({ to, id })) }, null, 2));
  return adopt.map((a) => `${a.name} (${a.to}${forget.includes(a.to) ? ", in place of a record of a container that is gone" : ""})`);
}

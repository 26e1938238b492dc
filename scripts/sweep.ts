import { STACK_HOST_NAME } from "../stacks/fleet";
import type { Environment } from "../stacks/environment";
import { labelledObjects, runDocker, type DockerObject } from "./adopt";
import type { DockerEndpoint } from "./docker-host";

/**
 * What a destroy removes besides its plan: every Docker object labelled with the environment, on
 * the stack's Docker host and on each fleet host, whether its state records it or not (a state
 * that was lost, a run that was killed). Objects of other environments are never seen. Data
 * volumes stay when the environment protects its data (`protectData`), named in the last line.
 * A destroy asks it three times: before the question, before the apply and after it.
 */

/** A labelled object and the Docker host it is on. */
export interface PlacedObject extends DockerObject {
  /** The host's name: the fleet's `hosts[].name`, or the stack's own (docker.name, default "stack"). */
  readonly host: string;
}

interface Host {
  readonly name: string;
  readonly endpoint: Environment | DockerEndpoint;
}

/** The environment's Docker hosts: its own, then its fleet's. */
function hostsOf(env: Environment): Host[] {
  return [{ name: env.docker.name ?? STACK_HOST_NAME, endpoint: env }, ...env.hosts.map((host) => ({ name: host.name, endpoint: host.docker }))];
}

/** Each kind of object: its resource type, its words, and the docker command that removes it (in removal order: containers hold the network and the volumes). */
const KINDS = [
  ["docker_container", "container", "containers", ["rm", "-f"]],
  ["docker_network", "network", "networks", ["network", "rm"]],
  ["docker_volume", "volume", "volumes", ["volume", "rm"]],
] as const;

/** Every object labelled with the environment, on every host of it: host by host, containers, networks, volumes, each by name. */
export function placedObjects(env: Environment): PlacedObject[] {
  const order = (type: string) => KINDS.findIndex(([t]) => t === type);
  return hostsOf(env).flatMap((host) => {
    let objects: DockerObject[];
    try {
      objects = labelledObjects(env.name, host.endpoint);
    } catch (error) {
      const where = "docker" in host.endpoint ? host.endpoint.docker.host : host.endpoint.host;
      throw new Error(`the Docker host ${host.name} (${where}) could not be asked what of ${env.name} it holds: ${(error as Error).message}`);
    }
    return objects.sort((a, b) => order(a.type) - order(b.type) || a.name.localeCompare(b.name)).map((object) => ({ ...object, host: host.name }));
  });
}

type PlannedChange = { type: string; change: { actions: string[]; before?: { id?: string } | null } };
/** The IDs of the objects a (destroy) plan deletes. */
export function plannedDeletions(plan: { resource_changes?: PlannedChange[] }): Set<string> {
  return new Set(
    (plan.resource_changes ?? [])
      .filter((rc) => rc.change.actions.includes("delete") && rc.change.before?.id)
      .map((rc) => rc.change.before?.id as string),
  );
}

/** Volumes a destroy keeps: all of them when the environment protects its data. */
export function kept(env: Pick<Environment, "protectData">, objects: readonly PlacedObject[]): PlacedObject[] {
  return env.protectData ? objects.filter((o) => o.type === "docker_volume") : [];
}

/** What the plan leaves on Docker and the destroy removes itself: what the plan does not delete, protected volumes aside. */
export function leftByPlan(env: Pick<Environment, "protectData">, deleted: ReadonlySet<string>, objects: readonly PlacedObject[]): PlacedObject[] {
  const keep = new Set(kept(env, objects));
  return objects.filter((o) => !deleted.has(o.importId) && !keep.has(o));
}


const hostNames = (objects: readonly PlacedObject[]) => new Set(objects.map((o) => o.host));

/** "3 containers, 1 network" (types in removal order; nothing when empty). */
function counted(objects: readonly PlacedObject[]): string {
  return KINDS.map(([type, one, many]) => [objects.filter((o) => o.type === type).length, one, many] as const)
    .filter(([n]) => n > 0)
    .map(([n, one, many]) => `${n} ${n === 1 ? one : many}`)
    .join(", ");
}

/** One line per object: "container e2e-x-prometheus", with its host when the environment has several. */
export function describe(objects: readonly PlacedObject[], manyHosts: boolean): string[] {
  const word = (type: string) => KINDS.find(([t]) => t === type)?.[1] ?? type;
  return objects.map((o) => `${word(o.type)} ${o.name}${manyHosts ? ` (on ${o.host})` : ""}`);
}

/**
 * The destroy's last line: what went (in `before` and not in `after`) and what is left, with the
 * command that removes kept volumes.
 */
export function outcome(envName: string, before: readonly PlacedObject[], after: readonly PlacedObject[], protectData: boolean): string {
  const still = new Set(after.map((o) => `${o.host} ${o.importId}`));
  const removed = before.filter((o) => !still.has(`${o.host} ${o.importId}`));
  if (!after.length) return removed.length ? `removed ${counted(removed)}; nothing of ${envName} is left on Docker` : `nothing of ${envName} was on Docker`;
  const went = removed.length ? `removed ${counted(removed)}` : "removed nothing";
  const manyHosts = hostNames(after).size > 1;
  const left = describe(after, manyHosts).join(", ");
  const volumes = after.filter((o) => o.type === "docker_volume");
  const why =
    protectData && volumes.length === after.length
      ? ` (protectData: the data stays; \`docker volume rm ${volumes.map((v) => v.name).join(" ")}\` removes it${manyHosts ? " on each host" : ""}, or set protectData: false and destroy again)`
      : " (could not be removed: see the errors above)";
  return `${went}; left on Docker: ${left}${why}`;
}

/** Removes objects, containers first (they hold the network and the volumes), host by host; the objects it could not remove. */
function remove(env: Environment, objects: readonly PlacedObject[]): string[] {
  const failures: string[] = [];
  for (const host of hostsOf(env)) {
    for (const [type, , , command] of KINDS) {
      const ids = objects.filter((o) => o.host === host.name && o.type === type).map((o) => o.importId);
      if (!ids.length) continue;
      try {
        runDocker(host.endpoint, [...command, ...ids]);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  }
  return failures;
}

/**
 * Before the question: what is on Docker now, and what of it the plan does not delete (the destroy
 * removes it too), one line each.
 */
export function unplannedObjects(env: Environment, plan: { resource_changes?: PlannedChange[] }): { snapshot: PlacedObject[]; extra: PlacedObject[]; lines: string[] } {
  const snapshot = placedObjects(env);
  const extra = leftByPlan(env, plannedDeletions(plan), snapshot);
  return { snapshot, extra, lines: describe(extra, hostNames(snapshot).size > 1) };
}

/** Before the apply: the containers the plan does not delete go (they would keep the network and volumes in use). */
export function removeUnplannedContainers(env: Environment, plan: { resource_changes?: PlannedChange[] }): void {
  const containers = unplannedObjects(env, plan).extra.filter((o) => o.type === "docker_container");
  const failures = remove(env, containers);
  if (failures.length) throw new Error(failures.join("\n"));
}

/**
 * After the apply: removes what is left (protected volumes aside) and returns what went and what is
 * left, against `snapshot`; throws with every failure and that outcome when something stays.
 */
export function finishDestroy(env: Environment, snapshot: readonly PlacedObject[]): string {
  const failures = remove(env, leftByPlan(env, new Set(), placedObjects(env)));
  const said = outcome(env.name, snapshot, placedObjects(env), env.protectData);
  if (failures.length) throw new Error(`${failures.join("\n")}\n${said}`);
  return said;
}

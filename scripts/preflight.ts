import { spawnSync } from "node:child_process";
import type { Catalog, Environment } from "../stacks/environment";
import { hasLocalBuild, LOCAL_IMAGE_REPOSITORY, pinnedTag, runningServices } from "../stacks/descriptor";
import { SERVICES } from "../stacks/services";
import { requiredSecrets, SECRETS } from "../stacks/secrets";
import { dockerEnv, fleetProblems, hostProblem, runAsync } from "./docker-host";
import { CommandFailure } from "./lib/failure";

/**
 * What a deploy needs, checked in seconds before anything slow (building OpenTofu, the provider
 * or images, planning): the environment file is valid, the Docker host and every fleet host
 * answer, every image is on the Docker host or can be pulled there, and every secret is set. All
 * problems are reported at once. A destroy or diff checks the file and the secrets only (no images).
 */

/** Label of the stand-in images: test doubles, never deployed by a user command. */
export const STANDIN_LABEL = "org.protocol-monitoring.standin";
/** The environment a bare `npm run deploy` uses when the upstream images cannot be had here. */
export const OFFLINE_DEFAULT = "local";
export const DEFAULT_ENVIRONMENT = "dev";

export type ImageState = "present" | "pulled" | "standin" | { readonly missing: string };

/** What preflight asks the environment's Docker host. */
export interface DockerHost {
  /** Why the host does not answer, or nothing. */
  problem(): Promise<string | undefined>;
  /** Why each fleet host (hosts:) that does not answer does not, naming it. */
  fleetProblems?(): Promise<string[]>;
  /** What the host knows about an image; it pulls one it lacks. */
  image(reference: string): Promise<ImageState>;
}

export interface Preflight {
  /** Local images to build (names for scripts/build-local-images.sh), in a stable order. */
  readonly localBuilds: string[];
  readonly problems: string[];
}

/** Distinct image references of the services the environment runs. */
export function imagesOf(env: Environment): string[] {
  return [...new Set(runningServices(env).map((service) => env.images[service.name]))].sort();
}

/**
 * `protocol-monitoring-local/<hostname>:<tag>` is built here from the upstream release its
 * descriptor pins (a service with a `localBuild` recipe), so its tag must be that release's tag.
 * Returns the build name, a problem, or nothing for any other image (stand-ins included: they are
 * known by their label).
 */
export function localBuild(reference: string, catalog: Catalog = SERVICES): { name: string } | { problem: string } | undefined {
  const match = new RegExp(`^${LOCAL_IMAGE_REPOSITORY}/([a-z0-9-]+):(.+)$`).exec(reference);
  const service = match && catalog.find((s) => s.hostname === match[1] && hasLocalBuild(s));
  if (!match || !service) return undefined;
  const [, name, tag] = match;
  const pinned = pinnedTag(service);
  if (tag !== pinned) return { problem: `${reference}: the local build of ${name} is tagged ${pinned}, the version the catalog pins` };
  return { name };
}

export interface PreflightOptions {
  /** The process environment, where TF_VAR_* secrets are looked up. */
  readonly variables: NodeJS.ProcessEnv;
  /** Tests deploy stand-ins on purpose (PM_ALLOW_STANDINS=1); users never do. */
  readonly allowStandins?: boolean;
  /** Destroy and plan need no image. */
  readonly images?: boolean;
}

export async function preflight(env: Environment, host: DockerHost, { variables, allowStandins = false, images = true }: PreflightOptions): Promise<Preflight> {
  const problems: string[] = [];
  const localBuilds: string[] = [];
  const remote: string[] = [];
  // A host that does not answer is named once, instead of a failure per image (or a provider stack trace).
  // Every fleet host too (one plan deploys to all of them), asked beside the stack's.
  const [unreachable, fleet] = await Promise.all([host.problem(), host.fleetProblems?.() ?? []]);
  if (unreachable) problems.push(unreachable);
  problems.push(...fleet);
  for (const reference of images && !unreachable ? imagesOf(env) : []) {
    const local = localBuild(reference, env.catalog);
    if (local && "problem" in local) problems.push(local.problem);
    else if (local) localBuilds.push(local.name);
    else remote.push(reference);
  }
  // Pulls run side by side: on a machine without a registry each fails fast, all are named.
  const states = await Promise.all(remote.map(async (reference) => [reference, await host.image(reference)] as const));
  const byReason = new Map<string, string[]>();
  for (const [reference, state] of states) {
    if (typeof state === "object") byReason.set(state.missing, [...(byReason.get(state.missing) ?? []), reference]);
  }
  for (const [reason, references] of byReason) {
    problems.push(`not on ${env.docker.host} and cannot be pulled (${reason}):\n      ${references.join("\n      ")}`);
  }
  if (byReason.size) {
    problems.push(
      env.name === OFFLINE_DEFAULT
        ? "without a registry every image must be a local build (see environments/local.yaml)"
        : `without a registry, run \`npm run deploy\` with no environment: it deploys the offline default "${OFFLINE_DEFAULT}", built on this machine`,
    );
  }
  for (const [reference] of states.filter(([, state]) => state === "standin" && !allowStandins)) {
    problems.push(`image ${reference} is a stand-in (a test double), not the real program: it is never deployed by a user command`);
  }
  const missingSecrets = requiredSecrets(env).filter((name) => !variables[`TF_VAR_${name}`]);
  for (const name of missingSecrets) problems.push(`secret TF_VAR_${name} is not set (${SECRETS[name].description})`);
  if (env.state.backend === "pg" && !variables.PG_CONN_STR) problems.push("state.backend is pg: set PG_CONN_STR to the PostgreSQL connection string (postgres://…)");
  return { localBuilds, problems };
}

/** The message of a failed preflight: every problem, one per line. */
export function preflightFailure(env: Environment, problems: readonly string[]): CommandFailure {
  return new CommandFailure(`preflight: ${env.name} cannot be deployed (${env.source}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
}

/** The default environment: dev when its images can be had here, else the offline default. */
export async function chooseDefault(dev: Environment, host: DockerHost): Promise<{ name: string; reason?: string }> {
  const remote = imagesOf(dev).filter((reference) => !localBuild(reference, dev.catalog));
  const states = await Promise.all(remote.map((reference) => host.image(reference)));
  const missing = remote.filter((_, index) => typeof states[index] === "object");
  if (!missing.length) return { name: dev.name };
  return { name: OFFLINE_DEFAULT, reason: `the images of "${dev.name}" cannot be pulled here (${missing.length} missing, e.g. ${missing[0]})` };
}

/** The environment's Docker host, asked through the docker CLI; absent images are pulled. */
export function dockerHost(env: Environment, pullTimeoutSeconds = 120): DockerHost {
  const variables = dockerEnv(env);
  return {
    problem: () => hostProblem(env),
    fleetProblems: () => fleetProblems(env),
    image: async (reference) => {
      const inspect = spawnSync("docker", ["image", "inspect", "--format", `{{ index .Config.Labels "${STANDIN_LABEL}" }}`, reference], {
        env: variables,
        encoding: "utf8",
        timeout: 30_000,
      });
      if (inspect.status === 0) return inspect.stdout.trim() === "true" ? "standin" : "present";
      const pulled = await runAsync("docker", ["pull", "--quiet", reference], variables, pullTimeoutSeconds * 1000);
      if (pulled.code === 0) return "pulled";
      const reason = pulled.output.trim().split("\n").pop() || `docker pull exited ${pulled.code}`;
      return { missing: reason.replace(/^Error response from daemon: /, "") };
    },
  };
}

import type { ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";
import type { Environment } from "./environment";
import type { SecretName } from "./secrets";
import type { ServiceContext } from "./service";

/** Images this project builds on the machine itself (scripts/build-local-images.sh). */
export const LOCAL_IMAGE_REPOSITORY = "protocol-monitoring-local";

/**
 * A service descriptor: everything the project knows about one service, in its folder
 * (stacks/services/<name>/), from which the stack, the environment schema, the scrape
 * configuration, the health check, the secrets, preflight and the deploy report are derived. Add a service by adding a
 * descriptor to the list in stacks/services/index.ts; nothing else names it.
 */
export interface ServiceDescriptor {
  /** The key in environment files: `services: [...]`, `ports.<name>`, `images.<name>`, `memoryMb.<name>`. */
  readonly name: string;
  /** For people: the deploy report, messages. */
  readonly title: string;
  /** Its name on the private network; the container is `<environment>-<hostname>`, a local build `protocol-monitoring-local/<hostname>`. */
  readonly hostname: string;
  /** The pinned upstream image (a tag or digest; an environment may override it). */
  readonly image: string;
  /** How scripts/build-local-images.sh builds the pinned release on this machine, or why there is no such build. */
  readonly localBuild: LocalBuild | { readonly none: string };
  /** The port its main endpoint listens on inside the container. */
  readonly port: number;
  /** Published on the environment's bind address at this host port unless `ports.<name>` says otherwise; unset: never published. */
  readonly hostPort?: number;
  /** More container ports published on the same host port number (a UDP input beside a TCP one). */
  readonly extraPorts?: readonly ExtraPort[];
  /** Where its named data volume `<environment>-<hostname>-data` is mounted, if it keeps data. */
  readonly dataPath?: string;
  /** Memory limit in MiB unless `memoryMb.<name>` says otherwise. */
  readonly memoryMb: number;
  /** The user it runs as (uid:gid); never root unless `runsAsRoot` says why. */
  readonly user?: string;
  /** Why it must run as root: the hardening aspect refuses root without a reason. */
  readonly runsAsRoot?: string;
  /** Every environment runs it. */
  readonly required?: boolean;
  /** Services that must run wherever it runs; it starts once what their builds call ready is (possibly nothing). */
  readonly needs?: readonly string[];
  /** The secrets it reads, given what else the environment runs. */
  readonly secrets?: (env: Environment) => readonly SecretName[];
  /** Its health endpoint: Docker's healthcheck and `npm run health` are both derived from it. */
  readonly health: HealthEndpoint;
  /** The job it adds to the scrape configuration, scraping `<host>:<port>`. */
  readonly scrape?: ScrapeJob;
  /** The stack outputs `<name>_url`, its published address. */
  readonly url?: boolean;
  /**
   * It serves through the exporter-toolkit's --web.config.file: with `webAuth` on, HTTPS and basic
   * auth (TF_VAR_web_password), its web config and password file in `secretsDir`; whoever reaches it
   * (Prometheus, Grafana, Docker's check) authenticates.
   */
  readonly webConfig?: { readonly secretsDir: string };
  /**
   * It serves TLS with settings of its own (Grafana, Kibana, Elasticsearch, Logstash's TCP input):
   * with `webAuth` on, its build turns them on with a certificate of the environment's CA
   * (`ownTlsPaths`, uploaded to `dir`) and it asks for its own login. Either this or `webConfig`
   * is what lets a service be published beyond loopback.
   */
  readonly ownTls?: { readonly dir: string };
  /** Metrics it exports: the `source` names of its entries in the metric catalog (its folder's metrics.yml). Its folder's rules/ are loaded where it runs. */
  readonly metrics?: { readonly sources: readonly string[] };
  /** Its folder in the repository (rules/, runbooks/, metrics.yml, the files it uploads); default `stacks/services/<hostname>`. */
  readonly folder?: string;
}

/** Builds a service's resources in `scope` (a construct named after its hostname), from one context. */
export type ServiceBuild = (scope: Construct, ctx: ServiceContext) => BuiltService;

/**
 * A service of a catalog: its descriptor (data the scripts read too) and its build (the
 * resources, in the `build.ts` of its folder).
 */
export interface Service extends ServiceDescriptor {
  readonly build: ServiceBuild;
}

/**
 * The local build of a service's image: its program built from its Go module at the release the
 * descriptor's image pins, laid out as upstream's Dockerfile lays it out. The image's user and
 * ports are the descriptor's (`user`, `port`, `extraPorts`), not restated here.
 */
export interface LocalBuild {
  /** The Go module of the release (its version: the image's tag, or `moduleVersion` of it). */
  readonly goModule: string;
  /** How the module's version is written for a tag, when not as the tag (Prometheus 3.Y.Z is module v0.3YY.Z). */
  readonly moduleVersion?: "prometheus-v0";
  /** Main packages under the module, as in its .promu.yml; default the module's root. */
  readonly packages?: readonly string[];
  /** Modules of the same release the build requires too (cAdvisor's /lib). */
  readonly alsoRequires?: readonly string[];
  /** A main of this project built instead of the module's (a folder of the repository). */
  readonly main?: string;
  /** Where the release's version is stamped (-X); default prometheus/common's. */
  readonly versionPackage?: string;
  /** A file of the module's web UI that is not in the module: a placeholder page is built in. */
  readonly uiPlaceholder?: string;
  /** The built binaries: name → path in the image. */
  readonly binaries: Readonly<Record<string, string>>;
  /** Files of the module copied into the image: path in the module → path in the image (0644, or 0755 for scripts). */
  readonly files?: Readonly<Record<string, string>>;
  /** Folders made in the image (0775) and, with `owned`, given to the image's user. */
  readonly dirs?: readonly string[];
  /** Paths given to the image's user (recursively). */
  readonly owned?: readonly string[];
  readonly workdir?: string;
  readonly volume?: string;
  readonly entrypoint: readonly string[];
  readonly cmd?: readonly string[];
}

/** The release a service's pinned image names: its tag, which its local build is built at and tagged with. */
export function pinnedTag(service: ServiceDescriptor): string {
  const tag = service.image.split(":").pop();
  if (!tag || tag.includes("/")) throw new Error(`${service.name}: its image ${service.image} names no tag`);
  return tag;
}

/** Whether the service's image can be built on this machine. */
export function hasLocalBuild(service: ServiceDescriptor): service is ServiceDescriptor & { readonly localBuild: LocalBuild } {
  return "goModule" in service.localBuild;
}

export interface ExtraPort {
  readonly internal: number;
  readonly protocol: "udp";
}

export type HealthStatus = "ok" | "degraded";

export interface HealthVerdict {
  readonly status: HealthStatus;
  readonly detail: string;
}

/**
 * One health endpoint, two checks: Docker runs `client` inside the container against 127.0.0.1;
 * `npm run health` requests the same path through the published port. Where `port` is not the
 * published one (an internal API), `npm run health` can only check that the published port accepts
 * connections; a service that publishes nothing is left to Docker's check.
 */
export interface HealthEndpoint {
  readonly path: string;
  /** Container port; default: the service's port. */
  readonly port?: number;
  /** The HTTP client the image ships, which Docker's check runs. */
  readonly client: "wget" | "curl";
  /** A query only Docker's check adds, because it may wait there; `npm run health` must answer at once. */
  readonly waitQuery?: string;
  /** HTTP basic auth: inside the container the password is in variable `env`; `npm run health` reads TF_VAR_<secret>. */
  readonly auth?: { readonly user: string; readonly secret: SecretName; readonly env: string };
  /** The low-privilege login the blackbox exporter's continuous probe uses where `auth` needs one (never a superuser's). */
  readonly probeAuth?: { readonly user: string; readonly secret: SecretName };
  /** For `npm run health`: the verdict on a 2xx answer's body; unset, any 2xx is healthy. */
  readonly judge?: (body: string) => HealthVerdict;
}

export interface ScrapeJob {
  readonly job: string;
  /** Where the scraper reaches it; default its hostname on the private network. */
  readonly host?: string;
  /** Labels of its target, given the environment (the stack host's Node Exporter names its host in a fleet). */
  readonly labels?: (env: Environment) => Readonly<Record<string, string>> | undefined;
  /** More settings of its job (scrape_interval, metric_relabel_configs), given the environment. */
  readonly settings?: (env: Environment) => Readonly<Record<string, unknown>>;
  /** More jobs it serves, whole scrape configurations (the blackbox exporter's probes). */
  readonly moreJobs?: (env: Environment) => readonly Readonly<Record<string, unknown>>[];
}

/** What a service's build leaves for the services that need it. */
export interface BuiltService {
  /** What must be up before a service that needs this one starts. */
  readonly ready: readonly ITerraformDependable[];
}

/** A descriptor from its parameters, defaults filled in (hostname: the name in kebab-case) and checked. */
export function defineService(spec: Omit<ServiceDescriptor, "hostname"> & { readonly hostname?: string }): ServiceDescriptor {
  const descriptor: ServiceDescriptor = { ...spec, hostname: spec.hostname ?? spec.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) };
  if ("build" in descriptor) throw new Error(`service ${descriptor.name}: its build is given apart (withBuild), not in its descriptor`);
  if (!/^[a-z][a-zA-Z0-9]*$/.test(descriptor.name)) throw new Error(`service ${descriptor.name}: the name must be a camelCase identifier (it is a key in environment files)`);
  if (descriptor.extraPorts?.length && descriptor.hostPort === undefined) throw new Error(`service ${descriptor.name}: extraPorts are published beside hostPort, which it has not`);
  if (!descriptor.user && !descriptor.runsAsRoot) throw new Error(`service ${descriptor.name}: set user (uid:gid), or runsAsRoot with the reason`);
  return Object.freeze(descriptor);
}

/** A service: its descriptor with its build. */
export function withBuild(descriptor: ServiceDescriptor, build: ServiceBuild): Service {
  return Object.freeze({ ...descriptor, build });
}

/** Whether the environment runs the named service; a name no descriptor has is an error (a typo). */
export function runs(env: Environment, name: string): boolean {
  if (!env.catalog.some((service) => service.name === name)) throw new Error(`no service is named ${name} (stacks/services/index.ts lists them)`);
  return env.services.includes(name);
}

/** The descriptors of the services an environment runs, in catalog order. */
export function runningServices(env: Environment): Service[] {
  return env.catalog.filter((service) => env.services.includes(service.name));
}

/** Whether a service is published on the Docker host. */
export function isPublished(service: ServiceDescriptor): boolean {
  return service.hostPort !== undefined;
}

import { Container } from "@cdktf/provider-docker/lib/container";
import { TerraformStack, type IAspect } from "cdktf";
import type { IConstruct } from "constructs";
import { isLoopback } from "./addresses";

/**
 * The hardening policy, as a cdktf Aspect (as cdk-nag is for CDK): at synth it checks every
 * `docker_container` under the construct it is added to, as Terraform will see it (overrides
 * included), and fails synth with one HardeningError naming each container and each rule it
 * breaks. Whatever builds a container (a service descriptor, a test, an escape hatch), the policy
 * holds: `Aspects.of(stack).add(new Hardening({ bindAddress }))`.
 */

export class HardeningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HardeningError";
  }
}

export interface HardeningOptions {
  /** The only address ports may be published on (the environment's bindAddress). */
  readonly bindAddress: string;
  /** For containers on a fleet host: its provider alias → the only address they may publish on (the host's publishAddress). */
  readonly hostAddresses?: Readonly<Record<string, string>>;
}

/** The parts of a synthesized docker_container the rules read. */
interface ContainerJson {
  readonly name?: string;
  /** `docker.<alias>` for a container on a fleet host; unset: the stack's Docker host. */
  readonly provider?: string;
  readonly capabilities?: { readonly add?: readonly string[]; readonly drop?: readonly string[] };
  readonly security_opts?: readonly string[];
  readonly privileged?: boolean;
  readonly memory?: number;
  readonly memory_swap?: number;
  readonly healthcheck?: { readonly test?: readonly string[] };
  readonly restart?: string;
  readonly log_driver?: string;
  readonly log_opts?: Readonly<Record<string, string>>;
  readonly ports?: readonly { readonly internal: number; readonly external?: number; readonly ip?: string; readonly protocol?: string }[];
  readonly user?: string;
  readonly env?: readonly string[];
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly labels?: readonly { readonly label: string; readonly value: string }[];
}

interface RuleContext {
  readonly bindAddress: string;
  readonly rootReason?: string;
  /** Variables allowed to hold a secret, each with the reason (a descriptor's `secretsInEnvironment`). */
  readonly secretsInEnvironment: Readonly<Record<string, string>>;
}

interface Rule {
  readonly name: string;
  /** What is wrong, or nothing when the container keeps the rule. */
  readonly check: (container: ContainerJson, context: RuleContext) => string | undefined;
}

/** The rules, by the name a violation reports. */
export const HARDENING_RULES: readonly Rule[] = [
  {
    name: "capabilities-dropped",
    check: (c) => (c.capabilities?.drop?.includes("ALL") && !c.capabilities.add?.length ? undefined : `capabilities must drop ALL and add none (has ${JSON.stringify(c.capabilities ?? {})})`),
  },
  {
    name: "no-new-privileges",
    check: (c) => (c.security_opts?.some((o) => /^no-new-privileges(:true)?$/.test(o)) ? undefined : 'security_opts must hold "no-new-privileges:true"'),
  },
  { name: "not-privileged", check: (c) => (c.privileged ? "must not be privileged" : undefined) },
  {
    name: "memory-limit",
    check: (c) =>
      !c.memory || c.memory <= 0
        ? "needs a memory limit"
        : c.memory_swap !== c.memory
          ? `memory_swap must equal memory (${c.memory}): no swap beyond the limit (has ${c.memory_swap ?? "unset"})`
          : undefined,
  },
  {
    name: "healthcheck",
    check: (c) => (c.healthcheck?.test?.length && c.healthcheck.test[0] !== "NONE" ? undefined : "needs a healthcheck (apply waits for it)"),
  },
  { name: "restart-policy", check: (c) => (c.restart === "unless-stopped" ? undefined : `restart must be unless-stopped (has ${c.restart ?? "unset"})`) },
  {
    name: "log-rotation",
    check: (c) =>
      c.log_driver === "json-file" && c.log_opts?.["max-size"] && c.log_opts["max-file"]
        ? undefined
        : `logs must rotate: log_driver json-file with log_opts max-size and max-file (has ${c.log_driver ?? "unset"} ${JSON.stringify(c.log_opts ?? {})})`,
  },
  {
    name: "bind-address",
    // On the stack's Docker host: the bind address; on a fleet host: the address it publishes on.
    // Loopback is narrower than either (Logstash's UDP input beside a TCP input published beyond it).
    check: (c, { bindAddress }) => {
      const elsewhere = (c.ports ?? []).filter((p) => p.ip !== bindAddress && !(p.ip && isLoopback(p.ip))).map((p) => `${p.ip ?? "all addresses"}:${p.external ?? p.internal}`);
      return elsewhere.length ? `ports must be published on ${bindAddress} only (has ${elsewhere.join(", ")})` : undefined;
    },
  },
  {
    name: "non-root",
    check: (c, { rootReason }) =>
      rootReason || (c.user && !/^(0|root)(:|$)/.test(c.user))
        ? undefined
        : `must run as a non-root user (has ${c.user ?? "unset: the image's, often root"}); a service that needs root says why in its descriptor's runsAsRoot`,
  },
  {
    // Every Terraform variable of the stack is a secret (or derived from one): in a container's
    // environment it shows in `docker inspect` and in every process's environment.
    name: "secrets-in-files",
    check: (c, { secretsInEnvironment }) => {
      const secret = (text: unknown) => /\bvar\./.test(JSON.stringify(text ?? null));
      const inEnvironment = (c.env ?? []).filter(secret).map((entry) => entry.slice(0, entry.indexOf("=")));
      const unexplained = inEnvironment.filter((name) => !secretsInEnvironment[name]);
      // What else `docker inspect` shows: never excused.
      const elsewhere = (["command", "entrypoint", "healthcheck", "labels"] as const).filter((field) => secret(c[field]));
      return unexplained.length || elsewhere.length
        ? `secrets must reach it as files (secretFiles), not in its ${[...unexplained.map((name) => `environment (${name})`), ...elsewhere].join(", ")}; a program that reads one only from its environment says why in secretsInEnvironment`
        : undefined;
    },
  },
];

const rootReasons = new WeakMap<Container, string>();
const environmentSecretReasons = new WeakMap<Container, Readonly<Record<string, string>>>();

/** Lets a container take secrets in these environment variables, each for a stated reason. */
export function allowSecretsInEnvironment(container: Container, reasons: Readonly<Record<string, string>>): void {
  for (const [name, reason] of Object.entries(reasons)) {
    if (!reason.trim()) throw new Error(`${container.node.path}: secretsInEnvironment.${name} needs a reason`);
  }
  environmentSecretReasons.set(container, reasons);
}

/** Lets a container run as root, for a stated reason (a descriptor's `runsAsRoot`). */
export function allowRoot(container: Container, reason: string): void {
  if (!reason.trim()) throw new Error(`${container.node.path}: runsAsRoot needs a reason`);
  rootReasons.set(container, reason);
}

export class Hardening implements IAspect {
  // A visit checks the whole tree below it, so one error names every problem; its descendants
  // (which cdktf visits afterwards) are already checked.
  private readonly checked = new Set<IConstruct>();

  constructor(private readonly options: HardeningOptions) {}

  visit(node: IConstruct): void {
    if (node.node.scopes.some((scope) => this.checked.has(scope))) return;
    this.checked.add(node);
    const containers = node.node.findAll().filter((c): c is Container => c instanceof Container);
    if (!containers.length) return;
    const stack = TerraformStack.of(node);
    const resources = (stack.toTerraform() as { resource?: { docker_container?: Record<string, ContainerJson> } }).resource?.docker_container ?? {};
    const problems = containers.flatMap((container) => {
      const json = resources[container.friendlyUniqueId] ?? {};
      const alias = json.provider?.replace(/^docker\./, "");
      const hostAddress = alias ? this.options.hostAddresses?.[alias] : undefined;
      if (alias && hostAddress === undefined) return [`  ${json.name ?? container.node.path}: bind-address: runs through provider ${json.provider}, which is no fleet host's`];
      const context = { bindAddress: hostAddress ?? this.options.bindAddress, rootReason: rootReasons.get(container), secretsInEnvironment: environmentSecretReasons.get(container) ?? {} };
      const who = `${json.name ?? container.node.path} (docker_container.${container.friendlyUniqueId})`;
      return HARDENING_RULES.flatMap((rule) => {
        const problem = rule.check(json, context);
        return problem ? [`  ${who}: ${rule.name}: ${problem}`] : [];
      });
    });
    if (problems.length) {
      throw new HardeningError(`${stack.node.id}: containers break the hardening policy (stacks/hardening.ts):\n${problems.join("\n")}`);
    }
  }
}

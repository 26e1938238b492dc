import * as fs from "node:fs";
import type { Encryption } from "./lib/engine";

/** What a deploy reads of a synthesized stack (cdk.tf.json) before it runs the engine. */

type Resource = { lifecycle?: { prevent_destroy?: boolean } };
export interface SynthesizedStack {
  terraform: { backend: Record<string, Record<string, unknown>>; encryption?: { state?: { fallback?: unknown } } };
  provider?: { docker?: unknown };
  resource?: Record<string, Record<string, Resource>>;
}

/** -target words for every resource but the protected ones; none when nothing is protected. */
export function unprotectedTargets(stack: SynthesizedStack): string[] {
  const all = Object.entries(stack.resource ?? {}).flatMap(([type, resources]) =>
    Object.entries(resources).map(([id, resource]) => ({ address: `${type}.${id}`, kept: resource.lifecycle?.prevent_destroy === true })),
  );
  return all.some((r) => r.kept) ? all.filter((r) => !r.kept).map((r) => `-target=${r.address}`) : [];
}

/**
 * Where the state lives: the PostgreSQL server (host:port of PG_CONN_STR, as a URL or as
 * key=value words), the S3 bucket and key, or the local file.
 */
export function stateLocation(stack: SynthesizedStack, connStr = ""): string {
  const [kind, settings] = Object.entries(stack.terraform.backend)[0] ?? ["local", {}];
  if (kind === "pg") {
    try {
      const url = new URL(connStr);
      return `${url.hostname}:${url.port || "5432"}`;
    } catch {
      const word = (key: string) => new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(connStr)?.[1];
      return word("host") ? `${word("host")}:${word("port") ?? "5432"}` : "PG_CONN_STR is not set";
    }
  }
  if (kind === "s3") return `s3://${String(settings.bucket)}/${String(settings.key)}`;
  return String(settings.path ?? "a local file");
}

/** What a deploy needs to know of a synthesized stack. */
export interface StackFacts {
  /** Its state backend: local, pg or s3. */
  readonly backend: string;
  /** How many Docker hosts it deploys to (a fleet's hosts have a provider each). */
  readonly dockerHosts: number;
  /** Its terraform block (backend and providers): what `init` depends on. */
  readonly terraformBlock: string;
  /** When it protects resources (protectData's volumes), a -target for each other one: a destroy removes those and keeps the protected. */
  readonly unprotected: string[];
  /** Where its state lives, for messages: never a credential. */
  readonly stateLocation: string;
  /** Whether it encrypts its state and plans (a fallback reads what another key, or none, wrote: the state must be written anew). */
  readonly encrypted: Encryption;
}

export function stackFacts(stack: SynthesizedStack, connStr?: string): StackFacts {
  return {
    backend: Object.keys(stack.terraform.backend)[0],
    dockerHosts: [stack.provider?.docker ?? []].flat().length,
    terraformBlock: JSON.stringify(stack.terraform),
    unprotected: unprotectedTargets(stack),
    stateLocation: stateLocation(stack, connStr),
    encrypted: !stack.terraform.encryption ? "no" : stack.terraform.encryption.state?.fallback ? "rotating" : "yes",
  };
}

/** The facts of the stack synthesized into `stackDir` (reads PG_CONN_STR for a pg backend). */
export function readStackFacts(stackDir: string): StackFacts {
  return stackFacts(JSON.parse(fs.readFileSync(`${stackDir}/cdk.tf.json`, "utf8")) as SynthesizedStack, process.env.PG_CONN_STR);
}

import * as fs from "node:fs";

/**
 * What deploy.sh needs to know of a synthesized stack (cdk.tf.json), one fact per line:
 *   1. its state backend (local, pg, s3)
 *   2. how many Docker hosts it deploys to (a fleet's hosts have a provider each)
 *   3. its terraform block (backend and providers: what `init` depends on)
 *   4. when it protects resources (protectData's volumes), a -target for each other one: a destroy
 *      removes those and keeps the protected (empty when nothing is protected)
 *   5. where its state lives, for messages: never a credential
 *   6. whether it encrypts its state and plans (OpenTofu's encryption block): no, yes, or rotating
 *      (a fallback reads what another key, or none, wrote: the state must be written anew)
 *
 *   node dist/scripts/stack-facts.js STACK_DIR/cdk.tf.json    (reads PG_CONN_STR for a pg backend)
 */

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

export function stackFacts(stack: SynthesizedStack, connStr?: string): string[] {
  return [
    Object.keys(stack.terraform.backend)[0],
    String([stack.provider?.docker ?? []].flat().length),
    JSON.stringify(stack.terraform),
    unprotectedTargets(stack).join(" "),
    stateLocation(stack, connStr),
    !stack.terraform.encryption ? "no" : stack.terraform.encryption.state?.fallback ? "rotating" : "yes",
  ];
}

if (require.main === module) {
  const stack = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as SynthesizedStack;
  console.log(stackFacts(stack, process.env.PG_CONN_STR).join("\n"));
}

import type { Environment } from "./environment";
import table from "./secrets.json";
import { runningServices } from "./descriptor";

/**
 * Every secret is a sensitive Terraform variable without a default, given as `TF_VAR_<name>`.
 * The synthesized JSON only holds `${var.<name>}`; `plan` stops with the variable's name when
 * one is missing, before anything touches Docker. What each secret is lives in one table,
 * secrets.json, which the deploy scripts read too (scripts/lib/secret-file.ts); which secrets an
 * environment needs, its services say (their descriptors' `secrets`). The variables themselves are
 * the Secrets construct's (secret-variables.ts): this module loads no cdktf, for the scripts.
 */

/** A secret's name: its Terraform variable, set as TF_VAR_<name>. */
export type SecretName = keyof typeof table.secrets;

type Validation = { readonly kind: "password"; readonly minLength: number } | { readonly kind: "https-url"; readonly messageName?: string };

export interface SecretSpec {
  /** What it is, for messages that name a missing one. */
  readonly description: string;
  readonly validation: Validation;
  /** A local deploy may generate it at random; the receivers' keys come from their services. */
  readonly generate: boolean;
  /** The scripts also pass TF_VAR_<name>_bcrypt, its bcrypt hash (scripts/lib/secret-file.ts: the same on every plan). */
  readonly bcrypt?: boolean;
}

// The JSON's types are wide (string, not the kinds): check the table once, when it is loaded.
function checked(entries: Record<string, { description: string; validation: Record<string, unknown>; generate: boolean; bcrypt?: boolean }>): Record<SecretName, SecretSpec> {
  for (const [name, spec] of Object.entries(entries)) {
    const { kind, minLength } = spec.validation;
    const valid = (kind === "password" && typeof minLength === "number") || kind === "https-url";
    if (!valid) throw new Error(`stacks/secrets.json: ${name}: validation must be {kind: "password", minLength} or {kind: "https-url"}`);
  }
  return entries as unknown as Record<SecretName, SecretSpec>;
}

export const SECRETS: Readonly<Record<SecretName, SecretSpec>> = checked(table.secrets);

/** Every secret, in the table's order (the order of messages). */
export const SECRET_NAMES = Object.keys(SECRETS) as SecretName[];

/** Which secrets an environment needs: those its services read (in the table's order). */
export function requiredSecrets(env: Environment): SecretName[] {
  const needed = new Set([...runningServices(env).flatMap((service) => service.secrets?.(env) ?? []), ...encryptionSecrets(env)]);
  return SECRET_NAMES.filter((name) => needed.has(name));
}

/** The passphrases of OpenTofu's state encryption: the current one, and while rotating from another key (previousKey 0 is plain state: no passphrase), the previous one. */
function encryptionSecrets(env: Environment): SecretName[] {
  const { enabled, previousKey } = env.encryption;
  if (!enabled) return [];
  const fromAnotherKey = previousKey !== undefined && previousKey !== 0;
  return fromAnotherKey ? ["state_passphrase", "state_passphrase_previous"] : ["state_passphrase"];
}

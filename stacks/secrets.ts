import { Fn, TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import type { Environment } from "./environment";
import table from "./secrets.json";
import { runningServices } from "./service";

/**
 * Every secret is a sensitive Terraform variable without a default, given as `TF_VAR_<name>`.
 * The synthesized JSON only holds `${var.<name>}`; `plan` stops with the variable's name when
 * one is missing, before anything touches Docker. What each secret is lives in one table,
 * secrets.json, which the deploy scripts read too (scripts/lib/secret-file.js); which secrets an
 * environment needs, its services say (their descriptors' `secrets`).
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
  /** The scripts also pass TF_VAR_<name>_bcrypt, its bcrypt hash (scripts/lib/secret-file.js: the same on every plan). */
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

/** The variable's validation: an HCL condition on `ref` and the message when it fails. */
function validationOf(spec: SecretSpec): { condition: (ref: string) => string; errorMessage: string } {
  const rule = spec.validation;
  if (rule.kind === "https-url") {
    return { condition: (ref) => `startswith(${ref}, "https://")`, errorMessage: `${rule.messageName ?? spec.description}: must start with https://` };
  }
  // Passwords are embedded in JSON bodies and env files, so quotes and backslashes are ruled out.
  return {
    condition: (ref) => `can(regex("^[A-Za-z0-9_.~+=@!-]{${rule.minLength},}$", ${ref}))`,
    errorMessage: `${spec.description}: at least ${rule.minLength} characters of A-Z a-z 0-9 _ . ~ + = @ ! -`,
  };
}

/** Which secrets an environment needs: those its services read (in the table's order). */
export function requiredSecrets(env: Environment): SecretName[] {
  const needed = new Set(runningServices(env).flatMap((service) => service.secrets?.(env) ?? []));
  return SECRET_NAMES.filter((name) => needed.has(name));
}

export class Secrets extends Construct {
  private readonly refs = new Map<SecretName, string>();
  private readonly hashes = new Map<SecretName, string>();

  constructor(scope: Construct, id: string, env: Environment) {
    super(scope, id);
    for (const name of requiredSecrets(env)) {
      const spec = SECRETS[name];
      const validation = validationOf(spec);
      const variable = new TerraformVariable(this, name, {
        type: "string",
        sensitive: true,
        nullable: false,
        description: `${spec.description} (set TF_VAR_${name})`,
      });
      variable.overrideLogicalId(name);
      // The condition is an HCL expression: it must be interpolated, not a plain string.
      variable.addValidation({ condition: `\${${validation.condition(`var.${name}`)}}`, errorMessage: validation.errorMessage });
      this.refs.set(name, variable.stringValue);
      if (spec.bcrypt) {
        const hash = new TerraformVariable(this, `${name}_bcrypt`, {
          type: "string",
          sensitive: true,
          nullable: false,
          description: `bcrypt hash of ${name} (set by the deploy scripts; else TF_VAR_${name}_bcrypt)`,
        });
        hash.overrideLogicalId(`${name}_bcrypt`);
        hash.addValidation({ condition: `\${can(regex("^\\\\$2[aby]\\\\$[0-9]{2}\\\\$[./A-Za-z0-9]{53}$", var.${name}_bcrypt))}`, errorMessage: `bcrypt hash of ${name}: must be a bcrypt hash ($2b$…); the deploy scripts compute it from TF_VAR_${name}` });
        this.hashes.set(name, hash.stringValue);
      }
    }
  }

  /** A Terraform reference to the bcrypt hash of a secret marked bcrypt in the table. */
  bcrypt(name: SecretName): string {
    const ref = this.hashes.get(name);
    if (!ref) throw new Error(`secret ${name} has no bcrypt hash here (not required, or not marked bcrypt in stacks/secrets.json)`);
    return ref;
  }

  /** Whether the environment needs this secret (requiredSecrets decides, nobody else). */
  has(name: SecretName): boolean {
    return this.refs.has(name);
  }

  /** A Terraform reference to the secret; throws if the environment does not need it. */
  get(name: SecretName): string {
    const ref = this.refs.get(name);
    if (!ref) throw new Error(`secret ${name} is not required by this environment`);
    return ref;
  }

  /** A key derived from a secret, so one variable can feed several independent keys. */
  derived(name: SecretName, purpose: string): string {
    return Fn.sha256(`${purpose}:${this.get(name)}`);
  }
}

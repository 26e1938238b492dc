import { Fn, TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import type { Environment } from "./environment";
import { requiredSecrets, SECRETS, type SecretName, type SecretSpec } from "./secrets";

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

/** The environment's secrets as sensitive Terraform variables (secrets.ts: which, and what each is). */
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

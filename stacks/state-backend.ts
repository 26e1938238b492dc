import { LocalBackend, PgBackend, S3Backend, type TerraformStack } from "cdktf";
import type { Environment } from "./environment";
import type { Secrets } from "./secret-variables";

/**
 * The environment's state backend. Nothing secret is synthesized: the PostgreSQL connection string
 * comes from PG_CONN_STR and S3 credentials from the AWS_* variables, read by the engine itself.
 */
export function stateBackend(stack: TerraformStack, env: Environment, localPath: string): void {
  const state = env.state;
  switch (state.backend) {
    case "local":
      new LocalBackend(stack, { path: localPath });
      return;
    case "pg": {
      // conn_str left out on purpose (cdktf types it as required): the engine reads PG_CONN_STR.
      new PgBackend(stack, { connStr: undefined as unknown as string, schemaName: pgSchema(env) });
      return;
    }
    case "s3": {
      const backend = new S3Backend(stack, {
        bucket: state.bucket,
        key: `${state.keyPrefix}${env.name}.tfstate`,
        region: state.region,
        endpoints: state.endpoint ? { s3: state.endpoint } : undefined,
        // Path-style addressing is what S3-compatible stores expect.
        usePathStyle: state.endpoint ? true : undefined,
        encrypt: true,
      });
      // A lock file next to the state (Terraform and OpenTofu 1.10+): no DynamoDB table needed.
      backend.addOverride("use_lockfile", true);
      return;
    }
  }
}

/** The PostgreSQL schema of an environment's state. */
export function pgSchema(env: Environment): string {
  return env.state.backend === "pg" && env.state.schema ? env.state.schema : `protocol_monitoring_${env.name.replace(/-/g, "_")}`;
}

/**
 * OpenTofu's encryption of the state and of saved plans (its `encryption` block; Terraform has
 * none and refuses the block, which the deploy says before it runs one): AES-GCM with a key derived
 * by PBKDF2 from TF_VAR_state_passphrase. Key providers are named by generation (passphrase_<key>)
 * because the name is stored with the encrypted data: rotating adds a new one and reads the old
 * state through the previous generation's (or, from plain state, `unencrypted`) as a fallback.
 * References are bare (`method.aes_gcm.key_1`, not "${…}"): in JSON syntax OpenTofu wants a
 * static traversal there, which a template is not.
 */
export function stateEncryption(stack: TerraformStack, env: Environment, secrets: Secrets): void {
  const { enabled, key, previousKey } = env.encryption;
  if (!enabled) return;
  const keyProviders: Record<string, unknown> = { [`passphrase_${key}`]: { passphrase: secrets.get("state_passphrase") } };
  const methods: Record<string, Record<string, unknown>> = { aes_gcm: { [`key_${key}`]: { keys: `key_provider.pbkdf2.passphrase_${key}` } } };
  let fallback: string | undefined;
  if (previousKey === 0) {
    methods.unencrypted = { plain: {} };
    fallback = "method.unencrypted.plain";
  } else if (previousKey !== undefined) {
    keyProviders[`passphrase_${previousKey}`] = { passphrase: secrets.get("state_passphrase_previous") };
    methods.aes_gcm[`key_${previousKey}`] = { keys: `key_provider.pbkdf2.passphrase_${previousKey}` };
    fallback = `method.aes_gcm.key_${previousKey}`;
  }
  // Enforced: nothing is ever written in the clear, except while leaving plain state behind.
  const target = { method: `method.aes_gcm.key_${key}`, enforced: previousKey !== 0, ...(fallback ? { fallback: { method: fallback } } : {}) };
  stack.addOverride("terraform.encryption", { key_provider: { pbkdf2: keyProviders }, method: methods, state: target, plan: target });
}

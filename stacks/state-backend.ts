import { LocalBackend, PgBackend, S3Backend, type TerraformStack } from "cdktf";
import type { Environment } from "./environment";

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

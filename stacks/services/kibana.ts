import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { SERVICES } from "../catalog";
import { ServiceContainer, type StackContext } from "../container";
import type { Environment } from "../environment";
import type { Secrets } from "../secrets";

export interface KibanaProps {
  readonly context: StackContext;
  readonly env: Environment;
  readonly secrets: Secrets;
  /** The Elasticsearch setup job, which sets the kibana_system password. */
  readonly after: ITerraformDependable[];
}

/** Kibana logs in as kibana_system (never elastic) and gets fixed encryption keys. */
export class Kibana extends Construct {
  readonly service: ServiceContainer;

  constructor(scope: Construct, id: string, { context, env, secrets, after }: KibanaProps) {
    super(scope, id);
    const spec = SERVICES.kibana;
    const es = SERVICES.elasticsearch;
    this.service = new ServiceContainer(this, "kibana", {
      context,
      service: spec.hostname,
      image: env.images.kibana,
      memoryMb: env.memoryMb.kibana,
      user: "1000:0",
      env: {
        SERVER_NAME: `${env.name}-kibana`,
        SERVER_PUBLICBASEURL: `http://${context.bindAddress}:${env.ports.kibana}`,
        ELASTICSEARCH_HOSTS: `http://${es.hostname}:${es.port}`,
        ELASTICSEARCH_USERNAME: "kibana_system",
        ELASTICSEARCH_PASSWORD: secrets.get("kibana_system_password"),
        // Without fixed keys Kibana makes new ones at every start and disables alerting and reporting.
        XPACK_SECURITY_ENCRYPTIONKEY: secrets.derived("kibana_encryption_key", "security"),
        XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY: secrets.derived("kibana_encryption_key", "saved-objects"),
        XPACK_REPORTING_ENCRYPTIONKEY: secrets.derived("kibana_encryption_key", "reporting"),
        TELEMETRY_OPTIN: "false",
      },
      ports: [{ internal: spec.port, external: env.ports.kibana }],
      healthcheck: `curl -fsS --max-time 4 http://127.0.0.1:${spec.port}/api/status >/dev/null`,
      dependsOn: after,
    });
  }
}

import { Construct } from "constructs";
import { CONFIG_PATHS, LOGSTASH_API_PORT, LOGSTASH_GELF_PORT, SERVICES } from "../catalog";
import { jvmHeap, ServiceContainer, type StackContext } from "../container";
import type { Environment } from "../environment";
import type { Secrets } from "../secrets";
import type { ITerraformDependable } from "cdktf";

export interface LogstashProps {
  readonly context: StackContext;
  readonly env: Environment;
  readonly secrets: Secrets;
  /** assets/logstash/pipeline.conf */
  readonly pipeline: string;
  /** The Elasticsearch setup job, which creates the writer user Logstash logs in with. */
  readonly after: ITerraformDependable[];
}

export class Logstash extends Construct {
  readonly service: ServiceContainer;

  constructor(scope: Construct, id: string, { context, env, secrets, pipeline, after }: LogstashProps) {
    super(scope, id);
    const spec = SERVICES.logstash;
    this.service = new ServiceContainer(this, "logstash", {
      context,
      service: spec.hostname,
      image: env.images.logstash,
      memoryMb: env.memoryMb.logstash,
      user: "1000:0",
      env: {
        LS_JAVA_OPTS: jvmHeap(env.memoryMb.logstash),
        LOGSTASH_WRITER_PASSWORD: secrets.get("logstash_writer_password"),
        XPACK_MONITORING_ENABLED: "false",
      },
      // JSON lines over TCP and Docker's gelf log driver over UDP, both on the one host port
      // (TCP and UDP ports are separate); Beats shippers reach port 5044 on the private network.
      ports: [
        { internal: spec.port, external: env.ports.logstash },
        { internal: LOGSTASH_GELF_PORT, external: env.ports.logstash, protocol: "udp" },
      ],
      // Overwrites the image's default pipeline file, so only this pipeline runs.
      files: { [CONFIG_PATHS.logstashPipeline]: pipeline },
      healthcheck: `curl -fsS --max-time 4 http://127.0.0.1:${LOGSTASH_API_PORT}/ >/dev/null`,
      dependsOn: after,
    });
  }
}

import { Construct } from "constructs";
import { CONFIG_PATHS, SERVICES } from "../catalog";
import { jvmHeap, ServiceContainer, type StackContext } from "../container";
import type { Environment } from "../environment";
import type { Secrets } from "../secrets";

export interface ElasticsearchProps {
  readonly context: StackContext;
  readonly env: Environment;
  readonly secrets: Secrets;
  /** assets/elasticsearch/setup.sh: sets the service users' passwords through the API. */
  readonly setupScript: string;
}

/** Single-node Elasticsearch with security on, plus the setup container that creates its service users. */
export class Elasticsearch extends Construct {
  readonly service: ServiceContainer;
  readonly setup: ServiceContainer;

  constructor(scope: Construct, id: string, props: ElasticsearchProps) {
    super(scope, id);
    const { context, env, secrets } = props;
    const spec = SERVICES.elasticsearch;

    this.service = new ServiceContainer(this, "elasticsearch", {
      context,
      service: spec.hostname,
      image: env.images.elasticsearch,
      memoryMb: env.memoryMb.elasticsearch,
      user: "1000:0",
      env: {
        "discovery.type": "single-node",
        "cluster.name": `${env.name}-logs`,
        ES_JAVA_OPTS: jvmHeap(env.memoryMb.elasticsearch),
        // Only applies on the first start of an empty data volume; later changes go through the setup job.
        ELASTIC_PASSWORD: secrets.get("elastic_password"),
        "xpack.security.enabled": "true",
        // Plain HTTP on the private network; published on the bind address only (127.0.0.1 by default).
        "xpack.security.http.ssl.enabled": "false",
        "xpack.license.self_generated.type": "basic",
      },
      ports: [{ internal: spec.port, external: env.ports.elasticsearch }],
      dataPath: spec.dataPath,
      healthcheck: `curl -fsS --max-time 4 -u "elastic:$ELASTIC_PASSWORD" "http://127.0.0.1:${spec.port}/_cluster/health?wait_for_status=yellow&timeout=3s" >/dev/null`,
    });

    this.setup = new ServiceContainer(this, "setup", {
      context,
      service: "elasticsearch-setup",
      image: env.images.elasticsearch,
      memoryMb: 128,
      user: "1000:0",
      entrypoint: ["/bin/sh", CONFIG_PATHS.elasticsearchSetupScript],
      env: {
        ES_URL: `http://${spec.hostname}:${spec.port}`,
        ELASTIC_PASSWORD: secrets.get("elastic_password"),
        KIBANA_SYSTEM_PASSWORD: secrets.get("kibana_system_password"),
        LOGSTASH_WRITER_PASSWORD: secrets.get("logstash_writer_password"),
        ...(secrets.has("grafana_es_password") ? { GRAFANA_ES_PASSWORD: secrets.get("grafana_es_password") } : {}),
      },
      files: { [CONFIG_PATHS.elasticsearchSetupScript]: props.setupScript },
      healthcheck: "test -f /tmp/es-setup.done",
      dependsOn: [this.service.container],
    });
  }
}

import { defineService, serviceContainer } from "../service";
import { ELASTIC_NO_LOCAL_BUILD, ELASTIC_VERSION, elasticsearch, jvmHeap } from "./elasticsearch";

/** Where the pipeline is uploaded: over the image's default pipeline file, so only this pipeline runs. */
export const LOGSTASH_PIPELINE = "/usr/share/logstash/pipeline/logstash.conf";
/** Logstash's monitoring API: not published, checked by Docker. */
const API_PORT = 9600;

/**
 * Logstash: takes JSON lines over TCP and Docker's gelf log driver over UDP, both on its one
 * published host port (TCP and UDP ports are separate), and writes them to Elasticsearch as the
 * least-privileged logstash_writer. Beats shippers reach port 5044 on the private network.
 */
export const logstash = defineService({
  name: "logstash",
  title: "Logstash",
  image: `docker.elastic.co/logstash/logstash:${ELASTIC_VERSION}`,
  localBuild: ELASTIC_NO_LOCAL_BUILD,
  // The JSON-lines TCP input.
  port: 5000,
  hostPort: 5000,
  // The GELF input (UDP).
  extraPorts: [{ internal: 12201, protocol: "udp" }],
  memoryMb: 1024,
  user: "1000:0",
  // It runs where Elasticsearch runs; it starts with it and retries its login until the setup job
  // has created the writer user (Elasticsearch's ready list is empty: elasticsearch.ts).
  needs: [elasticsearch.name],
  secrets: () => ["logstash_writer_password"],
  health: { path: "/", port: API_PORT, client: "curl" },
  build: (scope, ctx) => {
    const { env, secrets } = ctx;
    return serviceContainer(scope, ctx, {
      env: {
        LS_JAVA_OPTS: jvmHeap(env.memoryMb[logstash.name]),
        LOGSTASH_WRITER_PASSWORD: secrets.get("logstash_writer_password"),
        XPACK_MONITORING_ENABLED: "false",
      },
      files: { [LOGSTASH_PIPELINE]: ctx.assets.file("logstash/pipeline.conf") },
      secretsInEnvironment: {
        LOGSTASH_WRITER_PASSWORD: "the pipeline's ${LOGSTASH_WRITER_PASSWORD} resolves from the environment or the Logstash keystore only, never from a file; a keystore would take a logstash-keystore run before each start",
      },
    });
  },
});

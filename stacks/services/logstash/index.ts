import { TerraformOutput } from "cdktf";
import { defineService } from "../../descriptor";
import { serviceContainer } from "../../service";
import { ownTlsPaths, type OwnTlsPaths } from "../../web-config";
import { ELASTIC_NO_LOCAL_BUILD, ELASTIC_VERSION, elasticsearch, jvmHeap } from "../elasticsearch";

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
  // webAuth: the TCP input takes TLS only, from shippers with a client certificate of the environment's CA.
  ownTls: { dir: "/usr/share/logstash/config/secrets" },
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
    const tls = ownTlsPaths(env, logstash);
    if (tls && ctx.pki) {
      // The shippers' client certificate: `terraform output -raw logstash_client_key` (README: Security).
      const client = ctx.pki.client("logstash-client", `${env.name} log shipper`);
      new TerraformOutput(scope, "client-certificate", { value: client.cert }).overrideLogicalId("logstash_client_certificate");
      new TerraformOutput(scope, "client-key", { value: client.key, sensitive: true }).overrideLogicalId("logstash_client_key");
    }
    return serviceContainer(scope, ctx, {
      env: {
        LS_JAVA_OPTS: jvmHeap(env.memoryMb[logstash.name]),
        LOGSTASH_WRITER_PASSWORD: secrets.get("logstash_writer_password"),
        XPACK_MONITORING_ENABLED: "false",
      },
      files: { [LOGSTASH_PIPELINE]: logstashPipeline(ctx.assets.file(ctx.service, "pipeline.conf"), tls) },
      secretsInEnvironment: {
        LOGSTASH_WRITER_PASSWORD: "the pipeline's ${LOGSTASH_WRITER_PASSWORD} resolves from the environment or the Logstash keystore only, never from a file; a keystore would take a logstash-keystore run before each start",
      },
    });
  },
});

/** The lines of the pipeline that webAuth changes, as its pipeline.conf has them. */
const PIPELINE_ANCHORS = {
  tcpInput: "    port => 5000\n    codec => json_lines\n",
  outputHosts: '    hosts => ["http://elasticsearch:9200"]\n',
} as const;

/**
 * The pipeline as the environment runs it. With webAuth (its TLS files given): the TCP input
 * takes TLS only, and only from clients with a certificate of the environment's CA; the output
 * reaches Elasticsearch over HTTPS checked against the CA. Without: the asset unchanged.
 */
export function logstashPipeline(asset: string, tls: OwnTlsPaths | undefined): string {
  if (!tls) return asset;
  const replace = (text: string, anchor: string, by: string) => {
    if (!text.includes(anchor)) throw new Error(`stacks/services/logstash/pipeline.conf: no line ${JSON.stringify(anchor)} to add TLS settings to`);
    return text.replace(anchor, by);
  };
  const tcpTls = [
    "    ssl_enabled => true",
    `    ssl_certificate => "${tls.cert}"`,
    `    ssl_key => "${tls.key}"`,
    `    ssl_certificate_authorities => ["${tls.ca}"]`,
    '    ssl_client_authentication => "required"',
    "",
  ].join("\n");
  const outputTls = ['    hosts => ["https://elasticsearch:9200"]', "    ssl_enabled => true", `    ssl_certificate_authorities => ["${tls.ca}"]`, ""].join("\n");
  return replace(replace(asset, PIPELINE_ANCHORS.tcpInput, PIPELINE_ANCHORS.tcpInput + tcpTls), PIPELINE_ANCHORS.outputHosts, outputTls);
}

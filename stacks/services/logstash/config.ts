import { type OwnTlsPaths } from "../../web-config";

/** Where the pipeline is uploaded: over the image's default pipeline file, so only this pipeline runs. */
export const LOGSTASH_PIPELINE = "/usr/share/logstash/pipeline/logstash.conf";
/** Logstash's monitoring API: not published, checked by Docker. */
export const API_PORT = 9600;


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

import { defineService } from "../../descriptor";
import { ELASTIC_NO_LOCAL_BUILD, ELASTIC_VERSION } from "../elasticsearch/config";
import { elasticsearch } from "../elasticsearch/descriptor";
import { API_PORT } from "./config";

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
});

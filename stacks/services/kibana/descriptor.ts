import { defineService } from "../../descriptor";
import { ELASTIC_NO_LOCAL_BUILD, ELASTIC_VERSION } from "../elasticsearch/config";
import { elasticsearch } from "../elasticsearch/descriptor";

/** Kibana: searches the logs in Elasticsearch. It logs in as kibana_system (never elastic) and gets fixed encryption keys. */
export const kibana = defineService({
  name: "kibana",
  title: "Kibana",
  image: `docker.elastic.co/kibana/kibana:${ELASTIC_VERSION}`,
  localBuild: ELASTIC_NO_LOCAL_BUILD,
  port: 5601,
  hostPort: 5601,
  ownTls: { dir: "/usr/share/kibana/config/secrets" },
  memoryMb: 1024,
  user: "1000:0",
  // It runs where Elasticsearch runs; it starts with it and retries its login until the setup job
  // has set the kibana_system password (Elasticsearch's ready list is empty: elasticsearch.ts).
  needs: [elasticsearch.name],
  secrets: () => ["kibana_system_password", "kibana_encryption_key"],
  health: { path: "/api/status", client: "curl" },
  url: true,
});

import { defineService } from "../../descriptor";
import { serviceContainer } from "../../service";
import { ownTlsPaths } from "../../web-config";
import { ELASTIC_NO_LOCAL_BUILD, ELASTIC_VERSION, elasticsearch, elasticsearchUrl } from "../elasticsearch";

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
  build: (scope, ctx) => {
    const { env, secrets } = ctx;
    // webAuth: it serves HTTPS, and reaches Elasticsearch over HTTPS checked against the CA.
    const tls = ownTlsPaths(env, kibana);
    return serviceContainer(scope, ctx, {
      env: {
        SERVER_NAME: `${env.name}-kibana`,
        SERVER_PUBLICBASEURL: `${tls ? "https" : "http"}://${env.bindAddress}:${env.ports[kibana.name]}`,
        ELASTICSEARCH_HOSTS: elasticsearchUrl(env),
        ...(tls
          ? { SERVER_SSL_ENABLED: "true", SERVER_SSL_CERTIFICATE: tls.cert, SERVER_SSL_KEY: tls.key, ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES: tls.ca }
          : {}),
        ELASTICSEARCH_USERNAME: "kibana_system",
        ELASTICSEARCH_PASSWORD: secrets.get("kibana_system_password"),
        // Without fixed keys Kibana makes new ones at every start and disables alerting and reporting.
        XPACK_SECURITY_ENCRYPTIONKEY: secrets.derived("kibana_encryption_key", "security"),
        XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY: secrets.derived("kibana_encryption_key", "saved-objects"),
        XPACK_REPORTING_ENCRYPTIONKEY: secrets.derived("kibana_encryption_key", "reporting"),
        TELEMETRY_OPTIN: "false",
      },
      secretsInEnvironment: Object.fromEntries(
        ["ELASTICSEARCH_PASSWORD", "XPACK_SECURITY_ENCRYPTIONKEY", "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY", "XPACK_REPORTING_ENCRYPTIONKEY"].map((name) => [
          name,
          "Kibana reads these settings from kibana.yml, its keystore or its environment, never from a file it is pointed at; a keystore would take a kibana-keystore run before each start",
        ]),
      ),
    });
  },
});

import { serviceContainer } from "../../service";
import { ownTlsPaths } from "../../web-config";
import { elasticsearchUrl } from "../elasticsearch";
import type { ServiceBuild } from "../../descriptor";

/** Its resources: the container and what it uploads. */
export const build: ServiceBuild = (scope, ctx) => {
  const kibana = ctx.service;
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
};

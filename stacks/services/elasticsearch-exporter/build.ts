import { serviceContainer } from "../../service";
import { servesTls } from "../../web-config";
import { ELASTICSEARCH_MONITOR_USER, elasticsearch, elasticsearchUrl } from "../elasticsearch";
import type { ServiceBuild } from "../../descriptor";
import { CA_FILE, PORT } from "./descriptor";

/** Its resources: the container and what it uploads. */
export const build: ServiceBuild = (scope, ctx) => {
  // webAuth: Elasticsearch serves HTTPS, checked against the environment's CA.
  const ca = servesTls(ctx.env, elasticsearch) ? ctx.pki?.caPem : undefined;
  return serviceContainer(scope, ctx, {
    command: [
      `--es.uri=${elasticsearchUrl(ctx.env)}`,
      ...(ca ? [`--es.ca=${CA_FILE}`] : []),
      "--es.timeout=5s",
      `--web.listen-address=:${PORT}`,
    ],
    // A Terraform reference: uploaded as it is (secretFiles), not escaped as literal text.
    ...(ca ? { secretFiles: { [CA_FILE]: ca } } : {}),
    // The exporter adds these to es.uri itself, so the password is in no command line.
    env: { ES_USERNAME: ELASTICSEARCH_MONITOR_USER, ES_PASSWORD: ctx.secrets.get("elasticsearch_monitor_password") },
    secretsInEnvironment: { ES_PASSWORD: "elasticsearch_exporter 1.11 takes the password from ES_PASSWORD or from --es.uri (a command line), never from a file" },
    // Uploads need a writable root (docker cp): read-only unless the CA is uploaded.
    readOnlyRootFs: !ca,
  });
};

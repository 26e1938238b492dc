import { TerraformOutput } from "cdktf";
import { serviceContainer } from "../../service";
import { ownTlsPaths } from "../../web-config";
import { jvmHeap } from "../elasticsearch";
import type { ServiceBuild } from "../../descriptor";
import { LOGSTASH_PIPELINE, logstashPipeline } from "./config";

/** Its resources: the container and what it uploads. */
export const build: ServiceBuild = (scope, ctx) => {
  const logstash = ctx.service;
  const { env, secrets } = ctx;
  const tls = ownTlsPaths(env, logstash);
  if (tls && ctx.pki) {
    // The shippers' client certificate: `terraform output -raw logstash_client_key` (docs/fleet.md, Security model).
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
};

import { serviceContainer } from "../../service";
import type { ServiceBuild } from "../../descriptor";
import { BLACKBOX_PATHS, blackboxConfig, PORT, probeSecrets } from "./config";

/** Its resources: the container and what it uploads. */
export const build: ServiceBuild = (scope, ctx) => {
  const { env, secrets, pki } = ctx;
  return serviceContainer(scope, ctx, {
    command: [`--config.file=${BLACKBOX_PATHS.config}`, `--web.listen-address=:${PORT}`],
    files: { [BLACKBOX_PATHS.config]: blackboxConfig(env) },
    secretFiles: {
      ...Object.fromEntries(probeSecrets(env).map((name) => [`${BLACKBOX_PATHS.secretsDir}/${name}`, secrets.get(name)])),
      ...(env.webAuth.enabled && pki ? { [BLACKBOX_PATHS.ca]: pki.caPem } : {}),
    },
    // Protocol services run on the Docker host, as Prometheus reaches them.
    extraHosts: { "host.docker.internal": "host-gateway" },
  });
};

import { filesIn } from "../../container";
import { serviceContainer } from "../../service";
import type { ServiceBuild } from "../../descriptor";
import { ALERTMANAGER_PATHS, alertmanagerConfig, alertmanagerFlags, receiverSecrets } from "./config";

/** Its resources: the container and what it uploads. */
export const build: ServiceBuild = (scope, ctx) => {
  const { env, secrets } = ctx;
  const secretFiles = Object.fromEntries(receiverSecrets(env).map((name) => [`${ALERTMANAGER_PATHS.secretsDir}/${name}`, secrets.get(name)]));
  // webAuth (its webConfig): serviceContainer adds HTTPS with basic auth; prometheus.ts says how Prometheus reaches it.
  return serviceContainer(scope, ctx, {
    command: alertmanagerFlags(),
    files: {
      [ALERTMANAGER_PATHS.config]: alertmanagerConfig(env),
      ...filesIn(ALERTMANAGER_PATHS.templatesDir, ctx.assets.folder(ctx.service, "templates", ".tmpl")),
      ...(env.alertingCaPem ? { [ALERTMANAGER_PATHS.ca]: env.alertingCaPem } : {}),
    },
    secretFiles,
  });
};

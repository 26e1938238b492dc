import { filesIn } from "../../container";
import { loadedRuleFiles, renderRuleFile, ruleParameters } from "./rules";
import { applyAlertChanges, checkAlertChanges, ownRuleFiles } from "./alert-changes";
import { serviceContainer } from "../../service";
import type { ServiceBuild } from "../../descriptor";
import { CA_FILE, PROMETHEUS_PATHS, prometheusConfig, prometheusFlags, prometheusSecrets, secretPath } from "./config";

/** Its resources: the container and what it uploads. */
export const build: ServiceBuild = (scope, ctx) => {
  const parameters = ruleParameters(ctx.env);
  // Only the rule files whose metrics the environment has (rules.ts).
  const shipped = ctx.assets.ruleFiles(ctx.env.catalog);
  checkAlertChanges(ctx.env, shipped);
  const loaded = loadedRuleFiles(ctx.env, shipped);
  // The environment's changes to them (alerts:), and the team's own files beside them.
  const rendered = { ...applyAlertChanges(ctx.env, Object.fromEntries(loaded.map((rule) => [rule.name, renderRuleFile(rule, parameters).content]))), ...ownRuleFiles(ctx.env) };
  const { env, secrets, pki } = ctx;
  // The passwords it authenticates with and the CA it checks servers against, as files (prometheus.yml holds none).
  const secretFiles: Record<string, string> = Object.fromEntries(prometheusSecrets(env).map((name) => [secretPath(name), secrets.get(name)]));
  if (pki) secretFiles[CA_FILE] = pki.caPem;
  // webAuth (its webConfig): serviceContainer adds HTTPS with basic auth.
  return serviceContainer(scope, ctx, {
    command: prometheusFlags(env),
    files: {
      [PROMETHEUS_PATHS.config]: prometheusConfig(env, Object.keys(rendered)),
      ...filesIn(PROMETHEUS_PATHS.rulesDir, rendered),
    },
    secretFiles: Object.keys(secretFiles).length ? secretFiles : undefined,
    // Protocol services run on the Docker host; Linux engines only resolve this name when told to.
    extraHosts: { "host.docker.internal": "host-gateway" },
  });
};

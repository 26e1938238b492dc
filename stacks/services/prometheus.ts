import { Construct } from "constructs";
import { CONFIG_PATHS, SERVICES } from "../catalog";
import { prometheusConfig, prometheusFlags, type RuleFile } from "../config/prometheus";
import { loadedRuleFiles, renderRuleFile, ruleParameters } from "../config/rules";
import { filesIn, ServiceContainer, type StackContext } from "../container";
import type { Environment } from "../environment";

export interface PrometheusProps {
  readonly context: StackContext;
  readonly env: Environment;
  /** Rule files as shipped in assets/rules, placeholders not yet filled in. */
  readonly ruleFiles: readonly RuleFile[];
}

export class Prometheus extends Construct {
  readonly service: ServiceContainer;

  constructor(scope: Construct, id: string, { context, env, ruleFiles }: PrometheusProps) {
    super(scope, id);
    const spec = SERVICES.prometheus;
    const parameters = ruleParameters(env);
    // Only the rule files whose metrics the environment has (stacks/config/rules.ts).
    const loaded = loadedRuleFiles(env, ruleFiles);
    const rendered = Object.fromEntries(loaded.map((rule) => [rule.name, renderRuleFile(rule, parameters).content]));
    const files = {
      [CONFIG_PATHS.prometheusConfig]: prometheusConfig(env, loaded),
      ...filesIn(CONFIG_PATHS.prometheusRulesDir, rendered),
    };

    this.service = new ServiceContainer(this, "prometheus", {
      context,
      service: spec.hostname,
      image: env.images.prometheus,
      memoryMb: env.memoryMb.prometheus,
      command: prometheusFlags(env),
      user: "65534:65534",
      ports: [{ internal: spec.port, external: env.ports.prometheus }],
      dataPath: spec.dataPath,
      files,
      // Protocol services run on the Docker host; Linux engines only resolve this name when told to.
      extraHosts: { "host.docker.internal": "host-gateway" },
      healthcheck: `wget -q -O /dev/null http://127.0.0.1:${spec.port}/-/ready`,
    });
  }
}

import { TerraformOutput, TerraformStack } from "cdktf";
import { Network } from "@cdktf/provider-docker/lib/network";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import type { Construct } from "constructs";
import type { StackAssets } from "./assets";
import { ENVIRONMENT_LABEL } from "./catalog";
import type { StackContext } from "./container";
import type { Environment } from "./environment";
import { StackImages } from "./images";
import { Secrets } from "./secrets";
import { stateBackend } from "./state-backend";
import { Alertmanager } from "./services/alertmanager";
import { Elasticsearch } from "./services/elasticsearch";
import { Grafana } from "./services/grafana";
import { Kibana } from "./services/kibana";
import { Logstash } from "./services/logstash";
import { NodeExporter } from "./services/node-exporter";
import { Prometheus } from "./services/prometheus";

export interface MonitoringStackProps {
  readonly env: Environment;
  readonly assets: StackAssets;
  /** Terraform state file of this environment when its state is local. */
  readonly statePath: string;
}

/** One environment: provider, state, private network, secrets and the services it enables. */
export class MonitoringStack extends TerraformStack {
  constructor(scope: Construct, { env, assets, statePath }: MonitoringStackProps) {
    super(scope, env.name);
    stateBackend(this, env, statePath);
    new DockerProvider(this, "docker", {
      host: env.docker.host,
      certPath: env.docker.certPath,
      sshOpts: env.docker.sshOpts,
    });

    const network = new Network(this, "network", {
      name: `${env.name}-monitoring`,
      driver: "bridge",
      labels: [{ label: ENVIRONMENT_LABEL, value: env.name }],
    });
    const context: StackContext = {
      environmentName: env.name,
      networkName: network.name,
      bindAddress: env.bindAddress,
      protectData: env.protectData,
      images: new StackImages(this, "images"),
    };
    const secrets = new Secrets(this, "secrets", env);
    const runs = (service: Environment["services"][number]) => env.services.includes(service);
    const url = (name: string, port: number, pathSuffix = "") =>
      new TerraformOutput(this, `${name}_url`, { value: `http://${env.bindAddress}:${port}${pathSuffix}` });

    new Prometheus(this, "prometheus", { context, env, ruleFiles: assets.ruleFiles });
    url("prometheus", env.ports.prometheus);
    if (runs("alertmanager")) {
      new Alertmanager(this, "alertmanager", { context, env, secrets, templates: assets.alertmanagerTemplates });
      url("alertmanager", env.ports.alertmanager);
    }
    if (runs("nodeExporter")) new NodeExporter(this, "node-exporter", { context, env });
    if (runs("grafana")) {
      new Grafana(this, "grafana", { context, env, secrets, dashboards: assets.dashboards });
      url("grafana", env.ports.grafana);
    }
    if (runs("elasticsearch")) {
      const elasticsearch = new Elasticsearch(this, "elasticsearch", {
        context,
        env,
        secrets,
        setupScript: assets.elasticsearchSetupScript,
      });
      const after = [elasticsearch.setup.container];
      if (runs("logstash")) new Logstash(this, "logstash", { context, env, secrets, pipeline: assets.logstashPipeline, after });
      if (runs("kibana")) {
        new Kibana(this, "kibana", { context, env, secrets, after });
        url("kibana", env.ports.kibana);
      }
    }
  }
}

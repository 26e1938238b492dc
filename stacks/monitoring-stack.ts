import { Aspects, TerraformOutput, TerraformStack, type ITerraformDependable } from "cdktf";
import { Network } from "@cdktf/provider-docker/lib/network";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Construct } from "constructs";
import type { StackAssets } from "./assets";
import { publishAddressOf } from "./fleet";
import type { Environment } from "./environment";
import { Hardening } from "./hardening";
import { StackImages } from "./images";
import { ENVIRONMENT_LABEL } from "./labels";
import { Pki } from "./pki";
import { Secrets } from "./secret-variables";
import { fleetAlias, type FleetMember } from "./fleet";
import { runningServices, type Service, type ServiceDescriptor } from "./descriptor";
import type { ServiceContext } from "./service";
import { stateBackend, stateEncryption } from "./state-backend";
import { servesTls } from "./web-config";

export interface MonitoringStackProps {
  readonly env: Environment;
  readonly assets: StackAssets;
  /** Terraform state file of this environment when its state is local. */
  readonly statePath: string;
}

/** One environment: provider, state, private network, secrets and the services it runs. */
export class MonitoringStack extends TerraformStack {
  readonly env: Environment;

  constructor(scope: Construct, { env, assets, statePath }: MonitoringStackProps) {
    super(scope, env.name);
    this.env = env;
    stateBackend(this, env, statePath);
    // Every container of the stack, checked at synth: a violation fails synth naming the container and rule.
    // A fleet host's containers publish on that host's address, the stack's on the bind address.
    const hostAddresses = Object.fromEntries(env.hosts.map((host) => [fleetAlias(host.name), publishAddressOf(host)]));
    Aspects.of(this).add(new Hardening({ bindAddress: env.bindAddress, hostAddresses }));
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
    // One plan shows the whole fleet: each host through a docker provider alias of this stack, with
    // its own private network and images there.
    const fleet: FleetMember[] = env.hosts.map((host) => {
      const scope = new Construct(this, `host-${host.name}`);
      const provider = new DockerProvider(scope, "docker", { alias: fleetAlias(host.name), host: host.docker.host, certPath: host.docker.certPath, sshOpts: host.docker.sshOpts });
      const hostNetwork = new Network(scope, "network", { provider, name: `${env.name}-monitoring`, driver: "bridge", labels: [{ label: ENVIRONMENT_LABEL, value: env.name }] });
      return { host, provider, network: hostNetwork, images: new StackImages(scope, "images", provider) };
    });
    // The environment's CA, only where something is served over TLS.
    const pki = env.hosts.length || env.webAuth.enabled ? new Pki(this, "pki", env.name) : undefined;
    // Not a secret: the certificate clients (a browser, curl, another Prometheus) check the stack's servers against.
    if (pki) new TerraformOutput(this, "ca_pem", { value: pki.caPem });
    const shared = { env, assets, network, pki, fleet, images: new StackImages(this, "images"), secrets: new Secrets(this, "secrets", env) };
    stateEncryption(this, env, shared.secrets);

    // The one place services are composed: each service's build (its folder's build.ts) from one context.
    const ready = new Map<string, readonly ITerraformDependable[]>();
    for (const service of inDependencyOrder(runningServices(env))) {
      const ctx: ServiceContext = { ...shared, service, after: (service.needs ?? []).flatMap((need) => ready.get(need) ?? []) };
      ready.set(service.name, service.build(new Construct(this, service.hostname), ctx).ready);
      if (service.url) new TerraformOutput(this, `${service.name}_url`, { value: `${webScheme(env, service)}://${env.bindAddress}:${env.ports[service.name]}` });
    }
  }
}

/** https for the services webAuth puts behind TLS (their descriptors' webConfig or ownTls), else http. */
function webScheme(env: Environment, service: ServiceDescriptor): string {
  return servesTls(env, service) ? "https" : "http";
}

/** The services in catalog order, but each after the services it needs (the schema made sure they run). */
function inDependencyOrder(services: readonly Service[]): Service[] {
  const ordered: Service[] = [];
  const visit = (service: Service, path: readonly string[]) => {
    if (ordered.includes(service)) return;
    if (path.includes(service.name)) throw new Error(`services need each other in a circle: ${[...path, service.name].join(" → ")}`);
    for (const need of service.needs ?? []) {
      const needed = services.find((s) => s.name === need);
      if (needed) visit(needed, [...path, service.name]);
    }
    ordered.push(service);
  };
  for (const service of services) visit(service, []);
  return ordered;
}

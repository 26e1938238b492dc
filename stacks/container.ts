import { createHash } from "node:crypto";
import * as path from "node:path";
import { Container, type ContainerConfig, type ContainerUpload } from "@cdktf/provider-docker/lib/container";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { allowRoot, allowSecretsInEnvironment } from "./hardening";
import { ENVIRONMENT_LABEL, HEALTHCHECK_LABEL, SERVICE_LABEL } from "./labels";
import type { ServiceContext } from "./service";

export interface ServiceContainerProps {
  /** The environment (name, bind address, data policy), its network and images. */
  readonly ctx: Pick<ServiceContext, "env" | "provider" | "network" | "images">;
  /** Short name: the container is `<environment>-<service>` and answers to it on the network. */
  readonly service: string;
  readonly image: string;
  readonly memoryMb: number;
  /** Healthcheck command, run by Docker inside the container (a `CMD-SHELL` string). */
  readonly healthcheck: string;
  readonly command?: string[];
  readonly entrypoint?: string[];
  /** Environment variables; values may be Terraform references to sensitive variables. */
  readonly env?: Record<string, string>;
  /** Container port → host port, published on the context's bind address unless `ip` says where (TCP unless it says udp). */
  readonly ports?: ReadonlyArray<{ readonly internal: number; readonly external: number; readonly protocol?: "udp"; readonly ip?: string }>;
  /** Mount path of the named data volume `<environment>-<service>-data`. */
  readonly dataPath?: string;
  /** File path in the container → content. Terraform interpolation in content is escaped. */
  readonly files?: Readonly<Record<string, string>>;
  /** Like files, but content is passed to Terraform as is (references to sensitive variables). */
  readonly secretFiles?: Readonly<Record<string, string>>;
  readonly user?: string;
  /** Why it runs as root (the hardening aspect refuses root without a reason). */
  readonly runsAsRoot?: string;
  /** Environment variables that hold a secret, each with why the program cannot read it from a file (the hardening aspect refuses any other). */
  readonly secretsInEnvironment?: Readonly<Record<string, string>>;
  /** Root file system read-only; only for images that need no uploads (docker cp refuses a read-only root). */
  readonly readOnlyRootFs?: boolean;
  readonly extraHosts?: Readonly<Record<string, string>>;
  readonly mounts?: ContainerConfig["mounts"];
  readonly pidMode?: string;
  /** "host": it sees the host's cgroups (cAdvisor); unset: the engine's default. */
  readonly cgroupnsMode?: "host" | "private";
  readonly dependsOn?: ITerraformDependable[];
}

/** Files named relative to a folder (rule files, templates, dashboards) → container paths. */
export function filesIn(directory: string, files: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([name, content]) => [path.posix.join(directory, name), content]));
}

/** Escapes Terraform template syntax so a file's `${…}` and `%{…}` reach the container unchanged. */
export function literalForTerraform(text: string): string {
  // A replacer function, because "$$" in a replacement string means a single "$".
  return text.replace(/[$%]\{/g, (match) => `${match[0]}${match}`);
}

/**
 * A hardened service container with secure defaults: pinned image, restart policy, memory limit,
 * rotated logs, no new privileges, all capabilities dropped, a healthcheck that `apply` waits for,
 * ports on the bind address only, and configs delivered with `upload` so remote hosts work too.
 * The hardening aspect (hardening.ts) checks the result, whoever builds a container.
 */
export class ServiceContainer extends Construct {
  readonly container: Container;
  readonly volume?: Volume;
  readonly name: string;

  constructor(scope: Construct, id: string, props: ServiceContainerProps) {
    super(scope, id);
    const { env, provider, network, images } = props.ctx;
    this.name = `${env.name}-${props.service}`;
    const labels = [
      { label: ENVIRONMENT_LABEL, value: env.name },
      { label: SERVICE_LABEL, value: props.service },
    ];

    if (props.dataPath) {
      this.volume = new Volume(this, "data", {
        name: `${this.name}-data`,
        provider,
        labels,
        lifecycle: { preventDestroy: env.protectData },
      });
    }

    // The plan summary masks secret files by their folder (Terraform marks the whole upload set).
    for (const file of Object.keys(props.secretFiles ?? {})) {
      if (!file.includes("/secrets/")) throw new Error(`${this.name}: secret file ${file} must live in a secrets/ folder`);
    }
    const uploads: ContainerUpload[] = [
      ...Object.entries(props.files ?? {}).map(([file, content]) => ({ file, content: literalForTerraform(content) })),
      ...Object.entries(props.secretFiles ?? {}).map(([file, content]) => ({ file, content, permissions: "0444" })),
    ].sort((a, b) => a.file.localeCompare(b.file));

    // Docker 20.10 runs the first check one interval after the start (no start_interval before
    // API 1.44): the interval is how long a ready service waits to be called healthy, and what its
    // checks cost at rest (npm run bench measures both). A slow start within start_period counts
    // no failure. The provider (3.6.2) plans healthcheck edits as in-place updates it never makes:
    // the label makes a changed healthcheck replace the container instead. Durations are written
    // as the provider reads them back (Go's "2m0s", not "120s"), or every plan shows an update.
    const healthcheck = { test: ["CMD-SHELL", literalForTerraform(props.healthcheck)], interval: "5s", timeout: "5s", retries: 5, startPeriod: "2m0s" };
    const healthcheckLabel = { label: HEALTHCHECK_LABEL, value: createHash("sha256").update(JSON.stringify(healthcheck)).digest("hex").slice(0, 12) };

    this.container = new Container(this, "container", {
      provider,
      name: this.name,
      hostname: props.service,
      image: images.idOf(props.image),
      command: props.command?.map(literalForTerraform),
      entrypoint: props.entrypoint?.map(literalForTerraform),
      env: Object.entries(props.env ?? {}).map(([key, value]) => `${key}=${value}`),
      user: props.user,
      labels: [...labels, healthcheckLabel],
      networksAdvanced: [{ name: network.name, aliases: [props.service] }],
      ports: (props.ports ?? []).map((p) => ({ internal: p.internal, external: p.external, ip: p.ip ?? env.bindAddress, protocol: p.protocol })),
      volumes: this.volume ? [{ volumeName: this.volume.name, containerPath: props.dataPath }] : undefined,
      mounts: props.mounts,
      upload: uploads.length ? uploads : undefined,
      host: Object.entries(props.extraHosts ?? {}).map(([host, ip]) => ({ host, ip })),
      pidMode: props.pidMode,
      cgroupnsMode: props.cgroupnsMode,
      memory: props.memoryMb,
      // No swap beyond the limit: a memory leak is OOM-killed and restarted, not slowed down.
      memorySwap: props.memoryMb,
      restart: "unless-stopped",
      mustRun: true,
      // apply waits for a healthy service (before dependants start), failing when it is not.
      wait: true,
      waitTimeout: 180,
      healthcheck,
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
      // Docker adds label=disable itself to a container in the host's PID namespace; stating it
      // keeps the next plan from seeing a difference and replacing the container.
      securityOpts: props.pidMode === "host" ? ["label=disable", "no-new-privileges:true"] : ["no-new-privileges:true"],
      capabilities: { drop: ["ALL"] },
      readOnly: props.readOnlyRootFs,
      tmpfs: props.readOnlyRootFs ? { "/tmp": "rw,noexec,nosuid,size=16m" } : undefined,
      destroyGraceSeconds: 30,
      dependsOn: props.dependsOn,
    });
    if (props.runsAsRoot) allowRoot(this.container, props.runsAsRoot);
    if (props.secretsInEnvironment) allowSecretsInEnvironment(this.container, props.secretsInEnvironment);
  }

  /** What a service that needs this one waits for: the container, healthy (`wait`). */
  get ready(): ITerraformDependable[] {
    return [this.container];
  }
}

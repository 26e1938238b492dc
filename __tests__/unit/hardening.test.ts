import { Aspects, TerraformStack, Testing } from "cdktf";
import { Container, type ContainerConfig } from "@cdktf/provider-docker/lib/container";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { allowRoot, allowSecretsInEnvironment, Hardening, HARDENING_RULES, HardeningError } from "../../stacks/hardening";
import { testApp } from "../helpers/synth";

/** A container that keeps every rule. */
const COMPLIANT: ContainerConfig = {
  name: "t-compliant",
  image: "busybox:1.36",
  user: "65534:65534",
  capabilities: { drop: ["ALL"] },
  securityOpts: ["no-new-privileges:true"],
  memory: 64,
  memorySwap: 64,
  healthcheck: { test: ["CMD-SHELL", "true"] },
  restart: "unless-stopped",
  logDriver: "json-file",
  logOpts: { "max-size": "10m", "max-file": "3" },
  ports: [{ internal: 80, external: 8080, ip: "127.0.0.1" }],
};

type Variant = { readonly config?: Partial<ContainerConfig>; readonly tweak?: (container: Container) => void };

function synthWith(...variants: Variant[]): string {
  return synthOn("127.0.0.1", ...variants);
}

function synthOn(bindAddress: string, ...variants: Variant[]): string {
  const stack = new TerraformStack(testApp(), "hardening");
  new DockerProvider(stack, "docker", {});
  Aspects.of(stack).add(new Hardening({ bindAddress }));
  variants.forEach((variant, i) => {
    const container = new Container(stack, `c${i}`, { ...COMPLIANT, name: `t-${i}`, ...variant.config });
    variant.tweak?.(container);
  });
  return Testing.synth(stack);
}

/** For each rule, containers that break it and nothing else, by what they do. */
const BREAKS: Readonly<Record<string, Readonly<Record<string, Variant>>>> = {
  "capabilities-dropped": {
    "no capabilities block": { config: { capabilities: undefined } },
    "drops some, not ALL": { config: { capabilities: { drop: ["NET_RAW"] } } },
    "drops ALL but adds one back": { config: { capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] } } },
  },
  "no-new-privileges": {
    "no security_opts": { config: { securityOpts: undefined } },
    "other security_opts only": { config: { securityOpts: ["label=disable"] } },
  },
  "not-privileged": {
    privileged: { config: { privileged: true } },
    // An escape hatch is checked too: the aspect reads the JSON Terraform gets.
    "privileged through an override": { tweak: (c) => c.addOverride("privileged", true) },
  },
  "memory-limit": {
    "no limit": { config: { memory: undefined, memorySwap: undefined } },
    "swap beyond the limit": { config: { memorySwap: 128 } },
    "swap unset (Docker doubles the limit)": { config: { memorySwap: undefined } },
  },
  healthcheck: {
    "no healthcheck": { config: { healthcheck: undefined } },
    "healthcheck NONE": { config: { healthcheck: { test: ["NONE"] } } },
  },
  "restart-policy": {
    "no restart policy": { config: { restart: undefined } },
    "restart no": { config: { restart: "no" } },
  },
  "log-rotation": {
    "another log driver": { config: { logDriver: "syslog" } },
    "no max-file": { config: { logOpts: { "max-size": "10m" } } },
    "the engine's default logging": { config: { logDriver: undefined, logOpts: undefined } },
  },
  "bind-address": {
    "a port on every address (no ip)": { config: { ports: [{ internal: 80, external: 8080 }] } },
    "a port on 0.0.0.0": { config: { ports: [{ internal: 80, external: 8080, ip: "0.0.0.0" }] } },
  },
  "non-root": {
    "no user (the image's)": { config: { user: undefined } },
    "user root": { config: { user: "root" } },
    "uid 0 with a group": { config: { user: "0:0" } },
    "uid 0": { config: { user: "0" } },
  },
  "secrets-in-files": {
    "a password in the environment": { config: { env: ["LOG_LEVEL=info", "DB_PASSWORD=${var.db_password}"] } },
    "a value derived from a secret": { config: { env: ["KEY=${sha256(\"x:${var.encryption_key}\")}"] } },
    "another variable than the one explained": { config: { env: ["A=${var.a}", "B=${var.b}"] }, tweak: (c) => allowSecretsInEnvironment(c, { A: "reads A only from its environment" }) },
    "a password on the command line": { config: { command: ["--password=${var.pw}"] } },
    "a password in the healthcheck": { config: { healthcheck: { test: ["CMD-SHELL", "curl -u admin:${var.pw} http://127.0.0.1/"] } } },
    "a password in a label": { config: { labels: [{ label: "pw", value: "${var.pw}" }] } },
  },
};

function failure(variant: Variant): string {
  try {
    synthWith(variant);
  } catch (error) {
    if (error instanceof HardeningError) return error.message;
    throw error;
  }
  throw new Error("synth passed");
}

describe("the hardening aspect", () => {
  it("passes a compliant container, and one with no ports at all", () => {
    expect(() => synthWith({}, { config: { ports: undefined } })).not.toThrow();
  });

  it("has a breaking case for every rule", () => {
    expect(Object.keys(BREAKS).sort()).toEqual(HARDENING_RULES.map((rule) => rule.name).sort());
  });

  describe.each(Object.entries(BREAKS))("%s", (rule, variants) => {
    it.each(Object.entries(variants))("fails synth for a container with %s, naming the container and the rule", (_, variant) => {
      const message = failure(variant);
      expect(message).toContain(`t-0 (docker_container.c0): ${rule}: `);
      // Only this rule is broken.
      const broken = HARDENING_RULES.filter((r) => message.includes(`: ${r.name}: `)).map((r) => r.name);
      expect(broken).toEqual([rule]);
    });
  });

  it("lets a port beside the bind address be published on loopback, which is narrower, and no other address", () => {
    const ports = (ip: string) => ({ config: { ports: [{ internal: 80, external: 8080, ip: "10.0.0.5" }, { internal: 81, external: 8080, ip, protocol: "udp" }] } });
    expect(() => synthOn("10.0.0.5", ports("127.0.0.1"))).not.toThrow();
    expect(() => synthOn("10.0.0.5", ports("10.0.0.6"))).toThrow("bind-address: ports must be published on 10.0.0.5 only (has 10.0.0.6:8080)");
  });

  it("lets a container run as root when it says why", () => {
    expect(() => synthWith({ config: { user: "0:0" }, tweak: (c) => allowRoot(c, "binds port 80 inside the container") })).not.toThrow();
    expect(() => allowRoot(new Container(new TerraformStack(testApp(), "s"), "c", COMPLIANT), " ")).toThrow(/needs a reason/);
  });

  it("lets a container keep a secret in its environment when it says why, and a file path is no secret", () => {
    expect(() => synthWith({ config: { env: ["PW=${var.pw}"] }, tweak: (c) => allowSecretsInEnvironment(c, { PW: "the program reads PW from its environment only" }) })).not.toThrow();
    expect(() => synthWith({ config: { env: ["PW_FILE=/etc/app/secrets/pw", "LEVEL=info"] } })).not.toThrow();
    expect(() => allowSecretsInEnvironment(new Container(new TerraformStack(testApp(), "s"), "c", COMPLIANT), { PW: " " })).toThrow(/secretsInEnvironment\.PW needs a reason/);
  });

  it("names every container and every rule at once", () => {
    let message = "";
    try {
      synthWith({ config: { restart: "always" } }, {}, { config: { user: undefined, privileged: true } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split("\n")).toEqual([
      "hardening: containers break the hardening policy (stacks/hardening.ts):",
      expect.stringMatching(/^ {2}t-0 \(docker_container\.c0\): restart-policy: /),
      expect.stringMatching(/^ {2}t-2 \(docker_container\.c2\): not-privileged: /),
      expect.stringMatching(/^ {2}t-2 \(docker_container\.c2\): non-root: /),
    ]);
  });
});

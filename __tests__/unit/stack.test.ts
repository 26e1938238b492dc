import { Aspects } from "cdktf";
import type { EnvironmentFile } from "../../stacks/environment";
import { Hardening } from "../../stacks/hardening";
import { isPublished } from "../../stacks/descriptor";
import { SERVICES, serviceNamed } from "../../stacks/services";
import { buildStack, CONFIG_PATHS, containerNamed, containers, imageOf, environment, shippedEnvironment, SHIPPED_ENVIRONMENTS, synth } from "../helpers/synth";

/** Logstash's GELF input (UDP), published on the same host port number as its TCP input. */
const LOGSTASH_GELF_PORT = 12201;

describe.each(SHIPPED_ENVIRONMENTS)("the shipped %s environment", (name) => {
  const env = shippedEnvironment(name);
  const stack = synth(env);
  const all = containers(stack);
  const services = all.filter((c) => !c.name.endsWith("-elasticsearch-setup"));
  const runs = (service: string) => env.services.includes(service);
  const hostnames = env.services.map((s) => serviceNamed(s).hostname);

  it("runs the services it lists, plus the Elasticsearch setup job where Elasticsearch runs", () => {
    expect(services.map((c) => c.name).sort()).toEqual(hostnames.map((s) => `${name}-${s}`).sort());
    expect(all.some((c) => c.name === `${name}-elasticsearch-setup`)).toBe(runs("elasticsearch"));
  });

  // Restart policy, memory limit without extra swap, healthcheck, log rotation, no new privileges,
  // capabilities dropped, ports on the bind address only, a non-root user: the hardening aspect
  // checks every container at synth (hardening.test.ts shows each rule failing), so a stack that
  // synthesizes has them all.
  it("is hardened: the hardening aspect checks its containers at synth", () => {
    expect(Aspects.of(buildStack(env)).all.filter((aspect) => aspect instanceof Hardening)).toHaveLength(1);
  });

  // The provider reads healthcheck durations back in Go's form ("2m0s"); any other spelling of
  // the same duration ("120s") makes every later plan show an update of every container.
  it("writes each healthcheck duration as the provider reads it back", () => {
    const goDuration = (text: string) => {
      const total = [...text.matchAll(/(\d+)(h|m|s)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * { h: 3600, m: 60, s: 1 }[unit as "h" | "m" | "s"], 0);
      const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
      return h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
    };
    for (const c of all) {
      const { interval, timeout, start_period } = c.healthcheck as Record<string, string>;
      for (const duration of [interval, timeout, start_period]) expect(duration).toBe(goDuration(duration));
    }
  });

  it.each(hostnames)("pins %s's image and puts it on the private network", (service) => {
    const c = containerNamed(stack, `${name}-${service}`);
    const image = imageOf(stack, c);
    expect(image.name).toMatch(/:[^:/]+$/);
    expect(image.name).not.toMatch(/:latest$/);
    expect(image.keep_locally).toBe(true);
    expect(c.networks_advanced).toEqual([{ name: "${docker_network.network.name}", aliases: [service] }]);
  });

  it("publishes on the environment's ports", () => {
    expect(env.bindAddress).toBe("127.0.0.1");
    expect(containerNamed(stack, `${name}-node-exporter`).ports ?? []).toEqual([]);
    for (const service of SERVICES.filter(isPublished).map((s) => s.name).filter(runs)) {
      const c = containerNamed(stack, `${name}-${serviceNamed(service).hostname}`);
      const gelf = service === "logstash" ? [{ internal: LOGSTASH_GELF_PORT, external: env.ports.logstash, ip: "127.0.0.1", protocol: "udp" }] : [];
      expect(c.ports).toEqual([{ internal: serviceNamed(service).port, external: env.ports[service], ip: "127.0.0.1" }, ...gelf]);
    }
  });

  it("attaches a named data volume to each service that keeps data", () => {
    const volumes = Object.values(stack.resource.docker_volume) as { name: string; lifecycle?: { prevent_destroy: boolean } }[];
    const keepers = (["prometheus", "grafana", "alertmanager", "elasticsearch"] as const).filter(runs);
    expect(volumes.map((v) => v.name).sort()).toEqual(keepers.map((s) => `${name}-${s}-data`).sort());
    for (const service of keepers) {
      const c = containerNamed(stack, `${name}-${service}`);
      expect(c.volumes).toEqual([{ volume_name: expect.stringContaining("docker_volume."), container_path: serviceNamed(service).dataPath }]);
    }
    for (const v of volumes) expect(v.lifecycle?.prevent_destroy).toBe(env.protectData);
  });

  it("uploads each config where the image reads it", () => {
    const files = (service: string) => (containerNamed(stack, `${name}-${service}`).upload ?? []).map((u) => u.file);
    expect(files("prometheus")).toEqual(
      expect.arrayContaining([CONFIG_PATHS.prometheusConfig, `${CONFIG_PATHS.prometheusRulesDir}/registry.rules.yml`, `${CONFIG_PATHS.prometheusRulesDir}/stack.rules.yml`]),
    );
    if (runs("alertmanager")) {
      expect(files("alertmanager")).toEqual(expect.arrayContaining([CONFIG_PATHS.alertmanagerConfig, `${CONFIG_PATHS.alertmanagerTemplatesDir}/protocol.tmpl`]));
    }
    if (runs("grafana")) {
      expect(files("grafana")).toEqual(
        expect.arrayContaining([CONFIG_PATHS.grafanaDatasources, CONFIG_PATHS.grafanaDashboardProvider, `${CONFIG_PATHS.grafanaDashboardsDir}/protocol-overview.json`]),
      );
    }
    if (runs("logstash")) expect(files("logstash")).toEqual([CONFIG_PATHS.logstashPipeline]);
    if (runs("elasticsearch")) expect(files("elasticsearch-setup").filter((file) => !file.includes("/secrets/"))).toEqual([CONFIG_PATHS.elasticsearchSetupScript]);
  });

  it("keeps its state in its own backend and outputs the UI URLs", () => {
    if (env.state.backend === "local") expect(stack.terraform.backend).toEqual({ local: { path: `/state/${name}.tfstate` } });
    else expect(Object.keys(stack.terraform.backend)).toEqual([env.state.backend]);
    const withUi = (["prometheus", "alertmanager", "grafana", "kibana"] as const).filter(runs);
    expect(Object.keys(stack.output).sort()).toEqual(withUi.map((s) => `${s}_url`).sort());
    for (const service of withUi) expect(stack.output[`${service}_url`].value).toBe(`http://127.0.0.1:${env.ports[service]}`);
  });
});

describe("hardening and wiring", () => {
  const stack = synth(shippedEnvironment("dev"));

  it("lets Prometheus reach services on the Docker host", () => {
    expect(containerNamed(stack, "dev-prometheus").host).toEqual([{ host: "host.docker.internal", ip: "host-gateway" }]);
  });

  it("makes Node Exporter report the host read-only without exposing it", () => {
    const c = containerNamed(stack, "dev-node-exporter");
    expect(c.command).toEqual(expect.arrayContaining(["--path.rootfs=/host/root", "--path.procfs=/host/proc", "--path.sysfs=/host/sys"]));
    expect(c.mounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: "/", target: "/host/root", read_only: true }),
        expect.objectContaining({ source: "/proc", target: "/host/proc", read_only: true }),
        expect.objectContaining({ source: "/sys", target: "/host/sys", read_only: true }),
      ]),
    );
    expect(c.pid_mode).toBe("host");
    expect(c.network_mode).toBeUndefined();
    expect(c.read_only).toBe(true);
  });

  it("starts the Elasticsearch setup, Kibana and Logstash with Elasticsearch, and waits for each to be healthy", () => {
    const setup = containerNamed(stack, "dev-elasticsearch-setup");
    // Healthy only once setup.sh finished: apply fails when the setup fails.
    expect(setup).toMatchObject({ wait: true, healthcheck: { test: ["CMD-SHELL", "test -f /tmp/es-setup.done"] } });
    // No serial chain of health waits: each retries its own connection (setup.sh waits for
    // Elasticsearch; Kibana and Logstash retry their logins and are unhealthy until they work).
    for (const service of ["elasticsearch-setup", "kibana", "logstash"]) {
      expect(containerNamed(stack, `dev-${service}`)).toMatchObject({ wait: true });
      expect(containerNamed(stack, `dev-${service}`).depends_on).toBeUndefined();
    }
  });

  it("gives Kibana kibana_system credentials and fixed encryption keys, never elastic", () => {
    const env = containerNamed(stack, "dev-kibana").env as string[];
    expect(env).toContain("ELASTICSEARCH_USERNAME=kibana_system");
    expect(env).toContain("ELASTICSEARCH_PASSWORD=${var.kibana_system_password}");
    for (const key of ["XPACK_SECURITY_ENCRYPTIONKEY", "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY", "XPACK_REPORTING_ENCRYPTIONKEY"]) {
      expect(env.find((e) => e.startsWith(`${key}=`))).toMatch(/sha256\(.*var\.kibana_encryption_key/);
    }
    expect(env.join("\n")).not.toMatch(/elastic_password/);
  });

  it("leaves out ELK, its secrets and its ports when the environment switches it off", () => {
    const small = synth(environment({ services: ["prometheus", "alertmanager", "nodeExporter", "grafana"] }));
    expect(containers(small).map((c) => c.name).sort()).toEqual(["unit-alertmanager", "unit-grafana", "unit-node-exporter", "unit-prometheus"]);
    expect(Object.keys(small.variable)).toEqual(["grafana_admin_password"]);
  });
});

describe("state backends", () => {
  const backendOf = (state: EnvironmentFile["state"]) => synth(environment({ services: ["prometheus"], state })).terraform.backend as Record<string, Record<string, unknown>>;

  it("keeps state in a local file by default", () => {
    expect(backendOf(undefined)).toEqual({ local: { path: "/state/unit.tfstate" } });
  });

  it("keeps a pg backend's connection string out of the JSON (the engine reads PG_CONN_STR)", () => {
    expect(backendOf({ backend: "pg" })).toEqual({ pg: { schema_name: "protocol_monitoring_unit" } });
    expect(backendOf({ backend: "pg", schema: "team_state" })).toEqual({ pg: { schema_name: "team_state" } });
  });

  it("locks an s3 backend with a lock file, path-style for S3-compatible stores", () => {
    expect(backendOf({ backend: "s3", bucket: "pm-state", region: "eu-central-1" })).toEqual({
      s3: { bucket: "pm-state", key: "protocol-monitoring/unit.tfstate", region: "eu-central-1", encrypt: true, use_lockfile: true },
    });
    expect(backendOf({ backend: "s3", bucket: "pm-state", region: "eu-central-1", endpoint: "https://minio.internal:9000", keyPrefix: "" })).toEqual({
      s3: { bucket: "pm-state", key: "unit.tfstate", region: "eu-central-1", encrypt: true, use_lockfile: true, endpoints: { s3: "https://minio.internal:9000" }, use_path_style: true },
    });
  });
});

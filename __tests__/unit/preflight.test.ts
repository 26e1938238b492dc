import { SECRET_NAMES } from "../../stacks/secrets";
import { SERVICES, serviceNamed } from "../../stacks/services";
import { chooseDefault, imagesOf, localBuild, preflight, type DockerHost, type ImageState } from "../../scripts/preflight";
import { deployReport } from "../../scripts/report";
import { environment, shippedEnvironment } from "../helpers/synth";

/** A Docker host that knows exactly these images; every other pull fails like a machine without a registry. */
function host(known: Record<string, ImageState>, problem?: string): DockerHost & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    problem: async () => problem,
    image: async (reference: string): Promise<ImageState> => {
      asked.push(reference);
      return known[reference] ?? { missing: "lookup registry-1.docker.io: no such host" };
    },
  };
}

const allSecrets = Object.fromEntries(SECRET_NAMES.map((n) => [`TF_VAR_${n}`, "x".repeat(40)]));

describe("preflight", () => {
  const dev = shippedEnvironment("dev");
  const local = shippedEnvironment("local");

  it("passes when every image is on the host or pulled and every secret is set", async () => {
    const known = Object.fromEntries(imagesOf(dev).map((ref, i): [string, ImageState] => [ref, i % 2 ? "present" : "pulled"]));
    expect(await preflight(dev, host(known), { variables: allSecrets })).toEqual({ localBuilds: [], problems: [] });
  });

  it("names every image that cannot be pulled, grouped by reason, and the command that works instead", async () => {
    const { problems } = await preflight(dev, host({}), { variables: allSecrets });
    expect(problems).toHaveLength(2);
    for (const service of SERVICES) expect(problems[0]).toContain(service.image);
    expect(problems[0]).toContain("lookup registry-1.docker.io: no such host");
    expect(problems[1]).toContain('run `npm run deploy` with no environment: it deploys the offline default "local"');
  });

  it("names every missing secret at once", async () => {
    const known = Object.fromEntries(imagesOf(dev).map((ref): [string, ImageState] => [ref, "present"]));
    const { problems } = await preflight(dev, host(known), { variables: { TF_VAR_elastic_password: "set" } });
    expect(problems).toEqual([
      "secret TF_VAR_grafana_admin_password is not set (Grafana admin password)",
      "secret TF_VAR_logstash_writer_password is not set (Elasticsearch logstash_writer password)",
      "secret TF_VAR_kibana_system_password is not set (Elasticsearch kibana_system password)",
      "secret TF_VAR_grafana_es_password is not set (Elasticsearch grafana_reader password)",
      "secret TF_VAR_elasticsearch_monitor_password is not set (Elasticsearch prometheus_monitor password (cluster monitor only: the exporter and the probes))",
      "secret TF_VAR_kibana_encryption_key is not set (Kibana encryption key)",
    ]);
  });

  it("refuses stand-in images unless a test allows them", async () => {
    // Stand-ins share the local images' repository but are no build of a program: known by their label.
    expect(localBuild("protocol-monitoring-local/grafana:standin")).toBeUndefined();
    const standin = environment({ services: ["prometheus"], images: { prometheus: "protocol-monitoring-local/grafana:standin" } });
    const probe = host({ "protocol-monitoring-local/grafana:standin": "standin" });
    expect((await preflight(standin, probe, { variables: {} })).problems).toEqual([expect.stringContaining("is a stand-in (a test double)")]);
    expect((await preflight(standin, probe, { variables: {}, allowStandins: true })).problems).toEqual([]);
  });

  it("builds the offline default's images locally, at the catalog's versions, and never asks a registry", async () => {
    const probe = host({});
    expect(await preflight(local, probe, { variables: {} })).toEqual({ localBuilds: ["alertmanager", "blackbox", "cadvisor", "node-exporter", "prometheus"], problems: [] });
    expect(probe.asked).toEqual([]);
    for (const service of local.services) {
      expect(local.images[service].split(":").pop()).toBe(serviceNamed(service).image.split(":").pop());
    }
    const stale = environment({ services: ["prometheus"], images: { prometheus: "protocol-monitoring-local/prometheus:v2.0.0" } });
    expect((await preflight(stale, probe, { variables: {} })).problems).toEqual([
      `protocol-monitoring-local/prometheus:v2.0.0: the local build of prometheus is tagged ${serviceNamed("prometheus").image.split(":").pop()}, the version the catalog pins`,
    ]);
  });

  it("names a Docker host that does not answer, once, and asks it nothing more", async () => {
    const unreachable = host({}, "the Docker host tcp://10.9.9.9:2376 cannot be reached: connection refused");
    expect(await preflight(dev, unreachable, { variables: allSecrets })).toEqual({
      localBuilds: [],
      problems: ["the Docker host tcp://10.9.9.9:2376 cannot be reached: connection refused"],
    });
    expect(unreachable.asked).toEqual([]);
  });

  it("checks only the file and the secrets for destroy and diff", async () => {
    const probe = host({});
    expect(await preflight(dev, probe, { variables: allSecrets, images: false })).toEqual({ localBuilds: [], problems: [] });
    expect(probe.asked).toEqual([]);
  });
});

describe("the default environment", () => {
  const dev = shippedEnvironment("dev");

  it("is dev where its images can be had", async () => {
    const known = Object.fromEntries(imagesOf(dev).map((ref): [string, ImageState] => [ref, "pulled"]));
    expect(await chooseDefault(dev, host(known))).toEqual({ name: "dev" });
  });

  it("is the offline default where they cannot, with the reason", async () => {
    expect(await chooseDefault(dev, host({}))).toEqual({ name: "local", reason: expect.stringContaining('the images of "dev" cannot be pulled here (10 missing') });
  });
});

describe("the deploy report", () => {
  it("says what runs where, what the offline default leaves out, and why", () => {
    const report = deployReport(shippedEnvironment("local"), { prometheus_url: "http://127.0.0.1:29090", alertmanager_url: "http://127.0.0.1:29093" });
    expect(report).toContain("local is running: Prometheus http://127.0.0.1:29090, Node Exporter, Alertmanager http://127.0.0.1:29093, Blackbox exporter, cAdvisor.");
    expect(report).toContain("Left out: Grafana, Elasticsearch, Logstash, Kibana; they have no local build");
    expect(report).toContain("Left out with them: Elasticsearch exporter (it needs Elasticsearch).");
    expect(report).toContain("npm run destroy -- local");
  });

  it("leaves nothing out for dev", () => {
    expect(deployReport(shippedEnvironment("dev"), {})).not.toContain("Left out");
  });
});

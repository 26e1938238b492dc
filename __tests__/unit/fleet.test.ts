import { parse } from "yaml";
import { EnvironmentError, type EnvironmentFile, parseEnvironment } from "../../stacks/environment";
import { Hardening, HardeningError } from "../../stacks/hardening";
import { Aspects, Testing } from "cdktf";
import { Container } from "@cdktf/provider-docker/lib/container";
import { requiredSecrets } from "../../stacks/secrets";
import { preflight, type DockerHost } from "../../scripts/preflight";
import { buildStack, CONFIG_PATHS, containerNamed, synth, uploadedFile, type SynthesizedStack } from "../helpers/synth";
import { defineService, withBuild } from "../../stacks/descriptor";
import { SERVICES } from "../../stacks/services";
import { LOGSTASH_PIPELINE, logstashPipeline } from "../../stacks/services/logstash";

/** A fleet of hosts (hosts:), webAuth (Prometheus and Alertmanager behind HTTPS and basic auth), at synth. */

const TWO_HOSTS: EnvironmentFile["hosts"] = [
  { name: "db-1", docker: { host: "tcp://10.0.0.5:2376", certPath: "/certs/db-1" }, address: "10.0.0.5" },
  { name: "edge", docker: { host: "ssh://deploy@edge.example", sshOpts: ["-o", "ConnectTimeout=5"] }, address: "edge.example", publishAddress: "192.0.2.7", port: 9200 },
];

const fleetEnv = (overrides: Partial<EnvironmentFile> = {}) => parseEnvironment({ name: "fleet", services: ["prometheus", "nodeExporter", "alertmanager"], hosts: TWO_HOSTS, ...overrides }, "fleet-test", SERVICES);

function problems(overrides: Partial<EnvironmentFile>): string {
  try {
    parseEnvironment({ name: "bad", ...overrides }, "bad-test", SERVICES);
  } catch (error) {
    if (error instanceof EnvironmentError) return error.message;
    throw error;
  }
  throw new Error("the environment was accepted");
}

type Json = SynthesizedStack & { provider: { docker: { alias?: string; host: string; cert_path?: string; ssh_opts?: string[] }[]; tls?: unknown[] } };

describe("hosts: in the environment file", () => {
  it("fills a host's defaults: the exporter port, no publishAddress (its address), no opt-in to every interface", () => {
    expect(fleetEnv().hosts[0]).toEqual({ ...TWO_HOSTS[0], port: 9100, exposeOnAllInterfaces: false });
  });

  it("names each problem with its field", () => {
    const host = { name: "a", docker: { host: "tcp://10.0.0.1:2376", certPath: "/c" }, address: "10.0.0.1" };
    const services = ["prometheus", "nodeExporter"];
    expect(problems({ services, hosts: [host, { ...host, docker: { host: "tcp://10.0.0.2:2376", certPath: "/c" }, address: "10.0.0.2" }] })).toContain('hosts[1].name: duplicates host name "a" of hosts[0]');
    expect(problems({ services, hosts: [{ ...host, address: undefined } as never] })).toContain("hosts[0].address: is required: the IP address or DNS name Prometheus reaches this host's exporter on");
    expect(problems({ services, hosts: [{ ...host, address: "not an address!" }] })).toContain("hosts[0].address: must be an IP address or a DNS name");
    expect(problems({ services, hosts: [{ ...host, address: "0.0.0.0" }] })).toContain("hosts[0].address: 0.0.0.0 is not an address Prometheus can reach");
    expect(problems({ services, hosts: [{ ...host, address: "127.0.0.1" }] })).toContain("hosts[0].address: 127.0.0.1 is a loopback address");
    expect(problems({ services, hosts: [{ ...host, publishAddress: "0.0.0.0" }] })).toContain("hosts[0].publishAddress: 0.0.0.0 publishes the exporter on every interface of a: give one IP, or set exposeOnAllInterfaces: true");
    expect(problems({ services, hosts: [{ ...host, address: "a.example" }] })).toContain("hosts[0].publishAddress: is required when address is a DNS name (a.example)");
    expect(problems({ services, hosts: [{ ...host, docker: { host: "tcp://10.0.0.1:2375" } }] })).toContain("hosts[0].docker.certPath: is required for a tcp:// Docker API: TLS");
    expect(problems({ services, hosts: [{ ...host, docker: { host: "ssh://a", sshOpts: ["-v"], certPath: "/c" } }] })).toContain("hosts[0].docker.certPath: is only for a tcp:// Docker API");
    expect(problems({ services, hosts: [{ ...host, docker: { host: "unix:///var/run/docker.sock" } }] })).toContain("hosts[0].docker.host: unix:///var/run/docker.sock is the stack's own Docker host (docker.host)");
    expect(problems({ services, hosts: [host, { ...host, name: "b" }] })).toContain("hosts[1].docker.host: tcp://10.0.0.1:2376 is also hosts[0]'s Docker host");
    expect(problems({ services, docker: { name: "a" }, hosts: [host] })).toContain(`hosts[0].name: duplicates host name "a" of the stack's own Docker host (docker:)`);
    expect(problems({ services: ["prometheus"], hosts: [host] })).toContain("services: must include nodeExporter: hosts: deploys a Node Exporter to each host");
    expect(problems({ services, hosts: [{ ...host, extra: 1 } as never] })).toContain("hosts[0]");
  });

  it("takes every interface only when asked to", () => {
    const env = fleetEnv({ hosts: [{ ...TWO_HOSTS[0], publishAddress: "0.0.0.0", exposeOnAllInterfaces: true }] });
    expect(env.hosts[0].publishAddress).toBe("0.0.0.0");
  });
});

describe("a fleet at synth", () => {
  const env = fleetEnv();
  const json = synth(env) as Json;

  it("deploys to every host through a provider alias of its own, in the same stack (one plan shows the whole fleet)", () => {
    expect(json.provider.docker.map((p) => [p.alias, p.host, p.cert_path, p.ssh_opts])).toEqual([
      [undefined, "unix:///var/run/docker.sock", undefined, undefined],
      ["fleet-db-1", "tcp://10.0.0.5:2376", "/certs/db-1", undefined],
      ["fleet-edge", "ssh://deploy@edge.example", undefined, ["-o", "ConnectTimeout=5"]],
    ]);
    for (const host of ["db-1", "edge"]) {
      const provider = `docker.fleet-${host}`;
      expect(Object.values(json.resource.docker_network).filter((n) => n.provider === provider).map((n) => n.name)).toEqual(["fleet-monitoring"]);
      expect(Object.values(json.resource.docker_image).filter((i) => i.provider === provider).map((i) => i.name)).toEqual(["prom/node-exporter:v1.12.1"]);
      expect(containerNamed(json, `fleet-node-exporter-${host}`).provider).toBe(provider);
    }
  });

  it("publishes each host's exporter on its address, serving HTTPS with basic auth from the CA in state and the hash", () => {
    const dbExporter = containerNamed(json, "fleet-node-exporter-db-1");
    expect(dbExporter.ports).toEqual([{ internal: 9100, external: 9100, ip: "10.0.0.5" }]);
    expect(containerNamed(json, "fleet-node-exporter-edge").ports).toEqual([{ internal: 9100, external: 9200, ip: "192.0.2.7" }]);
    expect(dbExporter.command).toContain("--web.config.file=/etc/node-exporter/secrets/web.yml");
    expect(uploadedFile(dbExporter, "/etc/node-exporter/secrets/web.yml")).toContain('basic_auth_users:\n  prometheus: "${var.fleet_scrape_password_bcrypt}"');
    expect(uploadedFile(dbExporter, "/etc/node-exporter/secrets/tls.key")).toMatch(/^\$\{tls_private_key\.pki_node-exporter-db-1_key_\w+\.private_key_pem\}$/);
    // The host holds the hash only: never the password.
    expect(JSON.stringify(dbExporter)).not.toContain("var.fleet_scrape_password}");
    // The certificate names what Prometheus dials.
    const requests = Object.values(json.resource.tls_cert_request) as { ip_addresses?: string[]; dns_names?: string[] }[];
    expect(requests.map((r) => [r.dns_names, r.ip_addresses])).toEqual(expect.arrayContaining([[[], ["10.0.0.5"]], [["edge.example"], ["192.0.2.7"]]]));
    // The stack host's own exporter is as before: private network, nothing published, no TLS.
    expect(containerNamed(json, "fleet-node-exporter").ports ?? []).toEqual([]);
  });

  it("scrapes every host as job node with its name as instance and host, over HTTPS with the CA and a password file", () => {
    const prometheus = containerNamed(json, "fleet-prometheus");
    const config = parse(uploadedFile(prometheus, CONFIG_PATHS.prometheusConfig)) as { scrape_configs: Record<string, unknown>[] };
    const node = config.scrape_configs.find((job) => job.job_name === "node");
    expect(node?.static_configs).toEqual([{ targets: ["node-exporter:9100"], labels: { host: "stack" } }]);
    expect(config.scrape_configs.find((job) => job.job_name === "node_fleet")).toEqual({
      job_name: "node_fleet",
      scheme: "https",
      tls_config: { ca_file: "/etc/prometheus/secrets/ca.pem" },
      basic_auth: { username: "prometheus", password_file: "/etc/prometheus/secrets/fleet_scrape_password" },
      static_configs: [
        { targets: ["10.0.0.5:9100"], labels: { instance: "db-1", host: "db-1" } },
        { targets: ["edge.example:9200"], labels: { instance: "edge", host: "edge" } },
      ],
      relabel_configs: [{ target_label: "job", replacement: "node" }],
    });
    expect(uploadedFile(prometheus, "/etc/prometheus/secrets/fleet_scrape_password")).toBe("${var.fleet_scrape_password}");
    expect(uploadedFile(prometheus, "/etc/prometheus/secrets/ca.pem")).toMatch(/^\$\{tls_self_signed_cert\.pki_ca_\w+\.cert_pem\}$/);
  });

  it("takes the scrape password and its hash as sensitive variables; the hash is checked to be bcrypt", () => {
    expect(requiredSecrets(env)).toContain("fleet_scrape_password");
    expect(json.variable.fleet_scrape_password).toMatchObject({ sensitive: true, nullable: false });
    expect(json.variable.fleet_scrape_password_bcrypt).toMatchObject({ sensitive: true, nullable: false });
    const validation = (json.variable.fleet_scrape_password_bcrypt.validation as { condition: string }[])[0].condition;
    expect(validation).toBe('${can(regex("^\\\\$2[aby]\\\\$[0-9]{2}\\\\$[./A-Za-z0-9]{53}$", var.fleet_scrape_password_bcrypt))}');
  });

  it("keeps the bind-address rule: a fleet host's containers publish on its address only", () => {
    const stack = buildStack(env);
    expect(Aspects.of(stack).all.some((aspect) => aspect instanceof Hardening)).toBe(true);
    // The same container, published elsewhere on that host: refused, naming it and the rule.
    const moved = buildStack(env);
    const container = moved.node.findAll().find((c): c is Container => c instanceof Container && c.nameInput === "fleet-node-exporter-db-1") as Container;
    container.addOverride("ports", [{ internal: 9100, external: 9100, ip: "0.0.0.0" }]);
    let error: unknown;
    try {
      Testing.synth(moved);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HardeningError);
    expect((error as Error).message).toMatch(/fleet-node-exporter-db-1 \(docker_container\.[\w-]+\): bind-address: ports must be published on 10\.0\.0\.5 only \(has 0\.0\.0\.0:9100\)/);
  });
});

describe("webAuth: the stack's own UIs", () => {
  it("refuses a bind address beyond this machine without webAuth, naming the field and each service it would publish", () => {
    expect(problems({ bindAddress: "0.0.0.0" })).toContain(
      "bindAddress: 0.0.0.0 would publish Prometheus, Alertmanager, Grafana, Elasticsearch, Logstash, Kibana beyond this machine without TLS and a login: set webAuth: { enabled: true }",
    );
    expect(problems({ bindAddress: "10.1.2.3", services: ["prometheus", "grafana"] })).toContain("bindAddress: 10.1.2.3 would publish Prometheus, Grafana beyond");
    expect(parseEnvironment({ name: "ok", bindAddress: "0.0.0.0", webAuth: { enabled: true } }, "ok", SERVICES).webAuth).toEqual({ enabled: true, user: "admin", names: [] });
    expect(parseEnvironment({ name: "ok", bindAddress: "127.0.0.1" }, "ok", SERVICES).webAuth.enabled).toBe(false);
  });

  it("refuses, even with webAuth, a published service that cannot serve TLS, naming it", () => {
    const plainUi = withBuild(defineService({ name: "plainUi", title: "Plain UI", image: "plain:1", localBuild: { none: "test" }, port: 8080, hostPort: 8080, memoryMb: 64, user: "1:1", health: { path: "/", client: "wget" } }), () => ({ ready: [] }));
    const catalog = [...SERVICES, plainUi];
    expect(() => parseEnvironment({ name: "ok", bindAddress: "10.1.2.3", webAuth: { enabled: true }, services: ["prometheus", "plainUi"] }, "t", catalog)).toThrow(
      "bindAddress: 10.1.2.3 would publish Plain UI beyond this machine without TLS and a login: they cannot serve TLS: leave them out of services, or keep 127.0.0.1",
    );
    // On loopback it may publish it.
    expect(parseEnvironment({ name: "ok", webAuth: { enabled: true }, services: ["prometheus", "plainUi"] }, "t", catalog).services).toContain("plainUi");
  });

  const env = parseEnvironment({ name: "open", bindAddress: "0.0.0.0", webAuth: { enabled: true, names: ["monitoring.example.org"] } }, "open-test", SERVICES);
  const json = synth(env) as Json;

  it("serves Prometheus and Alertmanager over HTTPS with basic auth, and Prometheus authenticates to both", () => {
    for (const name of ["open-prometheus", "open-alertmanager"]) {
      const container = containerNamed(json, name);
      const dir = name.endsWith("prometheus") ? "/etc/prometheus/secrets" : "/etc/alertmanager/secrets";
      expect(container.command).toContain(`--web.config.file=${dir}/web.yml`);
      expect(uploadedFile(container, `${dir}/web.yml`)).toContain('basic_auth_users:\n  admin: "${var.web_password_bcrypt}"');
      expect((container.healthcheck as { test: string[] }).test[1]).toMatch(/nc -w 3 127\.0\.0\.1 909[03] \| grep -q 'HTTPS server'/);
    }
    const config = parse(uploadedFile(containerNamed(json, "open-prometheus"), CONFIG_PATHS.prometheusConfig)) as { scrape_configs: Record<string, unknown>[]; alerting: { alertmanagers: Record<string, unknown>[] } };
    const client = { scheme: "https", tls_config: { ca_file: "/etc/prometheus/secrets/ca.pem" }, basic_auth: { username: "admin", password_file: "/etc/prometheus/secrets/web_password" } };
    expect(config.alerting.alertmanagers[0]).toMatchObject(client);
    for (const job of ["prometheus", "alertmanager"]) expect(config.scrape_configs.find((j) => j.job_name === job)).toMatchObject(client);
    // Grafana serves HTTPS of its own: checked against the CA, no web user.
    expect(config.scrape_configs.find((j) => j.job_name === "grafana")).toMatchObject({ scheme: "https", tls_config: { ca_file: "/etc/prometheus/secrets/ca.pem" } });
    expect(config.scrape_configs.find((j) => j.job_name === "grafana")).not.toHaveProperty("basic_auth");
    // The exporter on the private network is not behind webAuth.
    expect(config.scrape_configs.find((j) => j.job_name === "node")).not.toHaveProperty("scheme");
    for (const name of ["prometheus", "grafana", "kibana"]) expect(json.output[`${name}_url`].value).toMatch(/^https:\/\/0\.0\.0\.0:/);
    const names = (Object.values(json.resource.tls_cert_request) as { dns_names: string[] }[]).map((r) => r.dns_names);
    expect(names).toContainEqual(["prometheus", "localhost", "monitoring.example.org"]);
    expect(names).toContainEqual(["elasticsearch", "localhost", "monitoring.example.org"]);
  });

  it("serves Grafana over HTTPS with a certificate of the CA, never anonymously, and has it read Prometheus and Elasticsearch over HTTPS", () => {
    const grafana = containerNamed(json, "open-grafana");
    expect(grafana.env).toEqual(
      expect.arrayContaining([
        "GF_SERVER_PROTOCOL=https",
        "GF_SERVER_CERT_FILE=/etc/grafana/secrets/tls.crt",
        "GF_SERVER_CERT_KEY=/etc/grafana/secrets/tls.key",
        "GF_AUTH_ANONYMOUS_ENABLED=false",
        "GF_USERS_ALLOW_SIGN_UP=false",
        "GF_SERVER_ROOT_URL=https://0.0.0.0:3000/",
      ]),
    );
    expect(uploadedFile(grafana, "/etc/grafana/secrets/tls.key")).toMatch(/^\$\{tls_private_key\./);
    expect((grafana.healthcheck as { test: string[] }).test[1]).toMatch(/nc -w 3 127\.0\.0\.1 3000 \| grep -q 'HTTPS server'/);
    const datasources = parse(uploadedFile(grafana, CONFIG_PATHS.grafanaDatasources)) as { datasources: Record<string, unknown>[] };
    expect(datasources.datasources[0]).toMatchObject({
      url: "https://prometheus:9090",
      basicAuth: true,
      basicAuthUser: "admin",
      jsonData: { tlsAuthWithCACert: true },
      secureJsonData: { basicAuthPassword: "$__file{/etc/grafana/secrets/web_password}", tlsCACert: "$__file{/etc/grafana/secrets/ca.crt}" },
    });
    expect(datasources.datasources[1]).toMatchObject({
      url: "https://elasticsearch:9200",
      jsonData: { tlsAuthWithCACert: true },
      secureJsonData: { tlsCACert: "$__file{/etc/grafana/secrets/ca.crt}" },
    });
    expect(uploadedFile(grafana, "/etc/grafana/secrets/web_password")).toBe("${var.web_password}");
    expect(JSON.stringify(grafana.env)).not.toContain("var.web_password");
  });

  it("serves Elasticsearch and Kibana over HTTPS, and every client of Elasticsearch checks it against the CA", () => {
    const elasticsearch = containerNamed(json, "open-elasticsearch");
    expect(elasticsearch.env).toEqual(
      expect.arrayContaining([
        "xpack.security.http.ssl.enabled=true",
        "xpack.security.http.ssl.certificate=/usr/share/elasticsearch/config/secrets/tls.crt",
        "xpack.security.http.ssl.key=/usr/share/elasticsearch/config/secrets/tls.key",
      ]),
    );
    expect((elasticsearch.healthcheck as { test: string[] }).test[1]).toContain("curl -fsS --max-time 4 --cacert /usr/share/elasticsearch/config/secrets/ca.crt -u");
    expect((elasticsearch.healthcheck as { test: string[] }).test[1]).toContain('"https://127.0.0.1:9200/_cluster/health?');
    const setup = containerNamed(json, "open-elasticsearch-setup");
    expect(setup.env).toEqual(expect.arrayContaining(["ES_URL=https://elasticsearch:9200", "CURL_CA_BUNDLE=/usr/share/elasticsearch/config/secrets/ca.crt"]));
    expect(uploadedFile(setup, "/usr/share/elasticsearch/config/secrets/ca.crt")).toMatch(/^\$\{tls_self_signed_cert\./);
    const kibana = containerNamed(json, "open-kibana");
    expect(kibana.env).toEqual(
      expect.arrayContaining([
        "SERVER_SSL_ENABLED=true",
        "SERVER_SSL_CERTIFICATE=/usr/share/kibana/config/secrets/tls.crt",
        "ELASTICSEARCH_HOSTS=https://elasticsearch:9200",
        "ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES=/usr/share/kibana/config/secrets/ca.crt",
        "SERVER_PUBLICBASEURL=https://0.0.0.0:5601",
      ]),
    );
    expect((kibana.healthcheck as { test: string[] }).test[1]).toBe("curl -fsS --max-time 4 --cacert /usr/share/kibana/config/secrets/ca.crt https://127.0.0.1:5601/api/status >/dev/null");
    const exporter = containerNamed(json, "open-elasticsearch-exporter");
    expect(exporter.command).toEqual(expect.arrayContaining(["--es.uri=https://elasticsearch:9200", "--es.ca=/etc/elasticsearch_exporter/secrets/ca.crt"]));
  });

  it("takes logs over TCP only with TLS and a client certificate of the CA, and GELF over UDP on loopback only", () => {
    const logstash = containerNamed(json, "open-logstash");
    const pipeline = uploadedFile(logstash, LOGSTASH_PIPELINE);
    expect(pipeline).toContain('    codec => json_lines\n    ssl_enabled => true\n    ssl_certificate => "/usr/share/logstash/config/secrets/tls.crt"');
    expect(pipeline).toContain('ssl_client_authentication => "required"');
    expect(pipeline).toContain('hosts => ["https://elasticsearch:9200"]\n    ssl_enabled => true\n    ssl_certificate_authorities => ["/usr/share/logstash/config/secrets/ca.crt"]');
    expect(pipeline).not.toContain("http://elasticsearch");
    expect(logstash.ports).toEqual([
      { internal: 5000, external: 5000, ip: "0.0.0.0" },
      { internal: 12201, external: 5000, ip: "127.0.0.1", protocol: "udp" },
    ]);
    expect(json.output.logstash_client_certificate.value).toMatch(/^\$\{tls_locally_signed_cert\./);
    expect(json.output.logstash_client_key).toMatchObject({ sensitive: true });
    const uses = (Object.values(json.resource.tls_locally_signed_cert) as { allowed_uses: string[] }[]).map((cert) => cert.allowed_uses);
    expect(uses).toContainEqual(["digital_signature", "key_encipherment", "client_auth"]);
    // The Logstash API (its health) stays plain HTTP on the private network, unpublished.
    expect((logstash.healthcheck as { test: string[] }).test[1]).toContain("http://127.0.0.1:9600/");
  });

  it("leaves the pipeline as the asset has it without webAuth, and names a pipeline it cannot add TLS to", () => {
    expect(logstashPipeline("any text", undefined)).toBe("any text");
    expect(() => logstashPipeline("input { tcp { port => 5001 } }", { cert: "c", key: "k", ca: "a" })).toThrow("stacks/services/logstash/pipeline.conf: no line");
  });

  it("probes every published service over HTTPS (blackbox), as the web user where webAuth's web config asks for it", () => {
    const blackbox = containerNamed(json, "open-blackbox");
    const config = parse(uploadedFile(blackbox, "/etc/blackbox_exporter/config.yml")) as { modules: Record<string, { http: Record<string, unknown> }> };
    for (const service of ["prometheus", "alertmanager"]) {
      expect(config.modules[`http_2xx_${service}`].http).toMatchObject({
        basic_auth: { username: "admin", password_file: "/etc/blackbox_exporter/secrets/web_password" },
        tls_config: { ca_file: "/etc/blackbox_exporter/secrets/ca.pem" },
      });
    }
    expect(config.modules.http_2xx_grafana.http).toEqual({ preferred_ip_protocol: "ip4", tls_config: { ca_file: "/etc/blackbox_exporter/secrets/ca.pem" } });
    expect(config.modules.http_2xx_elasticsearch.http).toMatchObject({ basic_auth: { username: "prometheus_monitor" }, tls_config: { ca_file: "/etc/blackbox_exporter/secrets/ca.pem" } });
    expect(uploadedFile(blackbox, "/etc/blackbox_exporter/secrets/ca.pem")).toMatch(/^\$\{tls_self_signed_cert\./);
    const probes = (parse(uploadedFile(containerNamed(json, "open-prometheus"), CONFIG_PATHS.prometheusConfig)) as { scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[] }).scrape_configs
      .find((job) => job.job_name === "blackbox")!
      .static_configs!.flatMap((c) => c.targets);
    expect(probes).toEqual(
      expect.arrayContaining([
        "https://prometheus:9090/-/ready",
        "https://alertmanager:9093/-/ready",
        "https://grafana:3000/api/health",
        "https://elasticsearch:9200/_cluster/health",
        "https://kibana:5601/api/status",
        "http://logstash:9600/",
      ]),
    );
  });
});

describe("preflight of a fleet", () => {
  it("names every fleet host that does not answer, beside the stack's own", async () => {
    const env = fleetEnv();
    const host: DockerHost = {
      problem: async () => undefined,
      fleetProblems: async () => ["fleet host edge (ssh://deploy@edge.example) cannot be reached: ssh: connect to host edge.example port 22: Connection refused"],
      image: async () => "present",
    };
    const variables = { TF_VAR_fleet_scrape_password: "x".repeat(20) };
    expect((await preflight(env, host, { variables })).problems).toEqual(["fleet host edge (ssh://deploy@edge.example) cannot be reached: ssh: connect to host edge.example port 22: Connection refused"]);
  });
});

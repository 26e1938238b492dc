import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { loadEnvironmentFile } from "../../stacks/environment-files";
import { alertmanagerConfig } from "../../stacks/services/alertmanager";
import { dashboardFor, DATASOURCE_UIDS } from "../../stacks/services/grafana";
import { prometheusConfig } from "../../stacks/services/prometheus";
import { loadedRuleFiles } from "../../stacks/services/prometheus/rules";
import { requiredSecrets, SECRET_NAMES } from "../../stacks/secrets";
import { ASSETS, CONFIG_PATHS, containerNamed, environment, shippedEnvironment, SHIPPED_ENVIRONMENTS, synth, uploadedFile } from "../helpers/synth";
import { amtool } from "../helpers/alertmanager";
import { run, tool } from "../helpers/tools";
import { tempDir } from "../helpers/temp";

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML of known shape

const dev = shippedEnvironment("dev");
const devStack = synth(dev);
const file = (service: string, filePath: string) => uploadedFile(containerNamed(devStack, `dev-${service}`), filePath);

describe("generated prometheus.yml", () => {
  const config = parse(file("prometheus", CONFIG_PATHS.prometheusConfig)) as Doc;
  const jobs = new Map<string, Doc>(config.scrape_configs.map((j: Doc) => [j.job_name, j]));

  it("scrapes the stack and every target of the environment", () => {
    expect([...jobs.keys()]).toEqual([
      "prometheus",
      "node",
      "alertmanager",
      "grafana",
      "blackbox_exporter",
      "blackbox",
      "elasticsearch",
      "cadvisor",
      "registry_a",
      "registry_b",
      "teg_layer",
      "spire_server",
    ]);
    expect(jobs.get("teg_layer")).toMatchObject({ metrics_path: "/api/metrics", static_configs: [{ targets: ["host.docker.internal:8080"] }] });
    expect(jobs.get("node")).toMatchObject({ static_configs: [{ targets: ["node-exporter:9100"] }] });
    expect(jobs.get("elasticsearch")).toMatchObject({ static_configs: [{ targets: ["elasticsearch-exporter:9114"] }] });
  });

  it("probes every published UI and API and every Protocol service through the blackbox exporter (multi-target)", () => {
    const probe = jobs.get("blackbox") as Doc;
    expect(probe.metrics_path).toBe("/probe");
    const targets = (probe.static_configs as Doc[]).map((c) => `${c.labels.service} ${c.labels.__param_module} ${c.targets.join(",")}`);
    expect(targets).toEqual([
      "prometheus http_2xx http://prometheus:9090/-/ready",
      "alertmanager http_2xx http://alertmanager:9093/-/ready",
      "grafana http_2xx http://grafana:3000/api/health",
      "elasticsearch http_2xx_elasticsearch http://elasticsearch:9200/_cluster/health",
      "logstash http_2xx http://logstash:9600/",
      "kibana http_2xx http://kibana:5601/api/status",
      "registry_a http_2xx http://host.docker.internal:8000/health",
      "registry_b http_2xx http://host.docker.internal:8001/health",
      "teg_layer http_2xx http://host.docker.internal:8080/health",
      "spire_server http_2xx http://host.docker.internal:9988/metrics",
    ]);
    // The probed URL becomes the exporter's target parameter, its host:port the instance, and the exporter the address.
    expect(probe.relabel_configs).toEqual([
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "url" },
      { source_labels: ["__param_target"], regex: "[a-z]+://([^/]+).*", target_label: "instance" },
      { target_label: "__address__", replacement: "blackbox:9115" },
    ]);
    // Elasticsearch is probed as the monitor-only user, whose password is a secret file.
    const blackbox = parse(file("blackbox", "/etc/blackbox_exporter/config.yml")) as Doc;
    expect(blackbox.modules.http_2xx_elasticsearch.http.basic_auth).toEqual({
      username: "prometheus_monitor",
      password_file: "/etc/blackbox_exporter/secrets/elasticsearch_monitor_password",
    });
    expect(uploadedFile(containerNamed(devStack, "dev-blackbox"), "/etc/blackbox_exporter/secrets/elasticsearch_monitor_password")).toBe("${var.elasticsearch_monitor_password}");
  });

  it("keeps only this environment's containers from cAdvisor, with their service", () => {
    const relabel = (jobs.get("cadvisor") as Doc).metric_relabel_configs as Doc[];
    expect(relabel[0]).toEqual({
      source_labels: ["container_label_org_protocol_monitoring_environment", "container_label_org_protocol_monitoring_service"],
      regex: "dev;(.+)",
      target_label: "service",
      replacement: "$1",
    });
    expect(relabel[1]).toEqual({ source_labels: ["__name__", "service"], regex: "container_.*;", action: "drop" });
  });

  it("loads the rule files it uploads and sends alerts to Alertmanager", () => {
    // Every rule file but the agents' (dev scrapes no agents; stacks/services/prometheus/rules.ts).
    expect(config.rule_files).toEqual(loadedRuleFiles(dev, ASSETS.ruleFiles).map((r) => `${CONFIG_PATHS.prometheusRulesDir}/${r.name}`));
    expect(config.rule_files).toHaveLength(ASSETS.ruleFiles.length - 1);
    expect(config.rule_files).not.toContain(`${CONFIG_PATHS.prometheusRulesDir}/agents.rules.yml`);
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(["alertmanager:9093"]);
    expect(config.global).toMatchObject({ scrape_interval: "15s", external_labels: { environment: "dev" } });
  });

  it("takes retention from the environment", () => {
    const command = containerNamed(devStack, "dev-prometheus").command as string[];
    expect(command).toEqual(expect.arrayContaining(["--storage.tsdb.retention.time=15d", "--storage.tsdb.retention.size=5GB"]));
  });

  it("discovers agents through Consul without overwriting the job label", () => {
    const prod = parse(prometheusConfig(shippedEnvironment("prod"), ASSETS.ruleFiles.map((r) => r.name))) as Doc;
    const agents = prod.scrape_configs.find((j: Doc) => j.job_name === "agents");
    expect(agents.consul_sd_configs).toEqual([{ server: "consul.protocol.internal:8500", services: ["agent-service"] }]);
    expect(agents.relabel_configs.map((r: Doc) => r.target_label)).not.toContain("job");
  });

  it("is byte-identical for the same input (so plans stay empty)", () => {
    expect(prometheusConfig(dev, ASSETS.ruleFiles.map((r) => r.name))).toBe(prometheusConfig(shippedEnvironment("dev"), ASSETS.ruleFiles.map((r) => r.name)));
  });
});

describe("generated alertmanager.yml", () => {
  const routeFor = (config: Doc, labels: Record<string, string>) =>
    config.route.routes.find((r: Doc) =>
      r.matchers.every((m: string) => {
        const [, key, value] = /^(\w+)="(.*)"$/.exec(m) as RegExpExecArray;
        return labels[key] === value;
      }),
    )?.receiver ?? config.route.receiver;

  it("routes critical to PagerDuty, warning to Slack, info to null and the Watchdog to the heartbeat", () => {
    const config = parse(alertmanagerConfig(shippedEnvironment("prod"))) as Doc;
    expect(routeFor(config, { severity: "critical", alertname: "RegistryDown" })).toBe("pagerduty");
    expect(routeFor(config, { severity: "warning", alertname: "HighMemoryUsage" })).toBe("slack");
    expect(routeFor(config, { severity: "info", alertname: "UnusualTransactionVolume" })).toBe("null");
    expect(routeFor(config, { severity: "none", alertname: "Watchdog" })).toBe("heartbeat");
    expect(routeFor(parse(alertmanagerConfig(dev)) as Doc, { severity: "none", alertname: "Watchdog" })).toBe("null");
    // Inhibition is precise: equal on the labels that identify a target or a file system
    // (inhibition.test.ts runs Alertmanager on it).
    expect(config.inhibit_rules[0]).toMatchObject({ source_matchers: ['alertname=~"RegistryDown|TEGLayerDown"'], equal: ["environment", "job", "instance"] });
  });

  it("beats often enough for a heartbeat service: the first beat within seconds, then every minute or two", () => {
    const config = parse(alertmanagerConfig(shippedEnvironment("prod"))) as Doc;
    const watchdog = config.route.routes.find((r: Doc) => r.receiver === "heartbeat");
    expect(watchdog).toMatchObject({ matchers: ['alertname="Watchdog"'], group_wait: "10s", group_interval: "1m", repeat_interval: "1m" });
    const heartbeat = config.receivers.find((r: Doc) => r.name === "heartbeat");
    expect(heartbeat.webhook_configs).toEqual([{ url_file: "/etc/alertmanager/secrets/heartbeat_url", send_resolved: false }]);
  });

  it("configures a receiver only when its secret is expected, and reads secrets from files", () => {
    const devConfig = parse(alertmanagerConfig(dev)) as Doc;
    expect(devConfig.receivers).toEqual([{ name: "null" }]);
    const prod = parse(alertmanagerConfig(shippedEnvironment("prod"))) as Doc;
    expect(prod.receivers.map((r: Doc) => r.name)).toEqual(["null", "pagerduty", "slack", "heartbeat"]);
    expect(prod.receivers[1].pagerduty_configs[0].routing_key_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
    expect(prod.receivers[2].slack_configs[0].api_url_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
    expect(prod.receivers[3].webhook_configs[0].url_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
    const prodStack = synth(shippedEnvironment("prod"));
    const uploads = containerNamed(prodStack, "prod-alertmanager").upload ?? [];
    expect(uploads.find((u) => u.file.endsWith("pagerduty_routing_key"))?.content).toBe("${var.pagerduty_routing_key}");
    expect(uploads.find((u) => u.file.endsWith("heartbeat_url"))?.content).toBe("${var.heartbeat_url}");
  });
});

describe("receivers behind a relay: a private CA, PagerDuty's URL, Alertmanager's timers", () => {
  const dir = tempDir("pm-ca");
  const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  fs.writeFileSync(path.join(dir, "ca.pem"), ca);
  const file = path.join(dir, "relay.yaml");
  fs.writeFileSync(
    file,
    stringify({
      name: "relay",
      alerting: {
        pagerduty: true,
        slack: { channel: "#a" },
        heartbeat: true,
        runbookBaseUrl: "https://example.org/runbooks",
        pagerdutyUrl: "https://relay.internal/v2/enqueue",
        caFile: "ca.pem",
        timing: { groupWait: "5s", groupInterval: "1m", repeatInterval: "2h" },
      },
    }),
  );
  const env = loadEnvironmentFile(file);
  const config = parse(alertmanagerConfig(env)) as Doc;

  it("checks every receiver's certificate against the environment's CA, never skips the check", () => {
    for (const receiver of config.receivers.filter((r: Doc) => r.name !== "null")) {
      const [settings] = Object.values(receiver).filter(Array.isArray) as Doc[][];
      expect(settings[0].http_config).toEqual({ tls_config: { ca_file: CONFIG_PATHS.alertmanagerCa } });
    }
    expect(alertmanagerConfig(env)).not.toContain("insecure_skip_verify");
    expect(uploadedFile(containerNamed(synth(env), "relay-alertmanager"), CONFIG_PATHS.alertmanagerCa)).toBe(ca);
  });

  it("sends PagerDuty events to the URL given, and groups with the environment's timers", () => {
    expect(config.global.pagerduty_url).toBe("https://relay.internal/v2/enqueue");
    expect(config.route).toMatchObject({ group_wait: "5s", group_interval: "1m", repeat_interval: "2h" });
    const plain = parse(alertmanagerConfig(dev)) as Doc;
    expect(plain.global.pagerduty_url).toBeUndefined();
    expect(plain.route).toMatchObject({ group_wait: "30s", group_interval: "5m", repeat_interval: "4h" });
  });

  it("refuses a CA file that is missing or holds no certificate, naming the field", () => {
    fs.writeFileSync(path.join(dir, "empty.pem"), "not a certificate");
    for (const [caFile, problem] of [["missing.pem", "cannot read"], ["empty.pem", "holds no PEM certificate"]]) {
      const bad = path.join(dir, "bad.yaml");
      fs.writeFileSync(bad, stringify({ name: "bad", alerting: { caFile } }));
      expect(() => loadEnvironmentFile(bad)).toThrow(new RegExp(`alerting\\.caFile: .*${problem}`));
    }
  });
});

describe("email: alerts by mail through an SMTP server", () => {
  const dir = tempDir("pm-email");
  const email = { to: "oncall@example.org", from: "alertmanager@example.org", smarthost: "smtp.example.org:587", username: "alertmanager" };
  const mailing = (extra: Record<string, unknown> = {}) =>
    environment({ name: "mail", alerting: { pagerduty: true, slack: { channel: "#alerts" }, email: { ...email, ...extra }, runbookBaseUrl: "https://example.org/repo" } });
  const receiver = (env: ReturnType<typeof environment>) => (parse(alertmanagerConfig(env)) as Doc).receivers.find((r: Doc) => r.name === "email");

  it("mails over STARTTLS, logging in with the password from a secret file, with the summary, description and runbook link", () => {
    const env = mailing();
    expect(receiver(env).email_configs).toEqual([
      {
        to: email.to,
        from: email.from,
        smarthost: email.smarthost,
        require_tls: true,
        auth_username: "alertmanager",
        auth_password_file: `${CONFIG_PATHS.alertmanagerSecretsDir}/smtp_password`,
        headers: { Subject: '{{ template "protocol.title" . }}' },
        text: '{{ template "protocol.text" . }}',
        send_resolved: true,
      },
    ]);
    expect(requiredSecrets(env)).toContain("smtp_password");
    const alertmanager = containerNamed(synth(env), "mail-alertmanager");
    expect(uploadedFile(alertmanager, `${CONFIG_PATHS.alertmanagerSecretsDir}/smtp_password`)).toBe("${var.smtp_password}");
    // Without a login: no password needed.
    const anonymous = environment({ name: "anon", alerting: { email: { to: email.to, from: email.from, smarthost: email.smarthost }, runbookBaseUrl: "https://example.org/repo" } });
    expect(receiver(anonymous).email_configs[0]).not.toHaveProperty("auth_password_file");
    expect(requiredSecrets(anonymous)).not.toContain("smtp_password");
  });

  it("is accepted by amtool, and routes the listed severities to email as well as to the others", () => {
    const route = (env: ReturnType<typeof environment>, name: string, ...labels: string[]) =>
      amtool((configFile) => ["config", "routes", "test", `--config.file=${configFile}`, ...labels], alertmanagerConfig(env), dir, name).trim();
    expect(amtool((configFile) => ["check-config", configFile], alertmanagerConfig(mailing()), dir, "mail")).toMatch(/SUCCESS/);
    expect(route(mailing(), "mail", "severity=critical", "alertname=RegistryDown")).toBe("email,pagerduty");
    expect(route(mailing(), "mail", "severity=warning", "alertname=HighResponseTime")).toBe("slack");
    expect(route(mailing(), "mail", "alertname=Watchdog", "severity=none")).toBe("null");
    const both = mailing({ severities: ["critical", "warning"] });
    expect(route(both, "mail-both", "severity=warning", "alertname=HighResponseTime")).toBe("email,slack");
  });

  it.each([
    [{ to: "oncall" }, "alerting.email.to:"],
    [{ smarthost: "smtp.example.org" }, "alerting.email.smarthost:"],
    [{ severities: ["urgent"] }, "alerting.email.severities[0]:"],
    [{ severities: [] }, "alerting.email.severities:"],
  ])("refuses %j, naming the field", (change, field) => {
    expect(() => mailing(change)).toThrow(field);
  });

  it("needs an https:// runbook base URL: a mail is read far from this repository", () => {
    expect(() => environment({ alerting: { email } })).toThrow("alerting.runbookBaseUrl: must be an https:// URL");
  });
});

describe("generated Grafana provisioning", () => {
  it("leaves the log panels (and their row) out where Elasticsearch does not run, and changes nothing else", () => {
    const operations = ASSETS.dashboards["operations.json"];
    const titles = (text: string) => (JSON.parse(text) as { panels: { title: string }[] }).panels.map((p) => p.title);
    expect(dashboardFor(dev, operations)).toBe(operations); // dev runs Elasticsearch: the file as shipped
    const withoutLogs = titles(dashboardFor(environment({ services: ["prometheus", "grafana"] }), operations));
    expect(titles(operations).filter((t) => !withoutLogs.includes(t))).toEqual(["Logs", "Protocol log errors, by service"]);
    expect(dashboardFor(environment({ services: ["prometheus", "grafana"] }), ASSETS.dashboards["business.json"])).toBe(ASSETS.dashboards["business.json"]);
  });

  it("provisions both datasources with fixed uids and a file dashboard provider", () => {
    const ds = parse(file("grafana", CONFIG_PATHS.grafanaDatasources)) as Doc;
    expect(ds.datasources.map((d: Doc) => [d.type, d.uid])).toEqual([
      ["prometheus", DATASOURCE_UIDS.prometheus],
      ["elasticsearch", DATASOURCE_UIDS.elasticsearch],
    ]);
    const provider = parse(file("grafana", CONFIG_PATHS.grafanaDashboardProvider)) as Doc;
    expect(provider.providers[0]).toMatchObject({ type: "file", options: { path: CONFIG_PATHS.grafanaDashboardsDir } });
  });

  it.each(Object.keys(ASSETS.dashboards))("ships %s as a bare dashboard model with timeseries panels", (name) => {
    const dashboard = JSON.parse(file("grafana", `${CONFIG_PATHS.grafanaDashboardsDir}/${name}`)) as Doc;
    expect(dashboard.dashboard).toBeUndefined();
    expect(dashboard.uid).toMatch(/^[a-z0-9-]+$/);
    for (const panel of dashboard.panels.filter((p: Doc) => p.type !== "row")) {
      expect(panel.type).not.toBe("graph");
      expect([DATASOURCE_UIDS.prometheus, DATASOURCE_UIDS.elasticsearch]).toContain(panel.datasource.uid);
    }
    expect(JSON.stringify(dashboard)).not.toContain("${DS_");
  });
});

describe("secrets", () => {
  it.each(SHIPPED_ENVIRONMENTS)("never appear in the synthesized JSON of %s", (name) => {
    const secret = "Canary-Secret-9f3b1c7e";
    const saved = { ...process.env };
    for (const n of SECRET_NAMES) process.env[`TF_VAR_${n}`] = secret;
    try {
      const env = shippedEnvironment(name);
      const json = JSON.stringify(synth(env));
      expect(json).not.toContain(secret);
      for (const name of requiredSecrets(env)) expect(json).toContain(`\${var.${name}}`);
    } finally {
      process.env = saved;
    }
  });

  it("are those the running services read: ELK's and Grafana's where they run, the receivers' where Alertmanager runs", () => {
    expect(requiredSecrets(shippedEnvironment("dev"))).toEqual([
      "grafana_admin_password",
      "elastic_password",
      "logstash_writer_password",
      "kibana_system_password",
      "grafana_es_password",
      "elasticsearch_monitor_password",
      "kibana_encryption_key",
    ]);
    expect(requiredSecrets(shippedEnvironment("prod"))).toEqual(expect.arrayContaining(["pagerduty_routing_key", "slack_webhook_url", "heartbeat_url"]));
    expect(requiredSecrets(shippedEnvironment("local"))).toEqual([]);
    const alerting = { pagerduty: true, runbookBaseUrl: "https://example.org/runbooks" };
    expect(requiredSecrets(environment({ services: ["prometheus", "alertmanager"], alerting }))).toEqual(["pagerduty_routing_key"]);
    // Nothing reads the routing key where no Alertmanager runs.
    expect(requiredSecrets(environment({ services: ["prometheus"], alerting }))).toEqual([]);
    expect(requiredSecrets(environment({ services: ["prometheus", "elasticsearch"] }))).toEqual(["elastic_password", "logstash_writer_password", "kibana_system_password", "elasticsearch_monitor_password"]);
  });

  it("are sensitive variables without defaults", () => {
    for (const variable of Object.values(synth(shippedEnvironment("prod")).variable)) {
      expect(variable).toMatchObject({ sensitive: true, type: "string", validation: [{ condition: expect.stringMatching(/^\$\{can\(regex\(|^\$\{startswith\(/) }] });
      expect(variable).not.toHaveProperty("default");
    }
  });
});

describe("upstream checkers accept the generated files", () => {
  const dir = tempDir("pm-check");
  const localise = (text: string, from: string) => text.split(from).join(path.join(dir, from));

  it.each(SHIPPED_ENVIRONMENTS)("promtool check config passes for %s", (name) => {
    const stack = synth(shippedEnvironment(name));
    const prometheus = containerNamed(stack, `${name}-prometheus`);
    for (const upload of prometheus.upload ?? []) {
      const target = path.join(dir, upload.file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, localise(uploadedFile(prometheus, upload.file), CONFIG_PATHS.prometheusRulesDir));
    }
    const out = run(tool("promtool"), ["check", "config", path.join(dir, CONFIG_PATHS.prometheusConfig)]);
    expect(out).toMatch(/SUCCESS/);
    expect(out).toContain(`${loadedRuleFiles(shippedEnvironment(name), ASSETS.ruleFiles).length} rule files found`);
  });

  it("promtool check rules passes for every rule file, as rendered for prod (which loads them all)", () => {
    const prodPrometheus = containerNamed(synth(shippedEnvironment("prod")), "prod-prometheus");
    const files = ASSETS.ruleFiles.map((r) => {
      const target = path.join(dir, r.name);
      fs.writeFileSync(target, uploadedFile(prodPrometheus, `${CONFIG_PATHS.prometheusRulesDir}/${r.name}`));
      return target;
    });
    expect(run(tool("promtool"), ["check", "rules", ...files])).not.toMatch(/FAILED/);
  });

  // An amtool older than 0.26 checks prod (heartbeat url_file) with a placeholder url in its
  // place: see forAlertmanager in __tests__/helpers/alertmanager.ts.
  it.each([...SHIPPED_ENVIRONMENTS, "minimal"])("amtool check-config passes for %s", (name) => {
    const env = name === "minimal" ? environment() : shippedEnvironment(name);
    const out = amtool((configFile) => ["check-config", configFile], alertmanagerConfig(env), dir, `check-${name}`);
    expect(out).toMatch(/SUCCESS/);
    expect(out).toMatch(/1 templates/);
  });
});

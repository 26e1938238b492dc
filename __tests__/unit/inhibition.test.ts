/**
 * Inhibition, tested on the real Alertmanager (amtool cannot test it): the generated prod
 * alertmanager.yml is loaded by the alertmanager program on a loopback port, alerts are posted
 * to its API, and its own answer (`status.inhibitedBy` of GET /api/v2/alerts, computed on every
 * request) says which are muted. Each case uses its own `environment` label value, which every
 * inhibit rule requires to be equal, so cases cannot mute each other.
 */
import { parse } from "yaml";
import { alertmanagerConfig } from "../../stacks/services/alertmanager";
import { type AlertStatus, type PostedAlert, RunningAlertmanager } from "../helpers/alertmanager";
import { environment, shippedEnvironment } from "../helpers/synth";

jest.setTimeout(30_000);

let am: RunningAlertmanager;
let pagerdutyOnly: RunningAlertmanager;

beforeAll(async () => {
  [am, pagerdutyOnly] = await Promise.all([
    RunningAlertmanager.start(alertmanagerConfig(shippedEnvironment("prod"))),
    RunningAlertmanager.start(alertmanagerConfig(environment({ name: "pd", alerting: { pagerduty: true, heartbeat: true, runbookBaseUrl: "https://runbooks.example" } }))),
  ]);
});
afterAll(async () => {
  await Promise.all([am?.stop(), pagerdutyOnly?.stop()]);
});

const alert = (labels: Record<string, string>): PostedAlert => ({ labels });

/** A down target and its own warning, posted after a case's alerts: see `inhibited`. */
const CANARY = {
  canaryDown: { alertname: "RegistryDown", severity: "critical", service: "registry", job: "registry_canary", instance: "canary:1" },
  canaryWarning: { alertname: "HighResponseTime", severity: "warning", service: "registry", job: "registry_canary", instance: "canary:1" },
};

/**
 * Posts a case's alerts and returns, per alert (named by its `case` label), whether Alertmanager
 * inhibits it. The inhibitor learns of new source alerts asynchronously, in the order they were
 * posted: the case's alerts are followed by a canary pair, and once the canary's warning is
 * muted, every source of the case has been seen too, so an alert not muted then is not muted.
 */
async function inhibited(target: RunningAlertmanager, scenario: string, alerts: Record<string, Record<string, string>>): Promise<Record<string, boolean>> {
  const all = { ...alerts, ...CANARY };
  await target.post(Object.entries(all).map(([key, labels]) => alert({ ...labels, environment: scenario, case: key })));
  const deadline = Date.now() + 5_000;
  let mine: AlertStatus[] = [];
  for (;;) {
    mine = (await target.alerts()).filter((a) => a.labels.environment === scenario);
    const canarySeen = mine.some((a) => a.labels.case === "canaryWarning" && a.status.inhibitedBy.length > 0);
    if ((mine.length === Object.keys(all).length && canarySeen) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return Object.fromEntries(mine.filter((a) => !(a.labels.case in CANARY)).map((a) => [a.labels.case, a.status.inhibitedBy.length > 0]));
}

describe("inhibition in Alertmanager (the real program, prod's generated config)", () => {
  it("runs the generated inhibit rules, as Alertmanager itself reports its loaded config", async () => {
    // An Alertmanager older than 0.26 cannot read the heartbeat's url_file: it runs a copy with a
    // placeholder url there (__tests__/helpers/alertmanager.ts); the inhibit rules are untouched.
    const status = (await (await fetch(`${am.url}/api/v2/status`)).json()) as { config: { original: string } };
    const loaded = parse(status.config.original) as { inhibit_rules: unknown[] };
    const generated = parse(alertmanagerConfig(shippedEnvironment("prod"))) as { inhibit_rules: unknown[] };
    expect(loaded.inhibit_rules).toHaveLength(generated.inhibit_rules.length);
    expect(JSON.stringify(loaded.inhibit_rules)).toContain('AlertmanagerFailedToSendAlerts');
  });

  it("registry_a being down mutes registry_a's warnings, not registry_b's", async () => {
    const registry = (job: string, port: number) => ({ service: "registry", job, instance: `host.docker.internal:${port}` });
    const result = await inhibited(
      am,
      "case-registry",
      {
        down: { alertname: "RegistryDown", severity: "critical", ...registry("registry_a", 8000) },
        slowA: { alertname: "HighResponseTime", severity: "warning", ...registry("registry_a", 8000) },
        slowB: { alertname: "HighResponseTime", severity: "warning", ...registry("registry_b", 8001) },
        peersB: { alertname: "RegistryFederationPeersLow", severity: "warning", ...registry("registry_b", 8001) },
        otherTarget: { alertname: "TargetDown", severity: "warning", service: "spire_server", job: "spire_server", instance: "host.docker.internal:9988" },
      }
    );
    expect(result).toEqual({ down: false, slowA: true, slowB: false, peersB: false, otherTarget: false });
  });

  it("the TEG layer being down mutes its own warnings and infos; an empty treasury mutes only the low-balance warning", async () => {
    const teg = { service: "teg", job: "teg_layer", instance: "host.docker.internal:8080" };
    const result = await inhibited(
      am,
      "case-teg",
      {
        down: { alertname: "TEGLayerDown", severity: "critical", ...teg },
        volume: { alertname: "UnusualTransactionVolume", severity: "info", ...teg },
        otherInstanceLow: { alertname: "LowTreasuryBalance", severity: "warning", ...teg, instance: "teg-2:8080" },
        empty: { alertname: "TreasuryDepleted", severity: "critical", ...teg, instance: "teg-2:8080" },
      }
    );
    expect(result).toEqual({ down: false, volume: true, otherInstanceLow: true, empty: false });
  });

  it("a full / mutes / filling up, not /data filling up nor the host's other warnings", async () => {
    const fs = (mountpoint: string, device: string) => ({ service: "host", job: "node", instance: "node-exporter:9100", mountpoint, device, fstype: "ext4" });
    const result = await inhibited(
      am,
      "case-filesystem",
      {
        rootFull: { alertname: "NodeFilesystemAlmostFull", severity: "critical", ...fs("/", "/dev/vda1") },
        rootFilling: { alertname: "NodeFilesystemFillingUp", severity: "warning", ...fs("/", "/dev/vda1") },
        dataFilling: { alertname: "NodeFilesystemFillingUp", severity: "warning", ...fs("/data", "/dev/vdb1") },
        rootInodes: { alertname: "NodeFilesystemFilesFillingUp", severity: "warning", ...fs("/", "/dev/vda1") },
        memory: { alertname: "HighMemoryUsage", severity: "warning", service: "host", job: "node", instance: "node-exporter:9100" },
      }
    );
    expect(result).toEqual({ rootFull: false, rootFilling: true, dataFilling: false, rootInodes: false, memory: false });
  });

  it("running out of inodes on / mutes / running out of inodes, not /data", async () => {
    const fs = (mountpoint: string) => ({ service: "host", job: "node", instance: "node-exporter:9100", mountpoint });
    const result = await inhibited(
      am,
      "case-inodes",
      {
        rootOut: { alertname: "NodeFilesystemAlmostOutOfFiles", severity: "critical", ...fs("/") },
        rootFilling: { alertname: "NodeFilesystemFilesFillingUp", severity: "warning", ...fs("/") },
        dataFilling: { alertname: "NodeFilesystemFilesFillingUp", severity: "warning", ...fs("/data") },
      }
    );
    expect(result).toEqual({ rootOut: false, rootFilling: true, dataFilling: false });
  });

  it("a target that is down mutes the failing probe of the same host:port only", async () => {
    const probe = (alertname: string, severity: string, service: string, instance: string) => ({ alertname, severity, service, job: "blackbox", instance, url: `http://${instance}/health` });
    const result = await inhibited(
      am,
      "case-probe",
      {
        down: { alertname: "RegistryDown", severity: "critical", service: "registry", job: "registry_a", instance: "host.docker.internal:8000" },
        healthA: probe("ProtocolHealthCheckFailed", "critical", "registry_a", "host.docker.internal:8000"),
        healthB: probe("ProtocolHealthCheckFailed", "critical", "registry_b", "host.docker.internal:8001"),
        grafanaDown: { alertname: "TargetDown", severity: "warning", service: "grafana", job: "grafana", instance: "grafana:3000" },
        grafanaProbe: probe("ProbeFailed", "warning", "grafana", "grafana:3000"),
        kibanaProbe: probe("ProbeFailed", "warning", "kibana", "kibana:5601"),
      }
    );
    expect(result).toEqual({ down: false, healthA: true, healthB: false, grafanaDown: false, grafanaProbe: true, kibanaProbe: false });
  });

  it("Elasticsearch past its flood stage mutes its own low-watermark warning, not another data path's", async () => {
    const disk = (alertname: string, path: string) => ({ alertname, severity: "warning", service: "elasticsearch", job: "elasticsearch", instance: "elasticsearch-exporter:9114", cluster: "prod-logs", name: "elasticsearch", path });
    const result = await inhibited(
      am,
      "case-es-disk",
      {
        flood: disk("ElasticsearchDiskFloodStage", "/usr/share/elasticsearch/data"),
        low: disk("ElasticsearchDiskLowWatermark", "/usr/share/elasticsearch/data"),
        otherPath: disk("ElasticsearchDiskLowWatermark", "/data2"),
      }
    );
    expect(result).toEqual({ flood: false, low: true, otherPath: false });
  });

  it("no critical alert mutes another service's or another check's warnings (delivery failures and config reloads are separate)", async () => {
    const result = await inhibited(
      am,
      "case-unrelated",
      {
        sending: { alertname: "AlertmanagerFailedToSendAlerts", severity: "critical", service: "alertmanager", job: "alertmanager", instance: "alertmanager:9093", integration: "slack" },
        reload: { alertname: "AlertmanagerFailedReload", severity: "warning", service: "alertmanager", job: "alertmanager", instance: "alertmanager:9093" },
        promSend: { alertname: "PrometheusErrorSendingAlertsToAnyAlertmanager", severity: "critical", service: "prometheus", job: "prometheus", instance: "localhost:9090" },
        promReload: { alertname: "PrometheusConfigReloadFailed", severity: "warning", service: "prometheus", job: "prometheus", instance: "localhost:9090" },
        watchdog: { alertname: "Watchdog", severity: "none", service: "monitoring" },
      }
    );
    expect(result).toEqual({ sending: false, reload: false, promSend: false, promReload: false, watchdog: false });
  });

  it("an outage in one environment mutes nothing in another", async () => {
    const target = { service: "registry", job: "registry_a", instance: "host.docker.internal:8000" };
    await am.post([alert({ alertname: "RegistryDown", severity: "critical", ...target, environment: "case-env-other", case: "down" })]);
    const result = await inhibited(am, "case-env", { down: { alertname: "RegistryDown", severity: "critical", ...target }, slow: { alertname: "HighResponseTime", severity: "warning", ...target } });
    expect(result).toEqual({ down: false, slow: true });
    const other = await inhibited(am, "case-env-2", { slow: { alertname: "HighResponseTime", severity: "warning", ...target } });
    expect(other).toEqual({ slow: false });
  });

  // The paging integration failing: the heartbeat stops, so the heartbeat service pages.
  it("PagerDuty failing (prod pages through PagerDuty) stops the heartbeat; Slack or the webhook failing does not", async () => {
    const failing = (integration: string) => ({ alertname: "AlertmanagerFailedToSendAlerts", severity: "critical", service: "alertmanager", job: "alertmanager", instance: "alertmanager:9093", integration });
    const watchdog = { alertname: "Watchdog", severity: "none", service: "monitoring" };
    expect(await inhibited(am, "case-pd-fails", { pd: failing("pagerduty"), watchdog })).toEqual({ pd: false, watchdog: true });
    expect(await inhibited(am, "case-slack-fails", { slack: failing("slack"), watchdog })).toEqual({ slack: false, watchdog: false });
    expect(await inhibited(am, "case-webhook-fails", { webhook: failing("webhook"), watchdog })).toEqual({ webhook: false, watchdog: false });
    expect(await inhibited(pagerdutyOnly, "case-pd-only", { pd: failing("pagerduty"), watchdog })).toEqual({ pd: false, watchdog: true });
  });
});

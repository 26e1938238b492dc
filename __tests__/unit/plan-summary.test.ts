import * as fs from "node:fs";
import * as path from "node:path";
import { EXIT, exitCode, renderMarkdown, summarizePlan, type PlanJson } from "../../scripts/plan/summary";
import { ROOT } from "../helpers/synth";

/** Plans recorded with the real engine and provider by scripts/plan/record-fixtures.ts. */
const fixture = (name: string): PlanJson => JSON.parse(fs.readFileSync(path.join(ROOT, "__tests__/fixtures/plans", `${name}.json`), "utf8")) as PlanJson;
const summary = (name: string) => summarizePlan(name, fixture(name));

describe("plan summary", () => {
  it("reports an empty plan as no changes, exit 0", () => {
    const s = summary("no-op");
    expect(s.changes).toEqual([]);
    expect(renderMarkdown([s])).toContain("No changes.");
    expect(exitCode([s])).toBe(EXIT.empty);
  });

  it("counts a plan from scratch and lists no file contents", () => {
    const s = summary("create");
    expect(s.counts).toEqual({ create: 9, update: 0, replace: 0, delete: 0, adopt: 0 });
    expect(s.changes.every((c) => c.files.length === 0)).toBe(true);
    expect(exitCode([s])).toBe(EXIT.safe);
  });

  it("names exactly the replaced container, the forcing attribute and the config diff", () => {
    const s = summary("scrape-target-added");
    expect(s.counts).toEqual({ create: 0, update: 0, replace: 1, delete: 0, adopt: 0 });
    const [change] = s.changes;
    expect(change.address).toMatch(/^docker_container\.prometheus_container_/);
    expect(change.attributes).toEqual([{ name: "upload", forcesReplacement: true }]);
    expect(change.files.map((f) => f.path)).toEqual(["/etc/prometheus/prometheus.yml"]);
    expect(change.files[0].diff).toContain("+  - job_name: spire_server");
    expect(change.files[0].diff).not.toContain("\\n"); // a real diff, not an escaped string
    expect(exitCode([s])).toBe(EXIT.safe);
  });

  it("fits on one screen for a one-line config change", () => {
    const lines = renderMarkdown([summary("scrape-target-added")]).split("\n");
    expect(lines.length).toBeLessThanOrEqual(24);
  });

  it("warns first, loudly, when a data volume is destroyed, and exits 3", () => {
    const s = summary("alertmanager-removed");
    expect(s.counts.delete).toBe(3);
    expect(s.changes.filter((c) => c.losesData).map((c) => c.address)).toEqual([expect.stringMatching(/^docker_volume\.alertmanager_data_/)]);
    const markdown = renderMarkdown([s]);
    const warning = markdown.indexOf("[!CAUTION]");
    expect(warning).toBeGreaterThan(0);
    expect(warning).toBeLessThan(markdown.indexOf("| action |"));
    expect(markdown).toMatch(/-alertmanager-data/);
    expect(exitCode([summary("scrape-target-added"), s])).toBe(EXIT.destructive);
  });

  it("lists what an interrupted run left behind as adopt rows, and never hides a replaced volume", () => {
    // The shape the engine writes for import blocks (`show -json`): actions plus `importing`.
    const imported = (type: string, name: string, actions: string[]) => ({
      address: `${type}.x_${name}`,
      type,
      change: { actions, before: { name }, after: { name }, importing: { id: name } },
    });
    const plan = {
      resource_changes: [
        imported("docker_volume", "e-prometheus-data", ["no-op"]),
        imported("docker_container", "e-prometheus", ["delete", "create"]),
        { address: "docker_image.p", type: "docker_image", change: { actions: ["create"], before: null, after: { name: "p:1" } } },
      ],
    } as PlanJson;
    const s = summarizePlan("e", plan);
    expect(s.counts).toEqual({ create: 1, update: 0, replace: 1, delete: 0, adopt: 2 });
    const markdown = renderMarkdown([s]);
    expect(markdown).toContain("## e: 1 to add, 0 to change, 1 to replace, 0 to destroy, 2 to adopt");
    expect(markdown).toContain("| adopt | `docker_volume.x_e-prometheus-data` | e-prometheus-data | left on Docker by an interrupted run |");
    expect(markdown).toContain("| adopt, then **replace** | `docker_container.x_e-prometheus` | e-prometheus | left on Docker by an interrupted run, then made to match the code |");
    expect(exitCode([s])).toBe(EXIT.safe);
    const lost = summarizePlan("e", { resource_changes: [imported("docker_volume", "e-prometheus-data", ["delete", "create"])] } as PlanJson);
    expect(renderMarkdown([lost])).toContain("[!CAUTION]");
    expect(exitCode([lost])).toBe(EXIT.destructive);
  });

  it("masks sensitive file contents and never prints a secret", () => {
    const plan = fixture("no-op");
    const alertmanager = plan.resource_changes!.find((r) => r.address.startsWith("docker_container.alertmanager_container_"))!;
    // Turn the recorded no-op into a rotation of the Slack webhook secret file.
    const after = JSON.parse(JSON.stringify(alertmanager.change.after)) as { upload: { file: string; content: string }[] };
    const secretFile = after.upload.find((u) => u.file.endsWith("slack_webhook_url"))!;
    secretFile.content = "https://hooks.slack.invalid/ROTATED-SECRET";
    const config = after.upload.find((u) => u.file === "/etc/alertmanager/alertmanager.yml")!;
    config.content = config.content.replace("resolve_timeout: 5m", "resolve_timeout: 10m");
    alertmanager.change = { ...alertmanager.change, actions: ["delete", "create"], after, replace_paths: [["upload"]] };
    const markdown = renderMarkdown([summarizePlan("rotation", plan)]);
    expect(markdown).toContain("slack_webhook_url");
    expect(markdown).toContain("(sensitive content changed: not shown)");
    // Terraform marks the whole upload set sensitive; the config beside the secret still shows.
    expect(markdown).toContain("+  resolve_timeout: 10m");
    expect(markdown).not.toMatch(/FIXTURE-SECRET|ROTATED-SECRET/);
  });

  it("never prints the recorded secret for any fixture", () => {
    for (const name of ["create", "no-op", "scrape-target-added", "alertmanager-removed"]) {
      expect(renderMarkdown([summary(name)])).not.toContain("FIXTURE-SECRET");
    }
  });
});

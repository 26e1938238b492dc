import * as fs from "node:fs";
import * as path from "node:path";
import { planDifferences } from "../../scripts/plan/compare";
import { redactPlan } from "../../scripts/plan/redact";
import type { PlanJson } from "../../scripts/plan/summary";
import { ROOT } from "../helpers/synth";

type Json = Parameters<typeof redactPlan>[0];
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, "__tests__/fixtures/plans", `${name}.json`), "utf8")) as Json;
const redacted = (plan: Json) => redactPlan(plan, ["https://hooks.slack.invalid/FIXTURE-SECRET"]) as PlanJson;

describe("a fresh plan against the one reviewed", () => {
  test("the same plan, redacted twice (other markers), matches", () => {
    for (const name of ["create", "scrape-target-added", "alertmanager-removed"]) expect(planDifferences(redacted(fixture(name)), redacted(fixture(name)))).toEqual([]);
  });

  test("another change is refused, with the difference shown", () => {
    const differences = planDifferences(redacted(fixture("scrape-target-added")), redacted(fixture("alertmanager-removed")));
    expect(differences.join("\n")).toMatch(/docker_volume\.\S+: not in the reviewed plan, now delete/);
    expect(differences.join("\n")).toMatch(/docker_container\.prometheus_container_\w+: .*upload reviewed /);
  });

  test("a created container with another port or image is another plan, though its summary reads the same", () => {
    const create = fixture("create") as { resource_changes: { type: string; change: { after: Record<string, Json> } }[] };
    const other = structuredClone(create);
    const container = other.resource_changes.find((rc) => rc.type === "docker_container");
    if (!container) throw new Error("the create fixture has no container");
    container.change.after.ports = [{ internal: 9090, external: 31337, ip: "127.0.0.1", protocol: "tcp" }];
    const differences = planDifferences(redacted(create as unknown as Json), redacted(other as unknown as Json));
    expect(differences).toEqual([expect.stringMatching(/^docker_container\.\S+: ports reviewed .* → .*, now null → \[\{"internal":9090,"external":31337/)]);
  });

  test("a change that went away is named too", () => {
    expect(planDifferences(redacted(fixture("scrape-target-added")), redacted(fixture("no-op")))).toEqual([expect.stringMatching(/^docker_container\.prometheus_container_\w+: reviewed delete,create, now no change$/)]);
  });
});

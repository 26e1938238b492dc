import * as fs from "node:fs";
import * as path from "node:path";
import { planDifferences } from "../../scripts/plan/compare";
import { redactPlan } from "../../scripts/plan/redact";
import type { PlanJson } from "../../scripts/plan/summary";
import { ROOT } from "../helpers/synth";

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, "__tests__/fixtures/plans", `${name}.json`), "utf8")) as PlanJson;
const redacted = (name: string) => redactPlan(fixture(name) as Parameters<typeof redactPlan>[0], ["https://hooks.slack.invalid/FIXTURE-SECRET"]) as PlanJson;

describe("a fresh plan against the one reviewed", () => {
  test("the same plan, redacted twice (other markers), matches", () => {
    for (const name of ["create", "scrape-target-added", "alertmanager-removed"]) expect(planDifferences(redacted(name), redacted(name))).toEqual([]);
  });

  test("another change is refused, with the difference shown", () => {
    const differences = planDifferences(redacted("scrape-target-added"), redacted("alertmanager-removed"));
    expect(differences.length).toBeGreaterThan(0);
    expect(differences.join("\n")).toMatch(/docker_volume\.\S+: not in the reviewed plan, now delete/);
    expect(differences.join("\n")).toMatch(/docker_container\.prometheus_container_\w+: reviewed replace of upload \(forces replacement\), files \/etc\/prometheus\/prometheus\.yml, now /);
  });

  test("a change that went away is named too", () => {
    expect(planDifferences(redacted("scrape-target-added"), redacted("no-op"))).toEqual([expect.stringMatching(/^docker_container\.prometheus_container_\w+: reviewed replace of upload .*, now no change$/)]);
  });
});

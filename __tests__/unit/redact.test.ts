import * as fs from "node:fs";
import * as path from "node:path";
import { leaks, RedactionError, redactPlan, secretValues } from "../../scripts/plan/redact";
import { renderMarkdown, summarizePlan, type PlanJson } from "../../scripts/plan/summary";
import { ROOT } from "../helpers/synth";

type Json = Parameters<typeof redactPlan>[0];
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, "__tests__/fixtures/plans", `${name}.json`), "utf8")) as Json;
const WEBHOOK = "https://hooks.slack.invalid/FIXTURE-SECRET"; // the secret the fixtures were recorded with
const KEY = Buffer.alloc(32, 7);

describe("a plan made fit to leave the machine", () => {
  test.each(["create", "no-op", "scrape-target-added", "alertmanager-removed"])("recorded plan %s: the secret is gone, the reviewer's summary is the same", (name) => {
    const raw = fixture(name);
    const redacted = redactPlan(raw, [WEBHOOK], KEY);
    expect(JSON.stringify(redacted)).not.toContain("FIXTURE-SECRET");
    expect(renderMarkdown([summarizePlan(name, redacted as PlanJson)])).toBe(renderMarkdown([summarizePlan(name, raw as PlanJson)]));
  });

  test("the recorded plans did hold the secret (the case above is not empty)", () => {
    expect(JSON.stringify(fixture("create"))).toContain("FIXTURE-SECRET");
  });

  const SECRET = "s3cret-Value-1";
  const plan: Json = {
    variables: { web_password: { value: SECRET }, web_password_bcrypt: { value: "$2b$10$abcdefghijklmnopqrstuv" } },
    resource_changes: [
      {
        address: "docker_container.grafana",
        type: "docker_container",
        change: {
          actions: ["delete", "create"],
          before: { env: ["GF_PASSWORD=old-password-1"], image: "grafana:1", upload: [{ file: "/etc/x/config.yml", content: "a: 1\n" }, { file: "/etc/x/secrets/pw", content: "old-password-1" }] },
          before_sensitive: { env: true, upload: true },
          after: { env: [`GF_PASSWORD=${SECRET}`], image: "grafana:2", upload: [{ file: "/etc/x/config.yml", content: "a: 2\n" }, { file: "/etc/x/secrets/pw", content: SECRET }] },
          after_sensitive: { env: true, upload: true },
        },
      },
      // Not marked, yet holding the value: in a label, and in a JSON file's content.
      { address: "docker_container.other", type: "docker_container", change: { actions: ["create"], before: null, after: { labels: { note: `pw ${SECRET}` }, upload: [{ file: "/a.json", content: JSON.stringify({ password: SECRET }) }] } } },
    ],
    output_changes: { token: { before: null, after: SECRET, before_sensitive: false, after_sensitive: true } },
    planned_values: { outputs: { token: { sensitive: true, value: SECRET } } },
  };

  test("masks variables, what the engine marks sensitive, secret files and any other occurrence of a secret", () => {
    const text = JSON.stringify(redactPlan(plan, [SECRET, "$2b$10$abcdefghijklmnopqrstuv"], KEY));
    for (const value of [SECRET, "old-password-1", "abcdefghijklmnopqrstuv"]) expect(text).not.toContain(value);
    expect(text).toContain('"image":"grafana:2"'); // what is not secret stays readable
    expect(text).toContain('"content":"a: 2\\n"'); // a config file in a set the engine marked as a whole
  });

  test("equal values get equal markers, a changed one another: a rotated secret still shows as a change", () => {
    const redacted = redactPlan(plan, [SECRET], KEY) as { resource_changes: { change: { before: { env: string }; after: { env: string; upload: { content: string }[] } } }[] };
    const { before, after } = redacted.resource_changes[0].change;
    expect(before.env).not.toBe(after.env);
    expect(after.upload[1].content).toMatch(/^\(sensitive [0-9a-f]{10}\)$/);
    const again = redactPlan(plan, [SECRET], KEY) as typeof redacted;
    expect(again.resource_changes[0].change.after.env).toBe(after.env);
  });

  test("a marker cannot be matched with another run's: the key is random each time", () => {
    const first = JSON.stringify(redactPlan(plan, [SECRET]));
    const second = JSON.stringify(redactPlan(plan, [SECRET]));
    expect(first).not.toBe(second);
  });

  test("refuses, writing nothing, when a secret is left where no marker reaches (base64)", () => {
    const encoded: Json = { resource_changes: [{ address: "a", type: "docker_container", change: { actions: ["create"], before: null, after: { upload: [{ file: "/x", content_base64: Buffer.from(`user:${SECRET}`).toString("base64") }] } } }] };
    expect(() => redactPlan(encoded, [SECRET], KEY)).toThrow(RedactionError);
    expect(() => redactPlan(encoded, ["another-secret-9"], KEY)).not.toThrow();
  });

  test("finds a secret base64-encoded at any alignment, and not where it is absent", () => {
    for (const prefix of ["", "a", "ab", "abc"]) expect(leaks(Buffer.from(`${prefix}${SECRET}!`).toString("base64"), SECRET)).toBe(true);
    expect(leaks(Buffer.from("nothing to see here at all").toString("base64"), SECRET)).toBe(false);
    const urlSafe = "??>>secret~~value??"; // its base64 holds + and /
    expect(Buffer.from(urlSafe).toString("base64")).toMatch(/[+/]/);
    expect(leaks(Buffer.from(urlSafe).toString("base64url"), urlSafe)).toBe(true);
  });

  test("the secrets are the TF_VAR_* values of the process", () => {
    expect(secretValues({ TF_VAR_web_password: "x1", PATH: "/bin", TF_VAR_empty: "" }).sort()).toEqual(["x1"]);
  });
});

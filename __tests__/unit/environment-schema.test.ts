/**
 * docs/environment.schema.json, the JSON Schema editors check environment files with: generated
 * from the app's zod schema, committed, named by every shipped file; it accepts what the app
 * accepts and refuses what it refuses, field by field.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";
import { ENVIRONMENT_SCHEMA_FILE, environmentJsonSchema } from "../../stacks/environment-schema";
import { SERVICES } from "../../stacks/services";
import { EnvironmentError, parseEnvironment } from "../../stacks/environment";
import { ROOT, SHIPPED_ENVIRONMENTS } from "../helpers/synth";

const committed = fs.readFileSync(path.join(ROOT, ENVIRONMENT_SCHEMA_FILE), "utf8");
// Formats (ipv4, email) are the app's to check; the schema's patterns stand for them in an editor.
const validate = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(JSON.parse(committed));
const errorsOf = (data: unknown) => (validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

describe(ENVIRONMENT_SCHEMA_FILE, () => {
  it("is what the app's schema generates (scripts/cli.sh schema writes it)", () => {
    expect(committed).toBe(environmentJsonSchema(SERVICES));
  });

  it.each(SHIPPED_ENVIRONMENTS)("is named in the first line of environments/%s.yaml, and accepts that file", (name) => {
    const text = fs.readFileSync(path.join(ROOT, "environments", `${name}.yaml`), "utf8");
    expect(text.split("\n")[0]).toBe(`# yaml-language-server: $schema=../${ENVIRONMENT_SCHEMA_FILE}`);
    expect(errorsOf(parse(text))).toEqual([]);
  });

  it.each([
    [{ name: "x", ports: { prometheus: 70000 } }, "/ports/prometheus"],
    [{ name: "x", services: ["prometheus", "grafanna"] }, "/services/1"],
    [{ name: "x", scrape: { intervall: "15s" } }, "/scrape must NOT have additional properties"],
    [{ name: "x", alerting: { email: { to: "oncall", from: "a@example.org", smarthost: "smtp:25" } } }, "/alerting/email/to"],
    [{ name: "x", alerts: { override: { HighMemoryUsage: { severity: "urgent" } } } }, "/alerts/override/HighMemoryUsage/severity"],
    [{ name: "X_invalid" }, "/name"],
    [{ description: "no name" }, "must have required property 'name'"],
  ])("refuses %j where the app does, at the same field", (file, field) => {
    expect(errorsOf(file).join("\n")).toContain(field);
    expect(() => parseEnvironment(file, "unit-test", SERVICES)).toThrow(EnvironmentError);
  });
});

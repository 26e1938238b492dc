import * as fs from "node:fs";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import { bcryptHash, exportGenerated, parseSecretFile, readSecretFile, secretFilePath, secretValue, secretVariables } from "../../scripts/lib/secret-file";
import { loadEnvironmentFile } from "../../stacks/environment-files";
import { requiredSecrets, SECRET_NAMES, SECRETS } from "../../stacks/secrets";
import { tempDir } from "../helpers/temp";

const generatable = SECRET_NAMES.filter((name) => SECRETS[name].generate);

describe("the local secrets file, .secrets/<env>.env", () => {
  it("generates each generatable secret once, privately, and keeps the caller's values", () => {
    const root = tempDir("pm-secrets");
    const said: string[] = [];
    const first = exportGenerated(root, "demo", { TF_VAR_elastic_password: "mine" }, (line) => said.push(line));
    const hashed = SECRET_NAMES.filter((name) => SECRETS[name].bcrypt).map((name) => `TF_VAR_${name}_bcrypt`);
    expect(first.map(([variable]) => variable)).toEqual([...generatable.filter((n) => n !== "elastic_password").map((n) => `TF_VAR_${n}`), ...hashed]);
    expect(said).toContain("secrets: generated TF_VAR_grafana_admin_password into .secrets/demo.env");
    const file = secretFilePath(root, "demo");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    // Again: the same values, nothing generated.
    expect(exportGenerated(root, "demo", {}, (line) => said.push(`again: ${line}`)).filter(([v]) => v !== "TF_VAR_elastic_password")).toEqual(first);
    expect(said.filter((line) => line.startsWith("again: ") && !line.includes("elastic_password"))).toEqual([]);
    expect(readSecretFile(root, "demo").grafana_admin_password).toMatch(/^[0-9a-f]{48}$/);
    expect(secretValue(root, "demo", "grafana_admin_password", {})).toBe(readSecretFile(root, "demo").grafana_admin_password);
    expect(secretValue(root, "demo", "grafana_admin_password", { TF_VAR_grafana_admin_password: "set" })).toBe("set");
  });

  it("never generates the receivers' keys, nor anything in CI", () => {
    expect(generatable).not.toContain("pagerduty_routing_key");
    expect(generatable).not.toContain("slack_webhook_url");
    expect(generatable).not.toContain("heartbeat_url");
    const root = tempDir("pm-secrets");
    expect(exportGenerated(root, "ci", { CI: "true" }, () => undefined)).toEqual([]);
    expect(fs.existsSync(secretFilePath(root, "ci"))).toBe(false);
  });

  it("reads the lines it writes, and nothing else", () => {
    expect(parseSecretFile("TF_VAR_elastic_password=a=b\n# note\nOTHER=1\nTF_VAR_x=\n")).toEqual({ elastic_password: "a=b", x: "" });
  });

  it("gives a deploy the secrets its environment needs (every generatable one when the file cannot be read: preflight names its problem)", () => {
    const root = tempDir("pm-secrets");
    const exported = secretVariables(root, "demo", { TF_VAR_elastic_password: "mine" }, () => undefined);
    const values = Object.fromEntries(Object.entries(exported).map(([variable, value]) => [variable.slice("TF_VAR_".length), value]));
    // The caller's own value stays the caller's: neither generated nor stored nor returned.
    const all: Record<string, string> = { elastic_password: "mine", ...values };
    const hashes = Object.fromEntries(SECRET_NAMES.filter((name) => SECRETS[name].bcrypt).map((name) => [`${name}_bcrypt`, bcryptHash(all[name], "demo", name)]));
    expect(values).toEqual({ ...readSecretFile(root, "demo"), ...hashes });
    expect(Object.keys(values).sort()).toEqual([...generatable.filter((name) => name !== "elastic_password"), ...Object.keys(hashes)].sort());

    fs.mkdirSync(path.join(root, "environments"));
    fs.writeFileSync(path.join(root, "environments", "small.yaml"), "name: small\nservices: [prometheus, grafana]\n");
    const needed = requiredSecrets(loadEnvironmentFile(path.join(root, "environments", "small.yaml"))).filter((name) => SECRETS[name].generate);
    expect(needed.length).toBeGreaterThan(0);
    expect(needed.length).toBeLessThan(generatable.length);
    const previous = process.env.PM_ENVIRONMENTS_DIR;
    delete process.env.PM_ENVIRONMENTS_DIR;
    try {
      expect(Object.keys(secretVariables(root, "small", {}, () => undefined)).filter((v) => !v.endsWith("_bcrypt")).sort()).toEqual(needed.map((n) => `TF_VAR_${n}`).sort());
    } finally {
      if (previous !== undefined) process.env.PM_ENVIRONMENTS_DIR = previous;
    }
  });

  it("passes the bcrypt hash of a password a web config checks: the same on every plan, verifiable, per environment", () => {
    const hash = bcryptHash("correct-horse-battery", "prod", "fleet_scrape_password");
    expect(hash).toMatch(/^\$2b\$10\$[./A-Za-z0-9]{53}$/);
    expect(bcryptHash("correct-horse-battery", "prod", "fleet_scrape_password")).toBe(hash);
    expect(bcrypt.compareSync("correct-horse-battery", hash)).toBe(true);
    expect(bcrypt.compareSync("wrong-horse-battery", hash)).toBe(false);
    expect(bcryptHash("correct-horse-battery", "dev", "fleet_scrape_password")).not.toBe(hash);
    expect(bcryptHash("correct-horse-battery", "prod", "web_password")).not.toBe(hash);
    // Set by the caller (in CI too, where nothing is generated): hashed all the same.
    const root = tempDir("pm-secrets");
    expect(exportGenerated(root, "prod", { CI: "true", TF_VAR_fleet_scrape_password: "correct-horse-battery" }, () => undefined)).toEqual([["TF_VAR_fleet_scrape_password_bcrypt", hash]]);
  });
});

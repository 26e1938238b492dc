import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import { environmentFile, loadEnvironmentFile } from "../../stacks/environment-files";
import { requiredSecrets, SECRETS } from "../../stacks/secrets";

/**
 * The local secrets file, `.secrets/<environment>.env` (git-ignored; folder 0700, file 0600): one
 * `TF_VAR_<name>=<value>` line per secret that a local deploy generated. The one module that reads
 * and writes it. Which secrets may be generated comes from the table, stacks/secrets.json.
 */

type Variables = Readonly<Record<string, string | undefined>>;

export function secretFilePath(root: string, environment: string): string {
  return path.join(root, ".secrets", `${environment}.env`);
}

/** A secret's variable: elastic_password → TF_VAR_elastic_password. */
const variableOf = (name: string) => `TF_VAR_${name}`;

/** The file's content: secret name → value. */
export function parseSecretFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^TF_VAR_([a-z0-9_]+)=(.*)$/.exec(line);
    if (match) values[match[1]] = match[2];
  }
  return values;
}

/** The values stored for an environment (none without a file). */
export function readSecretFile(root: string, environment: string): Record<string, string> {
  const file = secretFilePath(root, environment);
  return fs.existsSync(file) ? parseSecretFile(fs.readFileSync(file, "utf8")) : {};
}

/** A secret as the commands see it: TF_VAR_<name> from the caller, else the generated value. */
export function secretValue(root: string, environment: string, name: string, variables: Variables = process.env): string | undefined {
  return variables[variableOf(name)] || readSecretFile(root, environment)[name];
}

/** bcrypt's cost: exporters check a scrape's password with it (and cache the result). */
const BCRYPT_COST = 10;

/**
 * The bcrypt hash a web config (Prometheus's, an exporter's) checks a password against. The salt
 * is derived from the password, the environment and the secret's name (HMAC-SHA256, 16 bytes),
 * so the same password gives the same hash on every plan and on every machine (no change to
 * apply), while two environments or two secrets with one password still get different hashes.
 * A salt only has to be unique, not secret: this one is, per password and environment.
 */
export function bcryptHash(password: string, environment: string, name: string): string {
  const salt = crypto.createHmac("sha256", password).update(`protocol-monitoring bcrypt salt\0${environment}\0${name}`).digest().subarray(0, 16);
  return bcrypt.hashSync(password, `$2b$${BCRYPT_COST}$${bcrypt.encodeBase64(salt, 16)}`);
}

/**
 * For each secret the table lets a local deploy generate (of `only`, when given) and `variables`
 * lack, generates a value once into the file (never in CI, CI=true), and returns the variables to
 * set: [TF_VAR_<name>, value]. For a secret marked "bcrypt" in the table, also
 * TF_VAR_<name>_bcrypt, its bcrypt hash, whether the value was generated or set by the caller (in
 * CI too: it is derived, not generated).
 */
export function exportGenerated(root: string, environment: string, variables: Variables, say: (line: string) => void, only?: readonly string[]): [string, string][] {
  const exported: [string, string][] = [];
  const file = secretFilePath(root, environment);
  const values: Record<string, string> = {};
  const stored = readSecretFile(root, environment);
  for (const [name, spec] of Object.entries(SECRETS)) {
    if (only && !only.includes(name)) continue;
    const given = variables[variableOf(name)];
    if (given) values[name] = given;
    // In CI a missing secret must stop the plan, naming it: nothing is generated there.
    if (!spec.generate || given || variables.CI === "true") continue;
    let value = stored[name];
    if (value === undefined) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.chmodSync(path.dirname(file), 0o700);
      // Hex: within every secret's validation (stacks/secrets.json), and safe in any file format.
      value = crypto.randomBytes(24).toString("hex");
      fs.appendFileSync(file, `${variableOf(name)}=${value}\n`, { mode: 0o600 });
      say(`secrets: generated ${variableOf(name)} into ${path.relative(root, file)}`);
    }
    exported.push([variableOf(name), value]);
    values[name] = value;
  }
  for (const [name, spec] of Object.entries(SECRETS)) {
    const value = values[name];
    if (spec.bcrypt && value) exported.push([`${variableOf(name)}_bcrypt`, bcryptHash(value, environment, name)]);
  }
  return exported;
}

/**
 * The TF_VAR_* secrets an environment's plan needs. Values already in `variables` win; missing
 * passwords are generated once into the file. PagerDuty, Slack and heartbeat secrets are never
 * generated: set them yourself. In CI nothing is generated: a missing secret stops the plan, named
 * by preflight.
 */
export function secretVariables(root: string, envName: string, variables: Variables, say: (line: string) => void): Record<string, string> {
  let needed: string[] | undefined;
  try {
    needed = requiredSecrets(loadEnvironmentFile(environmentFile(root, envName)));
  } catch {
    needed = undefined; // an invalid file: preflight names the field; until then, every secret
  }
  return Object.fromEntries(exportGenerated(root, envName, variables, say, needed));
}

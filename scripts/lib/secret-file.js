// @ts-check
// Plain JavaScript on purpose: scripts/lib/secrets.sh runs it before (and without) any build.
"use strict";
/**
 * The local secrets file, `.secrets/<environment>.env` (git-ignored; folder 0700, file 0600): one
 * `TF_VAR_<name>=<value>` line per secret that a local deploy generated. The one module that reads
 * and writes it: scripts/lib/secrets.sh runs it as a program, scripts/health.ts imports it. Which
 * secrets may be generated comes from the table, stacks/secrets.json.
 *
 *   node scripts/lib/secret-file.js export ENV [NAME…]
 *       For each secret the table lets a local deploy generate (of the NAMEs given: the ones the
 *       environment needs) and the caller's environment lacks,
 *       generates a value once into .secrets/ENV.env (never in CI, CI=true), then prints
 *       TF_VAR_<name>=<value> pairs, each ended by a NUL byte, for the shell to export.
 *       Run from the project root; says on stderr what it generated. For a secret marked
 *       "bcrypt" in the table, also TF_VAR_<name>_bcrypt: its bcrypt hash (bcryptHash), whether
 *       the value was generated or set by the caller (in CI too: it is derived, not generated).
 */
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { secrets: TABLE } = require("../../stacks/secrets.json");

/** @typedef {Readonly<Record<string, string | undefined>>} Variables */

/**
 * @param {string} root the project root
 * @param {string} environment
 */
function secretFilePath(root, environment) {
  return path.join(root, ".secrets", `${environment}.env`);
}

/** @param {string} name a secret's name, e.g. elastic_password */
function variableOf(name) {
  return `TF_VAR_${name}`;
}

/**
 * @param {string} text the file's content
 * @returns {Record<string, string>} secret name → value
 */
function parseSecretFile(text) {
  /** @type {Record<string, string>} */
  const values = {};
  for (const line of text.split("\n")) {
    const match = /^TF_VAR_([a-z0-9_]+)=(.*)$/.exec(line);
    if (match) values[match[1]] = match[2];
  }
  return values;
}

/**
 * The values stored for an environment (none without a file).
 * @param {string} root
 * @param {string} environment
 */
function readSecretFile(root, environment) {
  const file = secretFilePath(root, environment);
  return fs.existsSync(file) ? parseSecretFile(fs.readFileSync(file, "utf8")) : {};
}

/**
 * A secret as the scripts see it: TF_VAR_<name> from the caller, else the generated value.
 * @param {string} root
 * @param {string} environment
 * @param {string} name
 * @param {Variables} [variables]
 * @returns {string | undefined}
 */
function secretValue(root, environment, name, variables = process.env) {
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
 * @param {string} password
 * @param {string} environment
 * @param {string} name the secret's name
 */
function bcryptHash(password, environment, name) {
  const bcrypt = require("bcryptjs");
  const salt = crypto.createHmac("sha256", password).update(`protocol-monitoring bcrypt salt\0${environment}\0${name}`).digest().subarray(0, 16);
  return bcrypt.hashSync(password, `$2b$${BCRYPT_COST}$${bcrypt.encodeBase64(salt, 16)}`);
}

/**
 * Generates what is missing (not in CI) and returns the variables to export.
 * @param {string} root
 * @param {string} environment
 * @param {Variables} variables the caller's environment: values set there win
 * @param {(line: string) => void} say
 * @param {readonly string[]} [only] the secrets to consider (default: all)
 * @returns {[string, string][]} [TF_VAR_<name>, value]
 */
function exportGenerated(root, environment, variables, say, only) {
  /** @type {[string, string][]} */
  const exported = [];
  const file = secretFilePath(root, environment);
  /** @type {Record<string, string>} */
  const values = {};
  const stored = readSecretFile(root, environment);
  for (const [name, spec] of Object.entries(TABLE)) {
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
  for (const [name, spec] of Object.entries(TABLE)) {
    const value = values[name];
    if (/** @type {{ bcrypt?: boolean }} */ (spec).bcrypt && value) exported.push([`${variableOf(name)}_bcrypt`, bcryptHash(value, environment, name)]);
  }
  return exported;
}

module.exports = { secretFilePath, parseSecretFile, readSecretFile, secretValue, exportGenerated, bcryptHash };

if (require.main === module) {
  const [command, environment, ...only] = process.argv.slice(2);
  if (command !== "export" || !environment) {
    console.error("usage: node scripts/lib/secret-file.js export ENV [NAME…]");
    process.exitCode = 2;
  } else {
    const pairs = exportGenerated(process.cwd(), environment, process.env, (line) => console.error(line), only.length ? only : undefined);
    process.stdout.write(pairs.map(([variable, value]) => `${variable}=${value}\0`).join(""));
  }
}

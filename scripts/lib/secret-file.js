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
 *       Run from the project root; says on stderr what it generated.
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
  // In CI a missing secret must stop the plan, naming it: nothing is generated there.
  if (variables.CI === "true") return exported;
  const file = secretFilePath(root, environment);
  for (const [name, spec] of Object.entries(TABLE)) {
    if (!spec.generate || variables[variableOf(name)] || (only && !only.includes(name))) continue;
    let value = readSecretFile(root, environment)[name];
    if (value === undefined) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.chmodSync(path.dirname(file), 0o700);
      // Hex: within every secret's validation (stacks/secrets.json), and safe in any file format.
      value = crypto.randomBytes(24).toString("hex");
      fs.appendFileSync(file, `${variableOf(name)}=${value}\n`, { mode: 0o600 });
      say(`secrets: generated ${variableOf(name)} into ${path.relative(root, file)}`);
    }
    exported.push([variableOf(name), value]);
  }
  return exported;
}

module.exports = { secretFilePath, parseSecretFile, readSecretFile, secretValue, exportGenerated };

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

/**
 * OpenTofu's state and plan encryption, for real (the OpenTofu the bootstrap builds, whatever
 * engine the machine has): an environment deployed with `encryption: { enabled: true }` and
 * sentinel secrets leaves no secret, private key or plan in the clear anywhere in its folders; its
 * second plan is empty; the passphrase is rotated (key 2 reads what key 1 wrote) and the old one
 * alone no longer reads the state; Terraform is refused before anything runs. The same with the
 * state in PostgreSQL (a throw-away server): the row the backend holds is encrypted.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import type { EnvironmentFile } from "../../stacks/environment";
import { ROOT } from "../helpers/synth";
import { deployScript, dockerObjects, localImages, removeEverything, reservePorts, sequentialSteps, workspace } from "./harness";

jest.setTimeout(10 * 60_000);

const runId = crypto.randomBytes(3).toString("hex");
const name = `enc-${runId}`;
const { work, dirs, variables } = workspace(name);
const tofu = path.join(ROOT, ".tools/bin/tofu");
const sentinel = (what: string) => `sentinel-${what}-${crypto.randomBytes(12).toString("hex")}`;
const webPassword = sentinel("web");
const [firstPassphrase, secondPassphrase] = [sentinel("passphrase-one"), sentinel("passphrase-two")];
const baseEnv = { ...process.env, ...variables, CI: "true", TERRAFORM_BINARY_NAME: tofu, TF_VAR_web_password: webPassword };
const report = (line: string) => process.stdout.write(`e2e encryption: ${line}\n`);
const step = sequentialSteps(name);
let file: EnvironmentFile;
const pgName = `${name}-pg`;
const pgDir = path.join(os.tmpdir(), `pm-${name}-pg`);

function write(encryption: EnvironmentFile["encryption"]) {
  fs.mkdirSync(dirs.environments, { recursive: true });
  fs.writeFileSync(path.join(dirs.environments, `${name}.yaml`), stringify({ ...file, encryption }));
}

function run(args: string[], passphrases: { current: string; previous?: string }, extra: NodeJS.ProcessEnv = {}) {
  const env = { ...baseEnv, TF_VAR_state_passphrase: passphrases.current, ...(passphrases.previous ? { TF_VAR_state_passphrase_previous: passphrases.previous } : {}), ...extra };
  const result = deployScript(env, args, 300);
  report(`cli.sh ${args.join(" ")}: exit ${result.status} in ${result.seconds.toFixed(1)} s`);
  return result;
}

/** Every file under the run's folders (state, plans, synthesized stack) that holds one of the texts, or a PEM private key. */
function filesHolding(texts: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const at = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        // The engine's own provider binaries hold no state.
        if (entry.name !== "providers") walk(at);
        continue;
      }
      const content = fs.readFileSync(at).toString("latin1");
      if (texts.some((text) => content.includes(text)) || content.includes("PRIVATE KEY-----")) found.push(path.relative(work, at));
    }
  };
  walk(work);
  return found;
}

beforeAll(async () => {
  if (!fs.existsSync(tofu)) throw new Error(`${tofu} is missing: npm test runs the bootstrap, which builds it`);
  const reserved = await reservePorts(1);
  await reserved.release(); // the first deploy is the next test
  // webAuth: the state then holds a password and the CA's and a server certificate's private keys.
  file = { name, services: ["prometheus"], images: { prometheus: localImages().prometheus }, ports: { prometheus: reserved.ports[0] }, webAuth: { enabled: true } };
});

afterAll(() => {
  removeEverything(name);
  removeEverything(pgName);
  spawnSync(path.join(ROOT, "scripts/test-postgres.sh"), ["stop", pgDir]);
  fs.rmSync(work, { recursive: true, force: true });
});

test("deployed with OpenTofu and encryption, no secret, private key or plan is anywhere in the clear, and a second plan is empty", () =>
  step(async () => {
    write({ enabled: true });
    const deployed = run(["deploy", name, "--auto-approve"], { current: firstPassphrase });
    if (deployed.status !== 0) throw new Error(deployed.output);
    const state = JSON.parse(fs.readFileSync(path.join(dirs.state, `${name}.tfstate`), "utf8")) as Record<string, unknown>;
    expect(Object.keys(state)).toEqual(expect.arrayContaining(["encrypted_data", "encryption_version"]));
    expect(state).not.toHaveProperty("resources");
    expect(filesHolding([webPassword, firstPassphrase])).toEqual([]);
    // The saved plan holds the password (the engine shows it with the key), yet is no readable file.
    const out = path.join(dirs.out, "stacks", name);
    const shown = spawnSync(tofu, [`-chdir=${out}`, "show", "-json", "plan.bin"], { env: { ...baseEnv, TF_VAR_state_passphrase: firstPassphrase }, encoding: "utf8" });
    expect(shown.stdout).toContain(webPassword);
    expect(fs.readFileSync(path.join(out, "plan.bin")).subarray(0, 2).toString("latin1")).not.toBe("PK");
    const noKey = spawnSync(tofu, [`-chdir=${out}`, "show", "-json", "plan.bin"], { env: { ...baseEnv, TF_VAR_state_passphrase: sentinel("wrong-passphrase") }, encoding: "utf8" });
    expect(noKey.status).not.toBe(0);
    expect(noKey.stdout).not.toContain(webPassword);
    expect(run(["diff", name], { current: firstPassphrase }).output).toContain(`${name}: no changes`);
    report(`deployed in ${deployed.seconds.toFixed(0)} s; state is ${Object.keys(state).join(", ")}; no sentinel in ${dirs.state}, ${dirs.plans} or ${dirs.out}`);
  }));

test("Terraform is refused before anything runs, naming the engine and the fix", () =>
  step(async () => {
    // An engine that says it is Terraform: the check reads `version` and nothing else.
    const fake = path.join(work, "terraform");
    fs.writeFileSync(fake, '#!/bin/sh\n[ "$1" = version ] && echo "Terraform v1.11.4" && exit 0\necho "fake terraform: $* must not run" >&2; exit 99\n', { mode: 0o755 });
    const refused = run(["deploy", name, "--auto-approve"], { current: firstPassphrase }, { TERRAFORM_BINARY_NAME: fake });
    expect(refused.status).toBe(1);
    expect(refused.output).toContain(`${name}: encryption.enabled needs OpenTofu; the engine is Terraform v1.11.4 (${fake})`);
    expect(refused.output).not.toContain("must not run");
    // So does a plan for review (npm run plan, what the pull-request workflow runs).
    const planned = spawnSync(path.join(ROOT, "scripts/cli.sh"), ["plan", name], { env: { ...baseEnv, TF_VAR_state_passphrase: firstPassphrase, TERRAFORM_BINARY_NAME: fake }, encoding: "utf8" });
    expect(planned.status).toBe(1);
    expect(planned.stderr).toContain(`plan: ${name}: encryption.enabled needs OpenTofu; the engine is Terraform v1.11.4`);
    expect(planned.stderr).not.toContain("must not run");
  }));

test("the passphrase rotates: key 2 reads what key 1 wrote and writes anew, and the old passphrase alone reads nothing", () =>
  step(async () => {
    write({ enabled: true, key: 2, previousKey: 1 });
    const rotated = run(["deploy", name, "--auto-approve"], { current: secondPassphrase, previous: firstPassphrase });
    if (rotated.status !== 0) throw new Error(rotated.output);
    write({ enabled: true, key: 2 });
    expect(run(["diff", name], { current: secondPassphrase }).output).toContain(`${name}: no changes`);
    const old = run(["diff", name], { current: firstPassphrase });
    expect(old.status).not.toBe(0);
    expect(old.output).toMatch(/decrypt/i);
    expect(filesHolding([webPassword, firstPassphrase, secondPassphrase])).toEqual([]);
    report(`rotated in ${rotated.seconds.toFixed(0)} s; the first passphrase alone: exit ${old.status}`);
  }));

test("destroy leaves nothing on Docker", () =>
  step(async () => {
    const destroyed = run(["destroy", name, "--auto-approve"], { current: secondPassphrase });
    if (destroyed.status !== 0) throw new Error(destroyed.output);
    expect(dockerObjects(name)).toEqual({ containers: [], volumes: [], networks: [] });
  }));

test("with the state in PostgreSQL, the backend holds it encrypted too", () =>
  step(async () => {
    const started = spawnSync(path.join(ROOT, "scripts/test-postgres.sh"), ["start", pgDir], { encoding: "utf8" });
    if (started.status !== 0) throw new Error(`PostgreSQL did not start:\n${started.stderr}`);
    const connection = started.stdout.trim();
    // In place of the first environment (destroyed above), whose host port it takes.
    fs.rmSync(path.join(dirs.environments, `${name}.yaml`));
    fs.writeFileSync(path.join(dirs.environments, `${pgName}.yaml`), stringify({ ...file, name: pgName, state: { backend: "pg" }, encryption: { enabled: true } }));
    const deployed = run(["deploy", pgName, "--auto-approve"], { current: firstPassphrase }, { PG_CONN_STR: connection });
    if (deployed.status !== 0) throw new Error(deployed.output);
    const schema = `protocol_monitoring_${pgName.replace(/-/g, "_")}`;
    const rows = spawnSync("psql", [connection, "-Atc", `select data from ${schema}.states`], { encoding: "utf8" });
    if (rows.status !== 0) throw new Error(rows.stderr);
    expect(rows.stdout).toContain("encrypted_data");
    for (const secret of [webPassword, firstPassphrase, "PRIVATE KEY-----"]) expect(rows.stdout).not.toContain(secret);
    const destroyed = run(["destroy", pgName, "--auto-approve"], { current: firstPassphrase }, { PG_CONN_STR: connection });
    if (destroyed.status !== 0) throw new Error(destroyed.output);
    expect(dockerObjects(pgName)).toEqual({ containers: [], volumes: [], networks: [] });
    report(`pg backend: the states row (${rows.stdout.length} bytes) is encrypted; deployed in ${deployed.seconds.toFixed(0)} s`);
  }));

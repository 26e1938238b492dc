/**
 * `destroy` leaves nothing of an environment, whatever its state remembers: environments deployed
 * from one checkout's folders, which are then deleted (state included), are destroyed from
 * another's. A second environment on the same engine is untouched; one with protectData keeps its
 * data volumes and names them; a shared state backend that does not answer removes nothing.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import type { EnvironmentFile } from "../../stacks/environment";
import { ROOT } from "../helpers/synth";
import { deployScript, dockerObjects, fingerprint, localImages, removeEverything, reservePorts, sequentialSteps, workspace, type PortReservation } from "./harness";

jest.setTimeout(10 * 60_000);

const runId = crypto.randomBytes(3).toString("hex");
const lost = `gone-${runId}`;
const guarded = `gone-${runId}-data`;
const peer = `gone-${runId}-peer`;
/** The checkout that is lost, and the one the user destroys from. */
const first = workspace(lost);
const second = workspace(`${lost}-b`);
const scriptEnv = (at: typeof first, extra: NodeJS.ProcessEnv = {}) => ({ ...process.env, ...at.variables, CI: "true", ...extra });
const report = (line: string) => process.stdout.write(`e2e destroy: ${line}\n`);
const step = sequentialSteps(lost, guarded, peer);
const lastLine = (output: string) => output.trim().split("\n").pop() ?? "";

let reserved: PortReservation;
const files: Record<string, EnvironmentFile> = {};

function write(at: typeof first, file: EnvironmentFile) {
  fs.mkdirSync(at.dirs.environments, { recursive: true });
  fs.writeFileSync(path.join(at.dirs.environments, `${file.name}.yaml`), stringify(file));
}

function run(at: typeof first, args: string[], extra: NodeJS.ProcessEnv = {}) {
  const result = deployScript(scriptEnv(at, extra), args, 300);
  report(`cli.sh ${args.join(" ")}: exit ${result.status} in ${result.seconds.toFixed(1)} s`);
  return result;
}

function succeed(at: typeof first, args: string[], extra: NodeJS.ProcessEnv = {}) {
  const result = run(at, args, extra);
  if (result.status !== 0) throw new Error(`cli.sh ${args.join(" ")} exited ${result.status}:\n${result.output}`);
  return result.output;
}

beforeAll(async () => {
  reserved = await reservePorts(4);
  const [p1, p2, p3, p4] = reserved.ports;
  const images = localImages();
  files[lost] = { name: lost, services: ["prometheus", "alertmanager"], images: { prometheus: images.prometheus, alertmanager: images.alertmanager }, ports: { prometheus: p1, alertmanager: p2 } };
  files[guarded] = { name: guarded, services: ["prometheus"], images: { prometheus: images.prometheus }, ports: { prometheus: p3 }, protectData: true };
  files[peer] = { name: peer, services: ["prometheus"], images: { prometheus: images.prometheus }, ports: { prometheus: p4 } };
  for (const file of Object.values(files)) write(first, file);
  // The other checkout has the same environment files, and no state.
  for (const name of [lost, guarded]) write(second, files[name]);
});

afterAll(async () => {
  await reserved.release();
  for (const name of [lost, guarded, peer]) removeEverything(name);
  for (const at of [first, second]) fs.rmSync(at.work, { recursive: true, force: true });
});

let peerBefore: Record<string, string>;
let peerObjects: ReturnType<typeof dockerObjects>;

test("three environments deployed from one checkout, whose folders (state included) are then deleted", () =>
  step(async () => {
    await reserved.release();
    // As CI on main deploys: only the plan reviewed (PM_REVIEWED_PLAN). Another is refused before
    // anything is created; the one `npm run plan` wrote for review is applied.
    const other = path.join(first.work, "another-plan.json");
    fs.writeFileSync(other, JSON.stringify({ resource_changes: [] }));
    const refused = run(first, ["deploy", lost, "--auto-approve"], { PM_REVIEWED_PLAN: other });
    expect(refused.status).toBe(1);
    expect(refused.output).toContain(`not applied: this plan is not the one reviewed in ${other}`);
    expect(refused.output).toMatch(/docker_container\.\S+: not in the reviewed plan, now create/);
    expect(dockerObjects(lost)).toEqual({ containers: [], volumes: [], networks: [] });
    const planned = spawnSync(path.join(ROOT, "scripts/cli.sh"), ["plan", lost], { cwd: ROOT, env: scriptEnv(first), encoding: "utf8" });
    expect(planned.status).toBe(0);
    succeed(first, ["deploy", lost, "--auto-approve"], { PM_REVIEWED_PLAN: path.join(first.dirs.plans, `${lost}.json`) });
    for (const name of [guarded, peer]) succeed(first, ["deploy", name, "--auto-approve"]);
    peerBefore = fingerprint(peer);
    peerObjects = dockerObjects(peer);
    expect(dockerObjects(lost).containers).toEqual([`${lost}-alertmanager`, `${lost}-prometheus`]);
    fs.rmSync(first.work, { recursive: true, force: true });
  }));

test("a shared state backend that does not answer: an error naming it, and nothing removed", () =>
  step(async () => {
    const before = dockerObjects(lost);
    const closed = await reservePorts(1); // nothing listens there once released
    await closed.release();
    write(second, { ...files[lost], state: { backend: "pg" } });
    try {
      const result = run(second, ["destroy", lost, "--auto-approve"], { PG_CONN_STR: `postgres://pm@127.0.0.1:${closed.ports[0]}/pm?sslmode=disable&connect_timeout=3` });
      expect(result.status).not.toBe(0);
      expect(result.output).toContain(`the pg state backend (127.0.0.1:${closed.ports[0]}) cannot be reached: nothing was changed`);
      expect(dockerObjects(lost)).toEqual(before);
    } finally {
      write(second, files[lost]);
    }
  }));

test("destroy from the other checkout lists, then removes, every object of the environment; the peer is untouched", () =>
  step(async () => {
    const output = succeed(second, ["destroy", lost, "--auto-approve"]);
    expect(output).toContain(`no state records these objects of ${lost}; the destroy removes them too:\n  container ${lost}-alertmanager\n  container ${lost}-prometheus\n  network ${lost}-monitoring`);
    expect(output).not.toContain("is running");
    expect(lastLine(output)).toMatch(new RegExp(`^destroy: ${lost}: removed 2 containers, 1 network, 2 volumes; nothing of ${lost} is left on Docker, in `));
    expect(dockerObjects(lost)).toEqual({ containers: [], volumes: [], networks: [] });
    expect(fingerprint(peer)).toEqual(peerBefore);
    expect(dockerObjects(peer)).toEqual(peerObjects);
    // Asked again, it says there is nothing.
    expect(lastLine(succeed(second, ["destroy", lost, "--auto-approve"]))).toMatch(new RegExp(`^destroy: ${lost}: nothing of ${lost} was on Docker, in `));
  }));

test("with protectData the data volumes stay and are named, whether the state is lost or kept", () =>
  step(async () => {
    const volume = `${guarded}-prometheus-data`;
    const kept = new RegExp(`left on Docker: volume ${volume} \\(protectData: the data stays; \`docker volume rm ${volume}\` removes it`);
    const lostState = succeed(second, ["destroy", guarded, "--auto-approve"]);
    expect(lastLine(lostState)).toMatch(new RegExp(`^destroy: ${guarded}: removed 1 container, 1 network; `));
    expect(lastLine(lostState)).toMatch(kept);
    expect(dockerObjects(guarded)).toEqual({ containers: [], volumes: [volume], networks: [] });
    // Deployed again, the kept volume is adopted; destroyed with its state, it is kept again.
    succeed(second, ["deploy", guarded, "--auto-approve"]);
    expect(dockerObjects(guarded).containers).toEqual([`${guarded}-prometheus`]);
    const withState = succeed(second, ["destroy", guarded, "--auto-approve"]);
    expect(lastLine(withState)).toMatch(kept);
    expect(dockerObjects(guarded)).toEqual({ containers: [], volumes: [volume], networks: [] });
    expect(fingerprint(peer)).toEqual(peerBefore);
  }));

import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { spawn, spawnSync } from "node:child_process";
import { environmentFile, loadEnvironmentFile } from "../stacks/environment-files";
import { ENVIRONMENT_LABEL } from "../stacks/labels";
import type { Environment } from "../stacks/environment";
import { adoptLeftovers, goneFromDocker, type RecordingPlan } from "./adopt";
import { fleetImages, sendLocalImages } from "./docker-host";
import { Phases } from "./lib/phases";
import { secretVariables } from "./lib/secret-file";
import { CommandFailure } from "./lib/failure";
import { ROOT, bootstrap, encryptionEngineProblem, engineBinary, prepareEngine } from "./lib/engine";
import { planDifferences } from "./plan/compare";
import { redactPlan, secretValues, type Json } from "./plan/redact";
import { summarizePlanFiles } from "./plan/summarize-files";
import type { PlanJson } from "./plan/summary";
import { DEFAULT_ENVIRONMENT, chooseDefault, dockerHost, preflight, preflightFailure } from "./preflight";
import { reportOfPlan } from "./report";
import { readStackFacts, type StackFacts } from "./stack-facts";
import { finishDestroy, removeUnplannedContainers, unplannedObjects, type PlacedObject } from "./sweep";
import { stackDir, startSynth } from "./lib/app";

/**
 * `npm run deploy|destroy|diff`: one environment, after installing what it needs.
 *
 * Before anything slow it checks, in seconds, that every image and secret is there (preflight).
 * The engine runs with input disabled and its errors are printed in full. Secrets come from TF_VAR_*
 * variables; locally, missing passwords are generated once into .secrets/<ENV>.env. A destroy
 * removes every container, network and volume labelled with the environment on each of its Docker
 * hosts, whether its state records them or not, and nothing of another environment; with
 * protectData it keeps the data volumes and names them. The last line says where the time went.
 */

export type EnvironmentCommand = "deploy" | "destroy" | "diff";

export interface EnvironmentCommandOptions {
  /** Apply without asking. */
  readonly autoApprove: boolean;
}

/** The plan's exit codes (scripts/plan/summary.ts's EXIT): 0 nothing to do, 2 changes, 3 changes that delete data. */
type Verdict = 0 | 2 | 3;

/** Runs the command; the exit code. A failure the user is told about is a CommandFailure. */
export async function environmentCommand(command: EnvironmentCommand, named: string | undefined, options: EnvironmentCommandOptions): Promise<number> {
  const say = (line: string) => process.stderr.write(`${command}: ${line}\n`);
  const phases = new Phases();
  const started = Date.now();
  process.env.TF_INPUT = "0";
  bootstrap("--docker-only");

  let envName = named;
  if (!envName) {
    envName = await defaultEnvironment();
    say(`no environment named: deploying the default, ${envName}`);
  }
  // Who holds a shared state lock is visible to others in PostgreSQL (lockHolder).
  process.env.PGAPPNAME = `pm ${command} ${envName} ${os.userInfo().username}@${os.hostname().split(".")[0]} pid ${process.pid}`;

  // Seconds, before any build: the environment file, its images and its secrets.
  Object.assign(process.env, secretVariables(ROOT, envName, process.env, (line) => process.stderr.write(`${line}\n`)));
  const env = loadEnvironmentFile(environmentFile(ROOT, envName));
  const checked = await preflight(env, dockerHost(env), { variables: process.env, allowStandins: process.env.PM_ALLOW_STANDINS === "1", images: command === "deploy" });
  if (checked.problems.length) throw preflightFailure(env, checked.problems);
  say(`preflight ok (${Math.floor((Date.now() - started) / 1000)} s)`);

  const dir = stackDir(envName);
  await synthesizeWhile(() => {
    prepareEngine("--deploy");
    if (checked.localBuilds.length && command === "deploy") sendBuiltImages(env, buildLocalImages(checked.localBuilds), say);
  });
  const facts = readStackFacts(dir);
  const problem = encryptionEngineProblem(envName, facts.encrypted);
  if (problem) throw new CommandFailure(`${command}: ${problem}`);

  const run = new EngineRun(command, env, dir, facts, say);
  try {
    return await run.execute(phases, { implicitDefault: !named, autoApprove: options.autoApprove });
  } finally {
    run.cleanUp();
  }
}

/** The environment `npm run deploy` deploys when none is named: dev where its images can be had, else the offline default. */
export async function defaultEnvironment(): Promise<string> {
  const dev = loadEnvironmentFile(environmentFile(ROOT, DEFAULT_ENVIRONMENT));
  const choice = await chooseDefault(dev, dockerHost(dev));
  if (choice.reason) process.stderr.write(`preflight: ${choice.reason}: the default is the offline environment "${choice.name}"\n`);
  return choice.name;
}

/**
 * Runs the app's synth (a child: cdktf's App) while `work` runs, since the stack names its images
 * by tag; stops it when the work fails.
 */
async function synthesizeWhile(work: () => void): Promise<void> {
  const synth = startSynth();
  try {
    work();
  } catch (error) {
    synth.child.kill();
    synth.done.catch(() => undefined); // its exit is the work's failure, said already
    throw error;
  }
  await synth.done;
}

/** Builds the named local images (scripts/build-local-images.sh); their tags. */
export function buildLocalImages(names: readonly string[]): string[] {
  const built = spawnSync(path.join(ROOT, "scripts/build-local-images.sh"), names, { cwd: ROOT, encoding: "utf8", stdio: ["inherit", "pipe", "inherit"] });
  if (built.status !== 0) throw new CommandFailure("the local images could not be built (errors above)");
  return built.stdout.split("\n").filter(Boolean);
}

/** A remote Docker host gets the images the way it would without a registry (docker save | load); each fleet host, the ones it runs. */
function sendBuiltImages(env: Environment, tags: readonly string[], say: (line: string) => void): void {
  const sent = sendLocalImages(env, tags).map((reference) => `${reference} → ${env.docker.host}`);
  const forFleet = tags.filter((tag) => fleetImages(env).includes(tag));
  for (const host of env.hosts) sent.push(...sendLocalImages(host.docker, forFleet).map((reference) => `${reference} → ${host.name} (${host.docker.host})`));
  if (sent.length) say(`sent to the Docker host:\n${sent.map((line) => `  ${line}`).join("\n")}`);
}

type PlannedResource = { type: string; change: { actions: string[] } };
/** The plan as `show -json` gives it: what the summary, adoption, the sweep and the report read. */
type Plan = PlanJson & RecordingPlan & Parameters<typeof reportOfPlan>[1] & { resource_changes?: PlannedResource[] };

/** One command's engine work on one synthesized stack: init, plan, the question, apply, the last line. */
class EngineRun {
  private readonly plans = process.env.PM_PLANS_DIR ?? "plans";
  private readonly stateDir = process.env.PM_STATE_DIR ?? "state";
  private readonly log: string;
  /** The plan as JSON, secrets and all, beside the binary plan: never in plans/, whose <env>.json is the redacted plan that may leave the machine. */
  private readonly json: string;
  private readonly engine = engineBinary();
  private readonly parallelism = "-parallelism=64";

  constructor(
    private readonly command: EnvironmentCommand,
    private readonly env: Environment,
    private readonly dir: string,
    private readonly facts: StackFacts,
    private readonly say: (line: string) => void,
  ) {
    // State and plans hold the secrets' values: only the owner may read them.
    process.umask(0o077);
    for (const folder of [this.plans, this.stateDir]) {
      fs.mkdirSync(folder, { recursive: true });
      fs.chmodSync(folder, 0o700);
    }
    this.log = path.join(this.plans, `${env.name}.${command}.log`);
    this.json = path.join(dir, `${env.name}.json`);
    fs.writeFileSync(this.log, "");
  }

  async execute(phases: Phases, { implicitDefault, autoApprove }: { implicitDefault: boolean; autoApprove: boolean }): Promise<number> {
    const { command, env, say } = this;
    this.init();
    if (this.facts.backend !== "local" && fs.existsSync(path.join(this.stateDir, `${env.name}.tfstate`)) && !this.stateList()) {
      say(`${env.name}'s file names the ${this.facts.backend} backend, which holds no state for it, but ${this.stateDir}/${env.name}.tfstate does:`);
      say(`move it first with \`npm run state:migrate -- ${env.name}\` (docs/team-state.md)`);
      return 1;
    }
    fs.rmSync(path.join(this.dir, "adopt.tf.json"), { force: true });
    phases.end("checks, build and synth");

    let plan = this.makePlanFor(command);
    // Objects an interrupted run created but never recorded are adopted (import blocks), not
    // re-created: looked for when the plan creates a container, network or volume, and only once a
    // plan got the lock (a run still going holds it, and its objects are its own).
    if (command !== "destroy" && createsDockerObjects(plan)) {
      const adopted = adoptLeftovers(env, this.dir, plan);
      if (adopted.length) {
        say(`adopting what an interrupted run left on Docker (the plan shows each):\n${adopted.map((line) => `  ${line}`).join("\n")}`);
        plan = this.makePlan();
      }
    }
    const planVerdict = summarizePlanFiles([this.json]) as Verdict;
    let verdict = planVerdict;
    phases.end("plan");

    // Whatever the state remembers (a lost one remembers nothing): every object labelled with the
    // environment, on each of its hosts, goes too; what is on Docker now is kept for the last line.
    let snapshot: PlacedObject[] = [];
    if (command === "destroy") {
      const unplanned = unplannedObjects(env, plan);
      snapshot = unplanned.snapshot;
      if (unplanned.lines.length) {
        say(`no state records these objects of ${env.name}; the destroy removes them too:\n${unplanned.lines.map((line) => `  ${line}`).join("\n")}`);
        if (verdict === 0) verdict = 2;
        if (unplanned.extra.some((o) => o.type === "docker_volume")) {
          say("CAUTION: the data in those volumes is deleted with them");
          verdict = 3;
        }
      }
    }
    if (verdict === 0) {
      if (command === "deploy") {
        // Rotating the state's key (encryption.previousKey): the state is written again with the new
        // key, with no changes too (the engine writes it on apply, not on plan).
        if (this.facts.encrypted === "rotating") {
          const applied = spawnSync(this.engine, [`-chdir=${this.dir}`, "apply", "-input=false", "-no-color", "plan.bin"], { encoding: "utf8" });
          fs.appendFileSync(this.log, applied.stdout + applied.stderr);
          if (applied.status !== 0) {
            process.stderr.write(`${(applied.stdout + applied.stderr).split("\n").slice(-20).join("\n")}\n`);
            throw new CommandFailure(`${command}: ${env.name}: the state could not be written with the new key (whole output in ${this.log})`);
          }
          say(`${env.name}: state written with encryption.key`);
        }
        console.log(reportOfPlan(env, plan));
        phases.end("report");
        say(`${env.name}: no changes, ${phases.timing()}`);
      } else if (command === "destroy") {
        this.finishDestroy(snapshot, phases);
      } else {
        say(`${env.name}: no changes, ${phases.timing()}`);
      }
      return 0;
    }
    if (command === "diff") return 0;
    // CI on main: only the plan a pull request showed is applied (docs/plans-in-pull-requests.md).
    const reviewed = process.env.PM_REVIEWED_PLAN;
    if (reviewed && command === "deploy") {
      const differences = planDifferences(JSON.parse(fs.readFileSync(reviewed, "utf8")) as PlanJson, redactPlan(plan as Json, secretValues(process.env)) as PlanJson);
      if (differences.length) {
        process.stderr.write(`the plan differs from the one reviewed (${differences.length}):\n${differences.map((d) => `- ${d}`).join("\n")}\n`);
        say(`not applied: this plan is not the one reviewed in ${reviewed} (differences above)`);
        return 1;
      }
    }
    if (!(await this.approved(verdict, implicitDefault, autoApprove))) return 1;
    phases.restart();

    // A container no state records would keep the network and volumes in use.
    if (command === "destroy") removeUnplannedContainers(env, plan);
    // Applies exactly the plan shown; containers are waited for until healthy.
    if (planVerdict !== 0 && !(await this.apply())) {
      if (/already (exists|in use)/.test(fs.readFileSync(this.log, "utf8"))) {
        // One literal: docs/troubleshooting.md quotes it.
        say(`a Docker object with one of ${env.name}'s names is not in its state. Objects labelled ${ENVIRONMENT_LABEL}=${env.name} are adopted by the next \`npm run deploy -- ${env.name}\`; anything else with that name is not this environment's: rename or remove it.`);
      }
      return 1;
    }
    phases.end("apply");
    if (command === "destroy") {
      this.finishDestroy(snapshot, phases);
      return 0;
    }
    console.log(reportOfPlan(env, plan));
    phases.end("report");
    say(`done ${phases.timing()}`);
    return 0;
  }

  /** The engine keeps a file's mode when it rewrites it: tighten one an older version left readable; an encrypted stack's plan JSON (secrets in the clear) does not outlive the run. */
  cleanUp(): void {
    if (fs.existsSync(this.stateDir)) {
      for (const file of fs.readdirSync(this.stateDir).filter((f) => f.startsWith(`${this.env.name}.tfstate`))) fs.chmodSync(path.join(this.stateDir, file), 0o600);
    }
    if (this.facts.encrypted !== "no") fs.rmSync(this.json, { force: true });
  }

  /** -reconfigure: the environment file says where the state lives, not what this folder remembers. Skipped when the stack's backend and providers, the connection string and the provider build are what the last init of this folder saw. */
  private init(): void {
    const builtFrom = ["docker-provider", "tls-provider"].map((p) => path.join(ROOT, ".tools/build", p, "built-from")).filter((f) => fs.existsSync(f));
    const key = crypto
      .createHash("sha256")
      .update([this.facts.terraformBlock, process.env.PG_CONN_STR ?? "", ...builtFrom.map((f) => fs.readFileSync(f, "utf8"))].join("\n"))
      .digest("hex");
    const stamp = path.join(this.dir, ".terraform/pm-init");
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === key) return;
    this.engineRun(["init", "-input=false", "-reconfigure"]);
    fs.writeFileSync(stamp, key);
  }

  private stateList(): string {
    return spawnSync(this.engine, [`-chdir=${this.dir}`, "state", "list"], { encoding: "utf8" }).stdout ?? "";
  }

  /**
   * Runs the engine on the stack: its output goes to the log and, when it fails, its errors in full
   * to the terminal, with what they mean when the state backend or its lock is the cause.
   */
  private engineRun(args: string[]): void {
    const result = spawnSync(this.engine, [`-chdir=${this.dir}`, ...args, "-no-color"], { encoding: "utf8", maxBuffer: 1 << 30 });
    fs.appendFileSync(this.log, result.stdout + result.stderr);
    if (result.status === 0) return;
    const errors = result.stderr;
    process.stderr.write(errors);
    this.say(`${path.basename(this.engine)} ${args[0]} failed: its errors are above, its whole output in ${this.log}`);
    // The state backend, not a Docker host: init, or an error naming the server (pg) or bucket (s3).
    const { backend, stateLocation } = this.facts;
    const server = stateLocation.replace(/^s3:\/\//, "").split("/")[0];
    if (backend !== "local" && /dial tcp|connection refused|no such host|timeout|timed out|could not connect/i.test(errors) && (args[0] === "init" || errors.includes(server))) {
      this.say(`the ${backend} state backend (${stateLocation}) cannot be reached: nothing was changed (docs/team-state.md)`);
    }
    if (errors.includes("Error acquiring the state lock")) this.lockHolder();
    throw new CommandFailure();
  }

  /** The engine's own lock message cannot name a PostgreSQL lock's holder (advisory locks carry no info): the server says which session holds one (PGAPPNAME says whose run it is). */
  private lockHolder(): void {
    if (this.facts.backend !== "pg") {
      this.say(`if no run holds it any more, release it: ${this.engine} -chdir=${this.dir} force-unlock <ID above> (docs/team-state.md, Locks)`);
      return;
    }
    const query = `select a.application_name || ' (server pid ' || a.pid || ', from ' ||
      coalesce(host(a.client_addr), 'a local socket') || ', since ' || to_char(a.backend_start, 'HH24:MI:SS') || ')'
      from pg_locks l join pg_stat_activity a using (pid) where l.locktype = 'advisory' and l.granted`;
    const asked = spawnSync("psql", [process.env.PG_CONN_STR ?? "", "-Atc", query], { encoding: "utf8" });
    const holder = asked.status === 0 ? asked.stdout.trim() || "nobody any more (try again)" : "(psql is needed to name it)";
    this.say(`the state lock of ${this.env.name} is held by: ${holder}`);
    this.say("it is released when that run ends or its connection drops (docs/team-state.md, Locks)");
  }

  /** The plan, and its JSON for the summary, adoption and the report. */
  private makePlan(...extra: string[]): Plan {
    this.engineRun(["plan", "-input=false", `-lock-timeout=${process.env.PM_LOCK_TIMEOUT ?? "60s"}`, this.parallelism, "-out=plan.bin", ...extra]);
    const fd = fs.openSync(this.json, "w");
    try {
      const shown = spawnSync(this.engine, [`-chdir=${this.dir}`, "show", "-json", "plan.bin"], { stdio: ["ignore", fd, "pipe"], encoding: "utf8" });
      if (shown.status !== 0) throw new Error(`${this.engine} show -json failed: ${shown.stderr}`);
    } finally {
      fs.closeSync(fd);
    }
    return JSON.parse(fs.readFileSync(this.json, "utf8")) as Plan;
  }

  private makePlanFor(command: EnvironmentCommand): Plan {
    if (command !== "destroy") return this.makePlan();
    const { unprotected } = this.facts;
    // A fleet's hosts would each be asked: its destroy refreshes.
    if (this.facts.dockerHosts !== 1) return this.makePlan("-destroy", ...unprotected);
    // A destroy plan's refresh finds only records whose object is gone, and reading a network takes
    // the provider 2 s: planned without it, and again with it when a record's object is not on Docker.
    const quick = this.makePlan("-destroy", "-refresh=false", ...unprotected);
    return goneFromDocker(this.env, quick).length ? this.makePlan("-destroy", ...unprotected) : quick;
  }

  private async approved(verdict: Verdict, implicitDefault: boolean, autoApprove: boolean): Promise<boolean> {
    if (autoApprove) return true;
    if (implicitDefault && verdict === 2) {
      this.say("applying without asking: the default environment, and no data is lost");
      return true;
    }
    if (!process.stdin.isTTY) {
      this.say(`not applied: no terminal to confirm on. Review the plan above (full text in ${this.log}), then add --auto-approve`);
      return false;
    }
    const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
    const answer = await prompt.question(`${this.command}: apply these changes to ${this.env.name}? Only 'yes' is accepted: `);
    prompt.close();
    if (answer === "yes") return true;
    this.say("not applied");
    return false;
  }

  /** Applies plan.bin, its output live on the terminal and in the log. */
  private apply(): Promise<boolean> {
    const log = fs.openSync(this.log, "a");
    const child = spawn(this.engine, [`-chdir=${this.dir}`, "apply", "-input=false", this.parallelism, "-no-color", "plan.bin"], { stdio: ["ignore", "pipe", "pipe"] });
    const tee = (chunk: Buffer) => {
      process.stderr.write(chunk);
      fs.writeSync(log, chunk);
    };
    child.stdout.on("data", tee);
    child.stderr.on("data", tee);
    return new Promise((resolve) =>
      child.on("close", (code) => {
        fs.closeSync(log);
        resolve(code === 0);
      }),
    );
  }

  /** Removes what the plan did not (objects no state records, protected volumes aside); the last line says what went and what is left. */
  private finishDestroy(snapshot: readonly PlacedObject[], phases: Phases): void {
    let outcome: string;
    try {
      outcome = finishDestroy(this.env, snapshot);
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      throw new CommandFailure(`${this.command}: ${this.env.name}: the destroy did not finish (errors above)`);
    }
    phases.end("leftovers");
    this.say(`${this.env.name}: ${outcome}, ${phases.timing()}`);
  }
}

/** Whether the plan creates (or re-creates) a container, network or volume: only then can there be something to adopt. */
function createsDockerObjects(plan: { resource_changes?: PlannedResource[] }): boolean {
  return (plan.resource_changes ?? []).some(
    (rc) => ["docker_container", "docker_network", "docker_volume"].includes(rc.type) && (rc.change.actions[0] === "create" || rc.change.actions.join() === "delete,create"),
  );
}

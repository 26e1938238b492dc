import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import { loadEnvironmentFile } from "../../stacks/environment-files";
import { ENVIRONMENT_LABEL } from "../../stacks/labels";
import { requiredSecrets } from "../../stacks/secrets";
import { CommandFailure } from "../lib/failure";
import { localImages, reservePorts } from "../lib/local-machine";
import { ROOT } from "../lib/engine";
import { bcryptHash } from "../lib/secret-file";
import { replayDeploy, replayDestroy, replayOf, replayReplace, type Replay } from "./replay";

/**
 * `npm run bench`: figures measured in one run on this machine, printed as ratios. Not a test:
 * numbers vary by machine; the ratios are what to compare over time.
 *   synth: every environment, through each runner, against the fastest
 *   deploy: `npm run deploy` of a test environment (local images, the seven original services)
 *           until every container is healthy, a config change that replaces one container, and
 *           destroy, each against a floor measured in the same run: the same resources as plain
 *           Docker commands, all at once, with the same healthchecks (scripts/bench/replay.ts);
 *           and a deploy with nothing to change
 *   fleet:  synth and plan (no apply) of an environment whose fleet has 1, 10 and 50 hosts, as
 *           ratios to the one-host case. Every host is this machine's engine behind a socket path
 *           of its own (a provider each, as with real hosts; no network latency measured)
 * BENCH_RUNS (default 3) runs each; BENCH=synth, BENCH=deploy or BENCH=fleet runs one part.
 */

const root = ROOT;
const runs = Number(process.env.BENCH_RUNS ?? 3);

interface Figure {
  median: number;
  min: number;
  max: number;
}

function figure(samples: number[]): Figure {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
}

const show = (f: Figure) => `${f.median.toFixed(1).padStart(6)} s (${f.min.toFixed(1)}–${f.max.toFixed(1)})`;

async function seconds(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Runs a command to its end; returns what it said on stderr. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { cwd: root, env, encoding: "utf8", maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`${path.basename(command)} ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stderr;
}

/** The phases a deploy says its run took: "… in 15.3 s (checks, build and synth 2.2 s; plan 1.5 s; apply 11.2 s; report 0.2 s)". */
export function phasesOf(said: string): Record<string, number> {
  const line = said.trim().split("\n").pop() ?? "";
  const listed = / in [\d.]+ s \(([^()]+)\)$/.exec(line)?.[1];
  if (!listed) throw new Error(`the deploy's last line gives no phases: ${line}`);
  return Object.fromEntries(
    listed.split("; ").map((part) => {
      const [, name, value] = /^(.+) ([\d.]+) s$/.exec(part) ?? [];
      if (!name) throw new Error(`not a phase: ${part} (in: ${line})`);
      return [name, Number(value)];
    }),
  );
}

/** Medians of each phase over several runs, in the order the first run said them. */
function phaseMedians(runs: Record<string, number>[]): string {
  return Object.keys(runs[0] ?? {})
    .map((name) => `${name} ${figure(runs.map((r) => r[name] ?? 0)).median.toFixed(1)} s`)
    .join(" · ");
}

async function synthBench(): Promise<void> {
  const time = async (label: string, command: string, args: string[]) => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "pm-bench-"));
      samples.push(await seconds(() => run(command, args, { ...process.env, CDKTF_OUTDIR: out, CHECKPOINT_DISABLE: "1" })));
      fs.rmSync(out, { recursive: true, force: true });
    }
    return { label, figure: figure(samples) };
  };
  const results = [
    await time("node dist/main.js (precompiled, what npm run deploy runs)", process.execPath, [path.join(root, "dist/main.js")]),
    await time("cdktf synth (the CLI around the same app)", path.join(root, "node_modules/.bin/cdktf"), ["synth", "--output", fs.mkdtempSync(path.join(os.tmpdir(), "pm-bench-cli-"))]),
  ];
  const fastest = Math.min(...results.map((r) => r.figure.median));
  console.log(`synth of every environment, median (min–max) of ${runs} runs:`);
  for (const r of results) console.log(`  ${show(r.figure)}  ×${(r.figure.median / fastest).toFixed(1).padEnd(5)} ${r.label}`);
}

async function deployBench(): Promise<void> {
  run(path.join(root, "scripts/build-local-images.sh"), []);
  const images = localImages(root);
  const name = `bench-${crypto.randomBytes(3).toString("hex")}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `pm-${name}-`));
  const dirs = { environments: path.join(work, "environments"), plans: path.join(work, "plans") };
  fs.mkdirSync(dirs.environments);
  // The seven services the first figures were taken with, so that figures compare over time.
  const services = ["prometheus", "alertmanager", "nodeExporter", "grafana", "elasticsearch", "logstash", "kibana"];
  const reserved = await reservePorts(6);
  await reserved.release(); // deployed just below
  const [prometheus, grafana, alertmanager, elasticsearch, logstash, kibana] = reserved.ports;
  const write = (retention: string) =>
    fs.writeFileSync(
      path.join(dirs.environments, `${name}.yaml`),
      stringify({
        name,
        services,
        images: Object.fromEntries(services.map((s) => [s, images[s]])),
        ports: { prometheus, grafana, alertmanager, elasticsearch, logstash, kibana },
        memoryMb: { elasticsearch: 256, logstash: 128, kibana: 128 },
        retention: { time: retention },
      }),
    );
  write("15d");
  const secrets = Object.fromEntries(requiredSecrets(loadEnvironmentFile(path.join(dirs.environments, `${name}.yaml`))).map((n) => [`TF_VAR_${n}`, crypto.randomBytes(20).toString("hex")]));
  const env = { ...process.env, ...secrets, CI: "true", PM_ALLOW_STANDINS: "1", PM_ENVIRONMENTS_DIR: dirs.environments, PM_STATE_DIR: path.join(work, "state"), PM_PLANS_DIR: dirs.plans, CDKTF_OUTDIR: path.join(work, "out") };
  const deploy = path.join(root, "scripts/cli.sh");
  let healthCost = "";
  let replayed: Replay | undefined;
  const samples = { deploy: [] as number[], noop: [] as number[], replace: [] as number[], destroy: [] as number[], floorDeploy: [] as number[], floorReplace: [] as number[], floorDestroy: [] as number[] };
  const phases = { deploy: [] as Record<string, number>[], noop: [] as Record<string, number>[], replace: [] as Record<string, number>[], destroy: [] as Record<string, number>[] };
  const measure = async (kind: keyof typeof phases, command: "deploy" | "destroy") => {
    let said = "";
    samples[kind].push(await seconds(() => (said = run(deploy, [command, name, "--auto-approve"], env))));
    phases[kind].push(phasesOf(said));
  };
  try {
    for (let i = 0; i < runs; i++) {
      write("15d");
      await measure("deploy", "deploy");
      await measure("noop", "deploy");
      const plan = JSON.parse(fs.readFileSync(path.join(work, "out", "stacks", name, `${name}.json`), "utf8"));
      write("16d"); // Prometheus's flags change: it is replaced, nothing else
      await measure("replace", "deploy");
      await measure("destroy", "destroy");

      const replay = replayOf(plan);
      replayed = replay;
      samples.floorDeploy.push(await seconds(() => replayDeploy(replay)));

      samples.floorReplace.push(await seconds(() => replayReplace(replay, `${name}-prometheus`)));
      samples.floorDestroy.push(await seconds(() => replayDestroy(replay)));
      process.stderr.write(`bench: run ${i + 1} of ${runs} done\n`);
    }
    if (replayed) healthCost = await healthcheckCost(replayed);
  } finally {
    // The deploys' objects and the replay's carry the same label.
    const labelled = (...args: string[]) => spawnSync("docker", [...args, "--filter", `label=${ENVIRONMENT_LABEL}=${name}`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    for (const [listing, removal] of [[["ps", "-aq"], ["rm", "-f"]], [["network", "ls", "-q"], ["network", "rm"]], [["volume", "ls", "-q"], ["volume", "rm", "-f"]]]) {
      const ids = labelled(...listing);
      if (ids.length) spawnSync("docker", [...removal, ...ids]);
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`npm run deploy of ${name} (7 services + Elasticsearch setup, local images), median (min–max) of ${runs} runs, against plain Docker:`);
  for (const [label, kind, floor] of [
    ["deploy until all healthy", "deploy", samples.floorDeploy],
    ["replace one (Prometheus)", "replace", samples.floorReplace],
    ["destroy", "destroy", samples.floorDestroy],
  ] as const) {
    const a = figure(samples[kind]);
    const b = figure(floor);
    console.log(`  ${label.padEnd(26)} ${show(a)}   floor ${show(b)}   ×${(a.median / b.median).toFixed(2)}`);
    console.log(`  ${"".padEnd(26)} as the deploy says: ${phaseMedians(phases[kind])}`);
  }
  console.log(`  ${"deploy again, no changes".padEnd(26)} ${show(figure(samples.noop))}   (the floor does nothing)`);
  console.log(`  ${"".padEnd(26)} as the deploy says: ${phaseMedians(phases.noop)}`);
  console.log(`  healthchecks at rest: ${healthCost}`);
  console.log(`  (machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? "unknown CPU"})`);
}

/** CPU time of the whole machine (all cores), in seconds, from /proc/stat. */
function cpuSeconds(): number {
  const [, ...fields] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq] = fields.map(Number);
  return (user + nice + system + irq + softirq) / 100; // USER_HZ
}

/**
 * What the healthchecks cost at rest: the machine's CPU over 30 s with the replayed stack up and
 * checking as configured, against the same stack whose checks run once an hour. Other load on the
 * machine during the minute blurs it.
 */
async function healthcheckCost(replay: Replay): Promise<string> {
  const atRest = async (variant: Replay) => {
    await replayDeploy(variant, false);
    await new Promise((r) => setTimeout(r, 10_000));
    const before = cpuSeconds();
    await new Promise((r) => setTimeout(r, 30_000));
    const used = cpuSeconds() - before;
    await replayDestroy(variant);
    return used / 30;
  };
  const rare = { ...replay, containers: replay.containers.map((c) => ({ ...c, args: c.args.map((a, i) => (c.args[i - 1] === "--health-interval" ? "1h" : a)) })) };
  const checking = await atRest(replay);
  const quiet = await atRest(rare);
  const interval = replay.containers[0].args[replay.containers[0].args.indexOf("--health-interval") + 1];
  return `${replay.containers.length} containers checked every ${interval}: ${(checking * 100).toFixed(1)}% of one core at rest against ${(quiet * 100).toFixed(1)}% checked hourly (≈ ${((checking - quiet) * 100).toFixed(1)}% for the checks)`;
}

/** The engine's environment as the bootstrap writes it (.tools/env.sh), after running it. */
function engineEnvironment(): NodeJS.ProcessEnv {
  run(path.join(root, "scripts/bootstrap.sh"), ["--deploy"]);
  const printed = spawnSync("bash", ["-c", "source .tools/env.sh && env -0"], { cwd: root, encoding: "utf8" }).stdout;
  return Object.fromEntries(printed.split("\0").filter(Boolean).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
}

async function fleetBench(): Promise<void> {
  const engineEnv = engineEnvironment();
  const engine = engineEnv.TERRAFORM_BINARY_NAME ?? "tofu";
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "pm-bench-fleet-"));
  const password = crypto.randomBytes(18).toString("hex");
  const counts = [1, 10, 50];
  const results: { hosts: number; synth: Figure; plan: Figure }[] = [];
  try {
    for (const count of counts) {
      const name = `fleet${count}`;
      const dirs = { environments: path.join(work, name, "environments"), out: path.join(work, name, "out"), state: path.join(work, name, "state") };
      fs.mkdirSync(dirs.environments, { recursive: true });
      // Distinct endpoints (the schema refuses a Docker host twice) that all reach this engine.
      const hosts = Array.from({ length: count }, (_, i) => {
        const socket = path.join(work, name, `host-${i}.sock`);
        fs.symlinkSync("/var/run/docker.sock", socket);
        return { name: `host-${i}`, docker: { host: `unix://${socket}` }, address: `10.255.${Math.floor(i / 250)}.${(i % 250) + 1}` };
      });
      fs.writeFileSync(path.join(dirs.environments, `${name}.yaml`), stringify({ name, services: ["prometheus", "nodeExporter"], hosts }));
      const env = {
        ...engineEnv,
        PM_ENVIRONMENTS_DIR: dirs.environments,
        PM_STATE_DIR: dirs.state,
        CDKTF_OUTDIR: dirs.out,
        TF_VAR_fleet_scrape_password: password,
        TF_VAR_fleet_scrape_password_bcrypt: bcryptHash(password, name, "fleet_scrape_password"),
      };
      const stackDir = path.join(dirs.out, "stacks", name);
      const synth: number[] = [];
      const plan: number[] = [];
      for (let i = 0; i < runs; i++) synth.push(await seconds(() => run(process.execPath, [path.join(root, "dist/main.js")], env)));
      run(engine, [`-chdir=${stackDir}`, "init", "-input=false", "-no-color"], env);
      for (let i = 0; i < runs; i++) plan.push(await seconds(() => run(engine, [`-chdir=${stackDir}`, "plan", "-input=false", "-lock=false", "-no-color"], env)));
      results.push({ hosts: count, synth: figure(synth), plan: figure(plan) });
      process.stderr.write(`bench: fleet of ${count} done\n`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const [one] = results;
  console.log(`synth and plan (no apply) of a fleet environment (Prometheus, Node Exporter on every host), median (min–max) of ${runs} runs:`);
  for (const r of results) {
    console.log(`  ${String(r.hosts).padStart(3)} hosts  synth ${show(r.synth)} ×${(r.synth.median / one.synth.median).toFixed(2)}   plan ${show(r.plan)} ×${(r.plan.median / one.plan.median).toFixed(2)}`);
  }
  const last = results[results.length - 1];
  const perHost = (a: Figure, b: Figure) => (((b.median - a.median) / (last.hosts - one.hosts)) * 1000).toFixed(0);
  console.log(`  each host beyond the first adds ≈ ${perHost(one.synth, last.synth)} ms of synth and ${perHost(one.plan, last.plan)} ms of plan`);
}

/** One part (else BENCH's, else all of them). */
export async function benchmark(part?: "synth" | "deploy" | "fleet"): Promise<void> {
  const only = part ?? process.env.BENCH;
  if (only && !["synth", "deploy", "fleet"].includes(only)) throw new CommandFailure(`bench: BENCH=${only} is not a part (synth, deploy or fleet)`, 2);
  if (!only || only === "synth") await synthBench();
  if (!only || only === "deploy") await deployBench();
  if (!only || only === "fleet") await fleetBench();
}

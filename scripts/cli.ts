import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { EnvironmentError } from "../stacks/environment";
import { environmentsDir } from "../stacks/environment-files";
import { ENVIRONMENT_SCHEMA_FILE, environmentJsonSchema } from "../stacks/environment-schema";
import { SERVICES } from "../stacks/services";
import { benchmark } from "./bench/bench";
import { buildLocalImages, environmentCommand, type EnvironmentCommand } from "./deploy";
import { startDemo, stopDemo } from "./demo";
import { health } from "./health";
import { CommandFailure } from "./lib/failure";
import { ROOT, prepareEngine } from "./lib/engine";
import { migrateState } from "./migrate-state";
import { planForReview } from "./plan/plan-for-review";
import { summarizeDrift, summarizePlanFiles } from "./plan/summarize-files";

/**
 * The project's one command line: `npm run <command>` runs `scripts/cli.sh <command>`, which
 * installs the npm packages and compiles the app, then runs this. Each command's work is a function
 * of its own module; this file only reads the command line. docs/reference.md lists every command,
 * option and environment variable (a unit test compares it with this program).
 */

/** The environments there are (files in environments/, or PM_ENVIRONMENTS_DIR). */
function environmentNames(): string[] {
  const dir = environmentsDir(ROOT);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -".yaml".length)).sort() : [];
}

/** A name of an environment that exists; anything else is refused before any work, naming what there is. */
function environmentName(name: string): string {
  const names = environmentNames();
  if (!names.includes(name)) throw new InvalidArgumentError(`no environment '${name}' in ${environmentsDir(ROOT)} (have: ${names.join(", ")})`);
  return name;
}

/** Every environment named on the command line, or all of them. */
const environmentsOrAll = (names: readonly string[]) => (names.length ? names : environmentNames());

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError("a positive number of seconds");
  return parsed;
}

export function program(): Command {
  const cli = new Command("npm run")
    .description("protocol-monitoring: deploy, check and tear down monitoring environments (docs/reference.md)")
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .exitOverride();

  const environmentRun = (name: EnvironmentCommand, summary: string, environmentRequired: boolean) =>
    cli
      .command(name)
      .description(summary)
      .argument(environmentRequired ? "<environment>" : "[environment]", "a file of environments/ without .yaml", environmentName)
      .action(async (environment: string | undefined, options: { autoApprove?: boolean }) => {
        process.exitCode = await environmentCommand(name, environment, { autoApprove: options.autoApprove === true });
      });
  environmentRun(
    "deploy",
    "install what is needed, check the environment file, images and secrets, plan and apply. Without an environment: dev where its images " +
      "can be had, else the offline default local, applied without asking unless data would be lost",
    false,
  ).option("--auto-approve", "apply without asking");
  environmentRun(
    "destroy",
    "remove every container, network and volume of the environment on each of its hosts, recorded in its state or not (data volumes kept with protectData)",
    true,
  ).option("--auto-approve", "remove without asking");
  environmentRun("diff", "the plan only", true);

  cli
    .command("plan")
    .description("plan environments (default: all), redacted for a pull request: plans/ENV.json and plans/ENV.plan.log")
    .argument("[environments...]", "files of environments/ without .yaml", (name: string, names: string[] = []) => [...names, environmentName(name)])
    .option("--drift", "a refresh-only plan instead: what changed outside the code (exit 2 when something did)")
    .action(async (names: string[], options: { drift?: boolean }) => {
      process.exitCode = await planForReview(environmentsOrAll(names), options.drift === true);
    });
  cli
    .command("plan:summary")
    .description("plans as Markdown on stdout and in plans/summary.md; exit 0 no changes, 2 changes, 3 changes that delete data")
    .argument("[plans...]", "plan JSON files (default: plans/*.json)")
    .option("--drift", "one refresh-only plan's drift instead (exit 2 when there is some)")
    .action((files: string[], options: { drift?: boolean }) => {
      if (options.drift && files.length !== 1) throw new CommandFailure("error: --drift takes one plan file", 2);
      process.exitCode = options.drift ? summarizeDrift(files[0]) : summarizePlanFiles(files);
    });
  cli
    .command("state:migrate")
    .description("move the environment's local state to the shared backend its file now names (the engine's state push); the local file is kept as .migrated")
    .argument("<environment>", "a file of environments/ without .yaml", environmentName)
    .action(async (environment: string) => {
      process.exitCode = await migrateState(environment);
    });
  cli
    .command("health")
    .description("check every service of the environment and the Protocol's once; exit 1 when one is degraded")
    .argument("[environment]", "a file of environments/ without .yaml", environmentName, "dev")
    .option("--json", "the results as JSON")
    .addOption(new Option("--timeout <seconds>", "per check").argParser(seconds).default(5))
    .option("--host <host>", "where the published ports answer (e.g. 127.0.0.1 through an SSH tunnel to a remote Docker host)")
    .action(async (environment: string, options: { json?: boolean; timeout: number; host?: string }) => {
      process.exitCode = await health({ environment, json: options.json === true, timeoutSeconds: options.timeout, host: options.host });
    });
  cli
    .command("demo")
    .description("the default environment with the Protocol simulator on the host's Protocol ports; its control API on 127.0.0.1:8099")
    .addArgument(new Argument("[action]", "start, or stop: remove the simulator (the stack stays)").choices(["start", "stop"]).default("start"))
    .action(async (action: "start" | "stop") => {
      process.exitCode = action === "stop" ? stopDemo() : await startDemo();
    });
  cli
    .command("bench")
    .description("timings measured in one run on this machine, as ratios (not a test): synth, deploy against plain Docker, fleet planning")
    .addArgument(new Argument("[part]", "one part only (else BENCH, else all)").choices(["synth", "deploy", "fleet"]))
    .action(async (part: "synth" | "deploy" | "fleet" | undefined) => {
      await benchmark(part);
    });
  cli
    .command("build-images")
    .description("the images this machine builds (real programs from their Go modules, the stand-ins, the Protocol simulator); npm run deploy builds what it needs")
    .argument("[images...]", "names (default: all)")
    .action((images: string[]) => {
      for (const tag of buildLocalImages(images)) console.log(tag);
    });
  cli
    .command("schema")
    .description(`write ${ENVIRONMENT_SCHEMA_FILE}, the JSON Schema of environment files that editors check them with, from the app's schema`)
    .action(() => {
      fs.writeFileSync(path.join(ROOT, ENVIRONMENT_SCHEMA_FILE), environmentJsonSchema(SERVICES));
      console.log(`wrote ${ENVIRONMENT_SCHEMA_FILE}`);
    });
  cli
    .command("test")
    .description("the whole suite: type check, unit tests, end-to-end tests on the local Docker engine (what .ci/run runs)")
    .option("--unit", "type check and unit tests only")
    .action((options: { unit?: boolean }) => {
      process.exitCode = runTests(options.unit === true);
    });
  return cli;
}

/** The suite, installing what it needs first (idempotent). */
function runTests(unitOnly: boolean): number {
  console.log("test: install and build");
  prepareEngine();
  const step = (title: string, command: string, args: string[]) => {
    console.log(`test: ${title}`);
    const result = spawnSync(path.join(ROOT, "node_modules/.bin", command), args, { cwd: ROOT, stdio: "inherit" });
    if (result.status !== 0) throw new CommandFailure("", result.status ?? 1);
  };
  step("type check (app and tests)", "tsc", ["-p", "tsconfig.json"]);
  step("unit tests", "jest", ["--selectProjects", "unit"]);
  if (unitOnly) return 0;
  buildLocalImages([]);
  step("end-to-end (real engine, local Docker)", "jest", ["--selectProjects", "e2e", "--runInBand"]);
  return 0;
}

/** Runs the command line; the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  process.chdir(ROOT);
  try {
    await program().parseAsync(argv, { from: "user" });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommandFailure) {
      if (error.message) process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    // commander has said what was wrong with the command line (or printed the help).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof EnvironmentError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}

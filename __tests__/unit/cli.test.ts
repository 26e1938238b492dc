import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../helpers/synth";

/**
 * The command line (scripts/cli.ts) reads arguments and refuses bad ones before any work: each
 * command's work is replaced here by a recorder, which must not be reached on a refusal.
 */
const calls: { command: string; args: unknown[] }[] = [];
const record =
  (command: string, result: unknown = 0) =>
  (...args: unknown[]) => {
    calls.push({ command, args });
    return result;
  };
jest.mock("../../scripts/deploy", () => ({ environmentCommand: record("environment", Promise.resolve(0)), buildLocalImages: record("build", []) }));
jest.mock("../../scripts/health", () => ({ health: record("health", Promise.resolve(1)) }));
jest.mock("../../scripts/migrate-state", () => ({ migrateState: record("migrate") }));
jest.mock("../../scripts/plan/plan-for-review", () => ({ planForReview: record("plan", Promise.resolve(2)) }));

// eslint-disable-next-line import/first -- after the mocks above
import { main, program } from "../../scripts/cli";

/** Runs the command line; its exit code and what it said on stderr. */
async function run(...argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  calls.length = 0;
  const said = { stderr: "", stdout: "" };
  const err = jest.spyOn(process.stderr, "write").mockImplementation((chunk) => ((said.stderr += String(chunk)), true));
  const out = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => ((said.stdout += String(chunk)), true));
  try {
    const code = await main(argv);
    return { code, ...said };
  } finally {
    err.mockRestore();
    out.mockRestore();
    process.exitCode = undefined;
  }
}

const environments = fs.readdirSync(path.join(ROOT, "environments")).filter((f) => f.endsWith(".yaml")).map((f) => f.replace(/\.yaml$/, ""));

describe("the command line", () => {
  const cwd = process.cwd();
  afterAll(() => process.chdir(cwd));

  it("passes a command's arguments to its work and returns its exit code", async () => {
    expect(await run("deploy")).toMatchObject({ code: 0 });
    expect(calls).toEqual([{ command: "environment", args: ["deploy", undefined, { autoApprove: false }] }]);
    await run("destroy", "dev", "--auto-approve");
    expect(calls).toEqual([{ command: "environment", args: ["destroy", "dev", { autoApprove: true }] }]);
    expect(await run("health")).toMatchObject({ code: 1 });
    expect(calls).toEqual([{ command: "health", args: [{ environment: "dev", json: false, timeoutSeconds: 5, host: undefined }] }]);
    await run("health", "prod", "--timeout", "2", "--json", "--host", "127.0.0.1");
    expect(calls).toEqual([{ command: "health", args: [{ environment: "prod", json: true, timeoutSeconds: 2, host: "127.0.0.1" }] }]);
    expect(await run("plan", "--drift", "dev")).toMatchObject({ code: 2 });
    expect(calls).toEqual([{ command: "plan", args: [["dev"], true] }]);
    await run("plan");
    expect(calls).toEqual([{ command: "plan", args: [environments.sort(), false] }]);
  });

  it.each([
    [["deploy", "nowhere"], /no environment 'nowhere' in .*environments \(have: .*dev.*\)/],
    [["destroy"], /missing required argument 'environment'/],
    [["diff", "dev", "prod"], /too many arguments/],
    [["deploy", "--yes"], /unknown option '--yes'/],
    [["health", "--timeout", "soon"], /--timeout.*positive number of seconds/],
    [["plan", "dev", "nowhere"], /no environment 'nowhere'/],
    [["demo", "restart"], /restart.*Allowed choices are start, stop/],
    [["state:migrate"], /missing required argument/],
    [["teleport"], /unknown command 'teleport'/],
  ])("refuses %j before any work, saying why (exit 2)", async (argv, message) => {
    const result = await run(...argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(calls).toEqual([]);
  });

  it("answers --help for itself and for every command, without working", async () => {
    const top = await run("--help");
    expect(top.code).toBe(0);
    for (const command of program().commands) {
      expect(top.stdout).toContain(command.name());
      const help = await run(command.name(), "--help");
      expect(help).toMatchObject({ code: 0 });
      expect(help.stdout).toContain(`Usage: npm run ${command.name()}`);
    }
    expect(calls).toEqual([]);
  });
});

describe("docs/reference.md: commands", () => {
  const page = fs.readFileSync(path.join(ROOT, "docs", "reference.md"), "utf8");
  const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

  it("lists every npm script, and each runs the command line (the compilers' own aside)", () => {
    const listed = (name: string) => page.includes(name === "test" ? "`npm test`" : `\`npm run ${name}`);
    expect(Object.keys(scripts).filter((name) => !listed(name))).toEqual([]);
    const ours = Object.entries(scripts).filter(([name]) => !["build", "synth"].includes(name));
    expect(ours.filter(([, command]) => !command.startsWith("scripts/cli.sh ")).map(([name]) => name)).toEqual([]);
  });

  it("lists every command of the command line with each of its options", () => {
    const missing = program().commands.flatMap((command) => {
      const row = page.split("\n").find((line) => line.startsWith(`| \`npm ${command.name() === "test" ? "test" : `run ${command.name()}`}`) || line.includes(`scripts/cli.sh ${command.name()}`));
      if (!row) return [command.name()];
      return command.options.filter((option) => !row.includes(option.long ?? "")).map((option) => `${command.name()} ${option.long}`);
    });
    expect(missing).toEqual([]);
  });
});

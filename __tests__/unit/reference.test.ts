import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { ROOT } from "../helpers/synth";

/**
 * docs/reference.md lists every environment variable the code reads: TypeScript and JavaScript
 * through process.env, shell through `${NAME:-…}` (a variable with a default is one the caller
 * may set). Both ways: an unlisted read fails, and so does a listed variable nothing reads.
 */
const REFERENCE = path.join(ROOT, "docs", "reference.md");

/** Read, but not the project's to document. */
const NOT_OURS: Readonly<Record<string, string>> = {
  PATH: "the system's",
  USER: "the system's",
  GOFLAGS: "Go's own, passed through to go build",
  PROGRAMS_SAY: "set by the script that sources scripts/lib/programs.sh, not by a user",
  STANDIN_BUILT: "build-local-images.sh's own memo within one run",
};

/** The code that runs on the user's machine: not the scripts a service uploads into its container (they read what its build sets). */
function sourceFiles(): string[] {
  const filesUnder = (relative: string) => {
    const root = path.join(ROOT, relative);
    return fs.statSync(root).isDirectory() ? fs.readdirSync(root, { recursive: true, encoding: "utf8" }).map((f) => path.join(root, f)).filter((f) => fs.statSync(f).isFile()) : [root];
  };
  return [...filesUnder("main.ts"), ...filesUnder("stacks").filter((f) => /\.ts$/.test(f)), ...filesUnder("scripts"), ...filesUnder(".ci/run")];
}

/** The environment variables a file reads, by its kind. */
function variablesRead(file: string, text: string): string[] {
  const pattern = /\.(ts|js)$/.test(file) ? /process\.env(?:\.([A-Z_][A-Z0-9_]*)(?![A-Z0-9_])|\["([A-Z_][A-Z0-9_]*)"\])(?!\s*=[^=])/g : /\$\{([A-Z_][A-Z0-9_]*):[-?=]/g;
  if (!/\.(ts|js|sh)$/.test(file) && !file.endsWith(path.join(".ci", "run"))) return [];
  return [...text.matchAll(pattern)].map((m) => m[1] ?? m[2]);
}

function documented(markdown: string): string[] {
  return [...markdown.matchAll(/^\| `([A-Z_][A-Z0-9_]*)` \|/gm)].map((m) => m[1]);
}

describe("docs/reference.md: environment variables", () => {
  const read = new Set(sourceFiles().flatMap((file) => variablesRead(file, fs.readFileSync(file, "utf8"))));
  const listed = documented(fs.readFileSync(REFERENCE, "utf8"));

  it("lists every variable the code reads", () => {
    expect([...read].filter((name) => !(name in NOT_OURS) && !listed.includes(name)).sort()).toEqual([]);
  });

  it("lists only variables the code reads, once each", () => {
    expect(listed.filter((name) => !read.has(name))).toEqual([]);
    expect(listed).toEqual([...new Set(listed)]);
  });

  it("finds reads in each kind of file, and ignores what is not a read", () => {
    expect(variablesRead("x.ts", 'const a = process.env.PM_NEW ?? process.env["PM_OTHER"];')).toEqual(["PM_NEW", "PM_OTHER"]);
    // Set for a child (the engine, psql), not read.
    expect(variablesRead("x.ts", 'process.env.TF_INPUT = "0"; if (process.env.PM_X === "1") {}')).toEqual(["PM_X"]);
    expect(variablesRead("x.sh", 'dir=${PM_NEW:-x}; : "${PM_REQUIRED:?}"; echo $local ${LOCAL}')).toEqual(["PM_NEW", "PM_REQUIRED"]);
    expect(variablesRead("x.md", "process.env.PM_NEW")).toEqual([]);
    expect(documented("| `PM_NEW` | x | y |\n| not a row `PM_X` |\n")).toEqual(["PM_NEW"]);
  });
});

describe("the machine set-up scripts", () => {
  it.each(["scripts/bootstrap.sh", "scripts/build-local-images.sh"])("%s answers --help and refuses an unknown option", (script) => {
    expect(execFileSync("bash", [script, "--help"], { cwd: ROOT, encoding: "utf8", timeout: 30_000 })).toMatch(/\S/);
    let status: number | null = 0;
    let stderr = "";
    try {
      execFileSync("bash", [script, "--no-such-option"], { cwd: ROOT, stdio: "pipe", timeout: 30_000 });
    } catch (error) {
      ({ status } = error as { status: number | null });
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr).toContain("unknown option");
  });
});

/**
 * testing/protocol-sim, the simulator of the Protocol services and the notification sink used by
 * tests and demos: its Go tests (every failure mode against the alert rules, the metric catalog,
 * the control API, the sink over TLS) run here, so that `npm test` covers them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";

const ROOT = path.resolve(__dirname, "../..");
const DIR = path.join(ROOT, "testing", "protocol-sim");

/** The Go toolchain: bootstrap's, the usual install location, or whatever is on PATH. */
function goBinary(): string {
  for (const candidate of [path.join(ROOT, ".tools", "bin", "go"), "/usr/local/go/bin/go"]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync("sh", ["-c", "command -v go"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("go not found: install Go (>= 1.22) or put it on PATH to run testing/protocol-sim's tests");
  }
}

describe("protocol-sim (testing/protocol-sim)", () => {
  it("passes go test ./...", () => {
    let output: string;
    try {
      output = execFileSync(goBinary(), ["test", "./..."], {
        cwd: DIR,
        encoding: "utf8",
        stdio: "pipe",
        // No toolchain download: the go.mod's minimum is met by any recent Go.
        env: { ...process.env, GOTOOLCHAIN: "local" },
      });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message?: string };
      throw new Error(`go test ./... failed in testing/protocol-sim:\n${e.stdout ?? ""}${e.stderr ?? ""}${e.stdout || e.stderr ? "" : e.message}`);
    }
    expect(output).toMatch(/^ok\s+protocol-monitoring\/protocol-sim\s/m);
  }, 300_000);
});

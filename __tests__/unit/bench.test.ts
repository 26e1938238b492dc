import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { phasesOf } from "../../scripts/bench";

const root = path.resolve(__dirname, "../..");

/** What deploy.sh's last line says after the given phases (scripts/lib/phases.sh), each taking `sleep` seconds. */
function said(steps: ReadonlyArray<readonly [name: string, sleep: number]>): string {
  const script = ["source scripts/lib/phases.sh", ...steps.map(([name, sleep]) => `sleep ${sleep}; phase '${name}'`), 'echo "deploy: done $(timing)"'].join("\n");
  const result = spawnSync("bash", ["-c", script], { cwd: root, encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  expect(result.stderr).toBe("");
  return result.stdout;
}

describe("the bench reads where a deploy's time went from deploy.sh's last line", () => {
  it("reads each phase that scripts/lib/phases.sh timed, in seconds", () => {
    const phases = phasesOf(said([["checks, build and synth", 0], ["apply", 0.3]]));
    expect(Object.keys(phases)).toEqual(["checks, build and synth", "apply"]);
    expect(phases.apply).toBeGreaterThanOrEqual(0.3);
    expect(phases.apply).toBeLessThan(5);
  });

  it("refuses a line without phases, naming it", () => {
    expect(() => phasesOf("deploy: done in 15 s\n")).toThrow(/gives no phases: deploy: done in 15 s/);
    expect(() => phasesOf("deploy: done in 1.0 s (plan 0.5 s; apply fast)")).toThrow(/not a phase: apply fast/);
  });
});

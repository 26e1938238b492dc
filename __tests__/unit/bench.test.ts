import { phasesOf } from "../../scripts/bench/bench";
import { Phases } from "../../scripts/lib/phases";

/** What a deploy's last line says after the given phases (scripts/lib/phases.ts), each taking `sleep` seconds. */
async function said(steps: ReadonlyArray<readonly [name: string, sleep: number]>): Promise<string> {
  const phases = new Phases();
  for (const [name, sleep] of steps) {
    await new Promise((resolve) => setTimeout(resolve, sleep * 1000));
    phases.end(name);
  }
  return `deploy: done ${phases.timing()}\n`;
}

describe("the bench reads where a deploy's time went from its last line", () => {
  it("reads each phase that was timed, in seconds", async () => {
    const line = await said([["checks, build and synth", 0], ["apply", 0.3]]);
    expect(line).toMatch(/^deploy: done in \d+\.\d s \(checks, build and synth \d+\.\d s; apply \d+\.\d s\)\n$/);
    const phases = phasesOf(line);
    expect(Object.keys(phases)).toEqual(["checks, build and synth", "apply"]);
    expect(phases.apply).toBeGreaterThanOrEqual(0.2);
    expect(phases.apply).toBeLessThan(5);
  });

  it("leaves time spent waiting for an answer out of every phase", async () => {
    const phases = new Phases();
    await new Promise((resolve) => setTimeout(resolve, 300));
    phases.restart();
    phases.end("apply");
    expect(phasesOf(`deploy: done ${phases.timing()}`)).toEqual({ apply: 0 });
  });

  it("refuses a line without phases, naming it", () => {
    expect(() => phasesOf("deploy: done in 15 s\n")).toThrow(/gives no phases: deploy: done in 15 s/);
    expect(() => phasesOf("deploy: done in 1.0 s (plan 0.5 s; apply fast)")).toThrow(/not a phase: apply fast/);
  });
});

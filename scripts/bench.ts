import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";

/**
 * `npm run bench`: how long a synth of every environment takes through each runner, measured
 * in one run on this machine and printed as ratios to the fastest. Not a test: numbers vary
 * by machine; the ratios are what to compare over time.
 */

const root = path.resolve(__dirname, "../..");
const runs = Number(process.env.BENCH_RUNS ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(label: string, command: string, args: string[]): { label: string; seconds: number } {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "pm-bench-"));
    const start = process.hrtime.bigint();
    const result = spawnSync(command, args, { cwd: root, env: { ...process.env, CDKTF_OUTDIR: out, CHECKPOINT_DISABLE: "1" }, encoding: "utf8" });
    samples.push(Number(process.hrtime.bigint() - start) / 1e9);
    fs.rmSync(out, { recursive: true, force: true });
    if (result.status !== 0) throw new Error(`${label} failed:\n${result.stderr}`);
  }
  return { label, seconds: median(samples) };
}

const results = [
  time("node dist/main.js (precompiled, what cdktf.json runs)", process.execPath, [path.join(root, "dist/main.js")]),
  time("cdktf synth (CLI around the same app)", path.join(root, "node_modules/.bin/cdktf"), ["synth", "--output", fs.mkdtempSync(path.join(os.tmpdir(), "pm-bench-cli-"))]),
];
const fastest = Math.min(...results.map((r) => r.seconds));
console.log(`synth of every environment, median of ${runs} runs:`);
for (const r of results) console.log(`  ${r.seconds.toFixed(2).padStart(6)} s  ×${(r.seconds / fastest).toFixed(1).padEnd(5)} ${r.label}`);

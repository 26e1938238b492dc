/**
 * Where a run's time goes, for its last line (`npm run bench` reads it there):
 * "in 15.3 s (checks, build and synth 2.2 s; plan 1.5 s; apply 11.2 s)".
 */
export class Phases {
  private readonly ended: string[] = [];
  private startedAt = process.hrtime.bigint();
  private totalNs = 0n;

  /** Ends the phase that began at the last mark (or at construction), naming it. */
  end(name: string): void {
    const now = process.hrtime.bigint();
    this.totalNs += now - this.startedAt;
    this.ended.push(`${name} ${tenths(now - this.startedAt)}`);
    this.startedAt = now;
  }

  /** The next phase begins now: time spent waiting for a "yes" is nobody's phase. */
  restart(): void {
    this.startedAt = process.hrtime.bigint();
  }

  /** The phases so far, with their total. */
  timing(): string {
    return `in ${tenths(this.totalNs)} (${this.ended.join("; ")})`;
  }
}

/** Seconds to a tenth, truncated: "2.2 s". */
function tenths(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n) / 100_000_000n} s`;
}

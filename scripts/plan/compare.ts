import type { PlanJson } from "./summary";

/**
 * Whether a plan is the one a reviewer approved: two redacted plan JSONs compared change by
 * change, every value the changes carry (actions, before, after, what is known only after apply),
 * with the markers of secret values taken as equal: those are random for each plan, so a secret
 * whose value changed in between is not seen here; every other difference is.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Change = { address: string; change: { actions: string[]; before?: Json; after?: Json; after_unknown?: Json } };

const MARKER = /\(sensitive [0-9a-f]{10}\)/g;

/** A change's values as JSON with every secret marker the same, by top-level attribute. */
function attributesOf(rc: Change): Record<string, string> {
  const same = (value: Json | undefined) => JSON.stringify(value ?? null).replace(MARKER, "(sensitive)");
  const object = (value: Json | undefined): Record<string, Json> => (value && typeof value === "object" && !Array.isArray(value) ? value : {});
  const [before, after, unknown] = [object(rc.change.before), object(rc.change.after), object(rc.change.after_unknown)];
  const names = [...new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(unknown)])];
  return Object.fromEntries([["actions", rc.change.actions.join(",")], ...names.map((name) => [name, `${same(before[name])} → ${same(after[name])}${unknown[name] ? " (known after apply)" : ""}`])]);
}

const changesOf = (plan: PlanJson) =>
  new Map(((plan.resource_changes ?? []) as unknown as Change[]).filter((rc) => !rc.change.actions.every((a) => a === "no-op" || a === "read")).map((rc) => [rc.address, attributesOf(rc)]));

/** The differences between the reviewed plan and the fresh one, one line each; none when they match. */
export function planDifferences(reviewed: PlanJson, fresh: PlanJson): string[] {
  const [before, now] = [changesOf(reviewed), changesOf(fresh)];
  const differences: string[] = [];
  for (const address of [...new Set([...before.keys(), ...now.keys()])].sort()) {
    const [was, is] = [before.get(address), now.get(address)];
    if (!is) differences.push(`${address}: reviewed ${was?.actions}, now no change`);
    else if (!was) differences.push(`${address}: not in the reviewed plan, now ${is.actions}`);
    else {
      const changed = [...new Set([...Object.keys(was), ...Object.keys(is)])].filter((name) => was[name] !== is[name]).sort();
      if (changed.length) differences.push(`${address}: ${changed.map((name) => `${name} reviewed ${was[name] ?? "absent"}, now ${is[name] ?? "absent"}`).join("; ")}`);
    }
  }
  return differences;
}

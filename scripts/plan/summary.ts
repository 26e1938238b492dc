import { structuredPatch } from "diff";
import { SECRET_FILE } from "./redact";

/**
 * Turns the engine's plan JSON (`tofu show -json plan`) into a Markdown summary a reviewer can
 * read in a pull request: counts, one row per changed resource with the attributes that force
 * a replacement, uploaded config files as unified diffs, secrets masked, and a loud warning
 * first when data would be lost.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Sensitivity = boolean | Sensitivity[] | { [key: string]: Sensitivity } | undefined;

export interface ResourceChange {
  address: string;
  type: string;
  change: {
    actions: string[];
    before: Json;
    after: Json;
    after_unknown?: Json;
    before_sensitive?: Sensitivity;
    after_sensitive?: Sensitivity;
    replace_paths?: (string | number)[][];
    /** Set when the plan imports an existing object (an `import` block). */
    importing?: { id?: string };
  };
  action_reason?: string;
}

export interface PlanJson {
  resource_changes?: ResourceChange[];
}

export type Action = "create" | "update" | "replace" | "delete" | "adopt";

export interface SummarizedChange {
  address: string;
  name: string;
  action: Action;
  /** Top-level attributes that change; those forcing replacement are marked. */
  attributes: { name: string; forcesReplacement: boolean }[];
  files: { path: string; diff: string }[];
  losesData: boolean;
  /** An object an interrupted run left on Docker, imported into the state by this plan. */
  adopted: boolean;
}

export interface EnvironmentSummary {
  environment: string;
  /** A refresh-only plan: the changes happened outside the code. */
  drift?: boolean;
  changes: SummarizedChange[];
  counts: Record<Action, number>;
}

/** Exit codes, for CI: no change, safe changes, or changes that lose data. */
export const EXIT = { empty: 0, safe: 2, destructive: 3 } as const;

/** Resources whose deletion deletes data: only volumes hold data in this stack. */
const DATA_RESOURCES = new Set(["docker_volume"]);

function actionOf(actions: string[]): Action | undefined {
  const set = actions.join(",");
  if (set === "create") return "create";
  if (set === "update") return "update";
  if (set === "delete") return "delete";
  if (set === "delete,create" || set === "create,delete") return "replace";
  return undefined; // no-op, read
}

const asObject = (value: Json): Record<string, Json> => (value && typeof value === "object" && !Array.isArray(value) ? value : {});
const isSensitive = (mask: Sensitivity, key: string | number): Sensitivity =>
  mask === true ? true : Array.isArray(mask) ? mask[key as number] : mask && typeof mask === "object" ? mask[key as string] : undefined;

interface Upload {
  file: string;
  content: string;
  sensitive: boolean;
}

/**
 * Terraform marks the whole `upload` set sensitive as soon as one element holds a secret, which
 * would hide every config diff of that container; so files are masked when their own content is
 * marked, or when they are secret files (SECRET_FILE).
 */

function uploads(state: Json, mask: Sensitivity): Upload[] {
  const list = asObject(state).upload;
  if (!Array.isArray(list)) return [];
  const uploadMask = isSensitive(mask, "upload");
  return list.map((entry, i) => {
    const item = asObject(entry);
    const file = String(item.file);
    const elementMask = uploadMask === true ? undefined : isSensitive(uploadMask, i);
    const sensitive = isSensitive(elementMask, "content") === true || SECRET_FILE.test(file);
    return { file, content: String(item.content ?? item.content_base64 ?? ""), sensitive };
  });
}

function fileDiffs(change: ResourceChange["change"]): { path: string; diff: string }[] {
  const before = new Map(uploads(change.before, change.before_sensitive).map((u) => [u.file, u]));
  const after = new Map(uploads(change.after, change.after_sensitive).map((u) => [u.file, u]));
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const diffs: { path: string; diff: string }[] = [];
  for (const path of paths) {
    const old = before.get(path);
    const next = after.get(path);
    if (old?.content === next?.content && old?.sensitive === next?.sensitive) continue;
    if (old?.sensitive || next?.sensitive) {
      diffs.push({ path, diff: "(sensitive content changed: not shown)" });
      continue;
    }
    const patch = structuredPatch(path, path, old?.content ?? "", next?.content ?? "", "", "", { context: 2 });
    const body = patch.hunks.map((h) => [`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines].join("\n"));
    diffs.push({ path, diff: body.join("\n") });
  }
  return diffs;
}

/**
 * Drops zero values (null, "", 0, false, empty lists and maps): Docker reads back "" or 0 where
 * the code leaves an attribute unset, and that is no change a reviewer needs to see.
 */
function canonical(value: Json | undefined): Json | undefined {
  if (value === null || value === undefined || value === "" || value === 0 || value === false) return undefined;
  if (Array.isArray(value)) {
    const items = value.map(canonical).filter((v): v is Json => v !== undefined);
    return items.length ? items : undefined;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value)
      .map(([k, v]) => [k, canonical(v)] as const)
      .filter((e): e is readonly [string, Json] => e[1] !== undefined);
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  return value;
}

function changedAttributes(rc: ResourceChange): { name: string; forcesReplacement: boolean }[] {
  const before = asObject(rc.change.before);
  const after = asObject(rc.change.after);
  const unknown = asObject(rc.change.after_unknown ?? {});
  const forcing = new Set((rc.change.replace_paths ?? []).map((p) => String(p[0])));
  // Only what the code sets: attributes left to Docker are null in `after` and known after apply.
  const changed = Object.keys(after).filter(
    (key) =>
      forcing.has(key) ||
      (unknown[key] !== true && canonical(after[key]) !== undefined && JSON.stringify(canonical(before[key])) !== JSON.stringify(canonical(after[key]))),
  );
  return changed.sort().map((name) => ({ name, forcesReplacement: forcing.has(name) }));
}

export function summarizePlan(environment: string, plan: PlanJson): EnvironmentSummary {
  const counts: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0, adopt: 0 };
  const changes: SummarizedChange[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const adopted = rc.change.importing !== undefined;
    const action = actionOf(rc.change.actions) ?? (adopted ? "adopt" : undefined);
    if (!action) continue;
    counts[action]++;
    if (adopted && action !== "adopt") counts.adopt++;
    const state = action === "delete" ? rc.change.before : rc.change.after;
    changes.push({
      address: rc.address,
      name: String(asObject(state).name ?? asObject(rc.change.before).name ?? ""),
      action,
      attributes: action === "update" || action === "replace" ? changedAttributes(rc) : [],
      // A new (or adopted) container's files are all new: listing them would bury the changes that matter.
      files: rc.type === "docker_container" && !adopted && (action === "update" || action === "replace") ? fileDiffs(rc.change) : [],
      losesData: DATA_RESOURCES.has(rc.type) && (action === "delete" || action === "replace"),
      adopted,
    });
  }
  return { environment, changes, counts };
}

export function exitCode(summaries: EnvironmentSummary[]): number {
  if (summaries.some((s) => s.changes.some((c) => c.losesData))) return EXIT.destructive;
  if (summaries.some((s) => s.changes.length > 0)) return EXIT.safe;
  return EXIT.empty;
}

const ACTION_LABEL: Record<Action, string> = { create: "create", update: "update in place", replace: "**replace**", delete: "**destroy**", adopt: "adopt" };

function actionLabel(change: SummarizedChange): string {
  if (!change.adopted || change.action === "adopt") return ACTION_LABEL[change.action];
  return `adopt, then ${ACTION_LABEL[change.action]}`;
}

function why(change: SummarizedChange, drift: boolean): string {
  if (drift) return change.action === "delete" ? "deleted outside the code" : "changed outside the code";
  if (change.adopted) return `left on Docker by an interrupted run${change.action === "adopt" ? "" : ", then made to match the code"}`;
  if (change.action === "create") return "new";
  if (change.action === "delete") return change.losesData ? "data is deleted" : "removed from the code";
  const parts = change.attributes.map((a) => (a.forcesReplacement ? `\`${a.name}\` (forces replacement)` : `\`${a.name}\``));
  return parts.join(", ") || "—";
}

export function renderMarkdown(summaries: EnvironmentSummary[]): string {
  const out: string[] = [];
  for (const s of summaries) {
    const c = s.counts;
    const adopt = c.adopt ? `, ${c.adopt} to adopt` : "";
    out.push(`## ${s.environment}: ${c.create} to add, ${c.update} to change, ${c.replace} to replace, ${c.delete} to destroy${adopt}`, "");
    const lost = s.changes.filter((ch) => ch.losesData);
    if (lost.length) {
      out.push("> [!CAUTION]", "> **This plan deletes data.** These volumes are destroyed and their contents lost:");
      for (const ch of lost) out.push(`> - \`${ch.name}\` (${ch.address}, ${ch.action})`);
      out.push("");
    }
    if (!s.changes.length) {
      out.push("No changes.", "");
      continue;
    }
    out.push("| action | resource | name | what changes |", "|---|---|---|---|");
    for (const ch of s.changes) out.push(`| ${actionLabel(ch)} | \`${ch.address}\` | ${ch.name} | ${why(ch, s.drift === true)} |`);
    out.push("");
    for (const ch of s.changes) {
      for (const file of ch.files) out.push(`\`${file.path}\` in ${ch.name}:`, "```diff", file.diff, "```", "");
    }
  }
  return out.join("\n");
}

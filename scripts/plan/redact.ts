import * as crypto from "node:crypto";

/**
 * A plan JSON (`show -json plan.bin`) made fit to leave the machine that planned it (a pull
 * request's artifact, its comment, a job log): the value of every variable, of everything the
 * engine marks sensitive, the content of every secret file, and any other occurrence of a secret's
 * value are replaced by a marker. A marker keeps what a reviewer needs: within one plan equal
 * values get equal markers, so a rotated secret still shows as a change; the key behind them is
 * random for each run, so a marker can neither be guessed at nor matched with another plan's.
 * What comes out is checked: a secret value left anywhere is an error, and nothing is written.
 * The secrets are the values of the TF_VAR_* variables (secretValues). The engine's text of a plan
 * already hides what it marks sensitive; redactText replaces any secret value left.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Sensitivity = boolean | Sensitivity[] | { [key: string]: Sensitivity } | undefined;

/** Secret files live in a `secrets/` folder (CONFIG_PATHS): their content is always masked. */
export const SECRET_FILE = /\/secrets\//;

/** Values this short are no secrets of ours (each has a minimum length) and could hit anything. */
const SHORTEST_SECRET = 8;

export class RedactionError extends Error {}

/** A value's marker under a key: equal values, equal markers; nothing of the value can be read from it. */
const markerWith = (key: Buffer) => (value: Json) => `(sensitive ${crypto.createHmac("sha256", key).update(JSON.stringify(value)).digest("hex").slice(0, 10)})`;

export function redactPlan(plan: Json, secrets: readonly string[], key: Buffer = crypto.randomBytes(32)): Json {
  const marker = markerWith(key);
  const mask = (value: Json, sensitivity: Sensitivity, attribute?: string): Json => {
    if (value === null || value === undefined) return value;
    // Terraform marks a whole `upload` set as soon as one element holds a secret: masked file by
    // file instead (secret files always), so that a config change still shows as a diff.
    if (attribute === "upload" && Array.isArray(value)) return value.map((item, i) => maskUpload(item, Array.isArray(sensitivity) ? sensitivity[i] : sensitivity));
    if (sensitivity === true) return marker(value);
    if (Array.isArray(value)) return value.map((item, i) => mask(item, Array.isArray(sensitivity) ? sensitivity[i] : undefined));
    if (typeof value === "object") {
      const marks = sensitivity && typeof sensitivity === "object" && !Array.isArray(sensitivity) ? sensitivity : {};
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, marks[k], k)]));
    }
    return value;
  };
  const maskUpload = (item: Json, sensitivity: Sensitivity): Json => {
    if (!item || typeof item !== "object" || Array.isArray(item)) return mask(item, sensitivity);
    const secretFile = SECRET_FILE.test(String(item.file));
    const marks = sensitivity === true ? { content: secretFile, content_base64: secretFile } : sensitivity;
    const masked = mask(item, marks) as Record<string, Json>;
    if (secretFile) for (const field of ["content", "content_base64"]) if (item[field] !== undefined && item[field] !== null) masked[field] = marker(item[field]);
    return masked;
  };
  // Every place a plan pairs values with the engine's marks of what is sensitive in them.
  const PAIRS = [
    ["before", "before_sensitive"],
    ["after", "after_sensitive"],
    ["values", "sensitive_values"],
  ] as const;
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== "object") return node;
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(node)) {
      const pair = PAIRS.find(([valueKey]) => valueKey === k);
      if (k === "value" && node.sensitive === true) out[k] = marker(v); // a sensitive output
      else if (pair && pair[1] in node) out[k] = mask(v, node[pair[1]] as Sensitivity);
      else out[k] = walk(v);
    }
    return out;
  };
  // The plan's variables are the secrets (and their hashes): every value masked.
  const root = walk(plan) as Record<string, Json>;
  const variables = plan && typeof plan === "object" && !Array.isArray(plan) ? plan.variables : undefined;
  if (variables && typeof variables === "object" && !Array.isArray(variables)) {
    root.variables = Object.fromEntries(Object.entries(variables).map(([name, variable]) => [name, { value: marker(variable && typeof variable === "object" && !Array.isArray(variable) ? (variable.value ?? null) : variable) }]));
  }
  return JSON.parse(redactText(JSON.stringify(root), secrets, key)) as Json;
}

/** Any text (the engine's plan output, a JSON text): every secret value replaced by its marker, checked as redactPlan checks. */
export function redactText(input: string, secrets: readonly string[], key: Buffer = crypto.randomBytes(32)): string {
  const marker = markerWith(key);
  let text = input;
  const values = [...new Set(secrets.filter((s) => s.length >= SHORTEST_SECRET))].sort((a, b) => b.length - a.length);
  for (const secret of values) {
    // As it is, as a JSON string holds it, and as a JSON string inside a JSON string (a JSON file's content).
    const once = JSON.stringify(secret).slice(1, -1);
    const twice = JSON.stringify(once).slice(1, -1);
    for (const form of new Set([twice, once, secret])) text = text.split(form).join(marker(secret));
  }
  const left = values.filter((secret) => leaks(text, secret));
  if (left.length) throw new RedactionError(`${left.length} of ${values.length} secret values are still in the redacted plan (base64-encoded or escaped where no marker reaches): nothing written`);
  return text;
}

/** Whether a secret is in a text: as it is, escaped for JSON once or twice, or base64-encoded (standard or URL alphabet) at any alignment. */
export function leaks(text: string, secret: string): boolean {
  const once = JSON.stringify(secret).slice(1, -1);
  return [secret, once, JSON.stringify(once).slice(1, -1), ...base64Cores(secret)].some((form) => text.includes(form));
}

/**
 * The part of the secret's base64 that is the same wherever it sits in a longer encoded string:
 * for each of the three alignments, the characters that encode its bytes alone.
 */
function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret);
  return [0, 1, 2]
    .map((offset) => {
      const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
      const start = [0, 2, 3][offset];
      const end = Math.floor((offset + bytes.length) / 3) * 4;
      return encoded.slice(start, end);
    })
    .filter((core) => core.length >= SHORTEST_SECRET)
    .flatMap((core) => [core, core.replace(/\+/g, "-").replace(/\//g, "_")]);
}

/** The values of the process's TF_VAR_* variables: the stack's secrets and their hashes. */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([name, value]) => name.startsWith("TF_VAR_") && value)
    .map(([, value]) => value as string);
}

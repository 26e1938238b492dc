import { parser } from "@prometheus-io/lezer-promql";
import { parse as parseYaml } from "yaml";
import type { RuleFile } from "../../assets";
import { type Environment, EnvironmentError, SEVERITIES } from "../../environment";
import { toYaml } from "../../yaml";

/**
 * An environment's changes to the shipped alerts (its file's `alerts:`): alerts disabled there,
 * the `for`, severity or labels of others, and rule files of the team's own, checked at synth
 * like the shipped ones are in the tests (every expression parsed with Prometheus's grammar; a
 * severity, a summary and a runbook for every alert). An unknown alert name is refused, naming it.
 */

/** Where a team's own rule files go in Prometheus's rules folder, apart from the shipped names. */
export const OWN_RULE_FILE_PREFIX = "own-";

interface Rule {
  alert?: string;
  record?: string;
  expr?: unknown;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleDocument {
  groups?: { name?: string; rules?: Rule[] }[];
}

/** A rule file of the team's own, as read with its environment file. */
export interface OwnRuleFile {
  /** Its path as the environment file gives it (for messages). */
  readonly path: string;
  readonly content: string;
}

const alertsOf = (document: RuleDocument) => (document.groups ?? []).flatMap((group) => group.rules ?? []).filter((rule) => rule.alert !== undefined);

/** The positions of syntax errors in a PromQL expression (none when it parses). */
export function promqlErrors(expr: string): number[] {
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
    },
  });
  return errors;
}

/** What is wrong with a team's rule file, one line each: YAML, structure, PromQL, the labels and annotations every alert carries. */
export function ownRuleFileProblems(file: OwnRuleFile): string[] {
  let document: RuleDocument;
  try {
    document = parseYaml(file.content) as RuleDocument;
  } catch (error) {
    return [`${file.path}: cannot be read as YAML: ${(error as Error).message.split("\n")[0]}`];
  }
  if (!document || !Array.isArray(document.groups) || !document.groups.length) return [`${file.path}: no rule groups (a Prometheus rule file: groups: [{name, rules}])`];
  const problems: string[] = [];
  document.groups.forEach((group, g) => {
    if (!group?.name) problems.push(`${file.path}: groups[${g}]: needs a name`);
    if (!Array.isArray(group?.rules) || !group.rules.length) problems.push(`${file.path}: groups[${g}]: needs rules`);
    (group?.rules ?? []).forEach((rule, r) => {
      const where = `${file.path}: ${rule.alert ?? rule.record ?? `groups[${g}].rules[${r}]`}`;
      if ((rule.alert === undefined) === (rule.record === undefined)) problems.push(`${where}: needs either alert or record`);
      if (typeof rule.expr !== "string" || !rule.expr.trim()) problems.push(`${where}: needs an expr`);
      else if (promqlErrors(rule.expr).length) problems.push(`${where}: expr is not valid PromQL (at character ${promqlErrors(rule.expr)[0] + 1}): ${rule.expr.trim()}`);
      if (rule.alert === undefined) return;
      if (!(SEVERITIES as readonly string[]).includes(rule.labels?.severity ?? "")) problems.push(`${where}: labels.severity must be one of ${SEVERITIES.join(", ")}`);
      for (const annotation of ["summary", "runbook_url"]) if (!rule.annotations?.[annotation]?.trim()) problems.push(`${where}: needs annotations.${annotation} (every alert has a runbook)`);
    });
  });
  return problems;
}

/** The alert names of rule files. */
export function alertNames(files: readonly RuleFile[]): string[] {
  return files.flatMap((file) => alertsOf(parseYaml(file.content) as RuleDocument).map((rule) => rule.alert as string));
}

/**
 * Refuses changes to alerts that do not exist and own alerts named like shipped ones, naming each
 * (`shipped` are every rule file of the catalog, loaded in this environment or not).
 */
export function checkAlertChanges(env: Environment, shipped: readonly RuleFile[]): void {
  const known = new Set(alertNames(shipped));
  const problems: string[] = [];
  const unknown = (name: string, field: string) => {
    if (!known.has(name)) problems.push(`alerts.${field}: no shipped alert is named ${name} (docs/alerts.md lists them)`);
  };
  env.alerts.disable.forEach((name, i) => unknown(name, `disable[${i}]`));
  for (const name of Object.keys(env.alerts.override)) unknown(name, `override.${name}`);
  for (const file of env.ownRuleFiles ?? []) {
    for (const rule of alertsOf(parseYaml(file.content) as RuleDocument)) {
      if (known.has(rule.alert as string)) problems.push(`alerts.ruleFiles: ${file.path}: ${rule.alert} is a shipped alert's name (change the shipped one with alerts.override, or name yours otherwise)`);
    }
  }
  if (problems.length) throw new EnvironmentError(`${env.source}: invalid environment\n${problems.map((p) => `  ${p}`).join("\n")}`);
}

/**
 * The rendered rule files with the environment's changes: a file none of them touches is returned
 * as it is (byte for byte); one that holds a disabled or overridden alert is rewritten.
 */
export function applyAlertChanges(env: Environment, rendered: Readonly<Record<string, string>>): Record<string, string> {
  const { disable, override } = env.alerts;
  const touched = (name: string) => disable.includes(name) || name in override;
  return Object.fromEntries(
    Object.entries(rendered).map(([fileName, content]) => {
      const document = parseYaml(content) as RuleDocument;
      if (!alertsOf(document).some((rule) => touched(rule.alert as string))) return [fileName, content];
      const groups = (document.groups ?? []).map((group) => ({
        ...group,
        rules: (group.rules ?? [])
          .filter((rule) => rule.alert === undefined || !disable.includes(rule.alert))
          .map((rule) => {
            const change = rule.alert === undefined ? undefined : override[rule.alert];
            if (!change) return rule;
            return {
              ...rule,
              ...(change.for ? { for: change.for } : {}),
              labels: { ...rule.labels, ...change.labels, ...(change.severity ? { severity: change.severity } : {}) },
            };
          }),
      }));
      return [fileName, toYaml({ ...document, groups: groups.filter((group) => group.rules.length) })];
    }),
  );
}

/** The team's own rule files, by the name they get in Prometheus's rules folder. */
export function ownRuleFiles(env: Environment): Record<string, string> {
  return Object.fromEntries((env.ownRuleFiles ?? []).map((file) => [`${OWN_RULE_FILE_PREFIX}${file.path.split("/").pop()}`, file.content]));
}

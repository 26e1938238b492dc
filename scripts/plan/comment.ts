import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The pull request's plan comment: a marker (the workflow updates the comment that carries it
 * instead of adding another), the verdict, the summary and each environment's plan as the engine
 * wrote it (redacted) in a <details> block. Cut at a line when it would pass GitHub's limit, the
 * summary first, with a pointer to the whole text in the run's artifacts.
 *
 *   node dist/scripts/plan/comment.js SUMMARY.md VERDICT RUN_URL [ENV.plan.log…] > comment.md
 */

export const MARKER = "<!-- protocol-monitoring-plan -->";
/** GitHub refuses a comment body longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** An environment's plan text as the engine wrote it, in a block the reader opens. */
function details(environment: string, text: string, note = ""): string {
  return `\n<details><summary>${environment}: the plan as the engine wrote it</summary>\n\n\`\`\`text\n${text.trimEnd()}\n\`\`\`\n${note}</details>\n`;
}

export function commentBody(summary: string, verdict: string, runUrl: string, planTexts: Readonly<Record<string, string>> = {}, limit = GITHUB_COMMENT_LIMIT): string {
  const environments = Object.keys(planTexts);
  const pointer = (environment: string) => `\n${environment}: the plan text did not fit: it is in the \`plan-${environment}\` artifact of ${runUrl}.\n`;
  // Room is kept for a pointer to each text that follows.
  const reserved = (from: number) => environments.slice(from).reduce((sum, environment) => sum + pointer(environment).length, 0);
  let body = summaryPart(summary, verdict, runUrl, limit - reserved(0));
  environments.forEach((environment, index) => {
    const text = planTexts[environment];
    const room = limit - body.length - reserved(index + 1);
    const whole = details(environment, text);
    if (whole.length <= room) {
      body += whole;
      return;
    }
    const note = `\n… cut here: the whole text is in the \`plan-${environment}\` artifact of ${runUrl}.\n`;
    const kept = text.slice(0, Math.max(0, room - details(environment, "", note).length));
    const lines = kept.slice(0, kept.lastIndexOf("\n") + 1);
    // Too little room for a useful part of it: only the pointer.
    body += lines.length > 200 ? details(environment, lines, note) : pointer(environment);
  });
  return body;
}

function summaryPart(summary: string, verdict: string, runUrl: string, limit: number): string {
  const head = `${MARKER}\n# Plan (${verdict})\n\n`;
  const whole = `${head}${summary}`;
  if (whole.length <= limit) return whole;
  const tail = `\n\n… cut here: the summary has ${summary.length} characters, more than a comment holds. The whole of it is the \`plan-summary\` artifact of ${runUrl}.\n`;
  // An open code fence would swallow the note: close it.
  let kept = summary.slice(0, limit - head.length - tail.length - "\n```".length);
  kept = kept.slice(0, kept.lastIndexOf("\n") + 1);
  const fences = kept.split("\n").filter((line) => line.startsWith("```")).length;
  return `${head}${kept}${fences % 2 ? "```" : ""}${tail}`;
}

if (require.main === module) {
  const [file, verdict, runUrl, ...logs] = process.argv.slice(2);
  if (!file || !verdict || !runUrl) {
    console.error("usage: node dist/scripts/plan/comment.js SUMMARY.md VERDICT RUN_URL [ENV.plan.log…]");
    process.exitCode = 2;
  } else {
    const planTexts = Object.fromEntries(logs.map((log) => [path.basename(log, ".plan.log"), fs.readFileSync(log, "utf8")]));
    process.stdout.write(commentBody(fs.readFileSync(file, "utf8"), verdict, runUrl, planTexts));
  }
}

import * as fs from "node:fs";

/**
 * The pull request's plan comment: a marker (the workflow updates the comment that carries it
 * instead of adding another), the verdict and the summary, cut at a line when it would pass
 * GitHub's limit, with a pointer to the full summary in the run's artifacts.
 *
 *   node dist/scripts/plan/comment.js SUMMARY.md VERDICT RUN_URL > comment.md
 */

export const MARKER = "<!-- protocol-monitoring-plan -->";
/** GitHub refuses a comment body longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

export function commentBody(summary: string, verdict: string, runUrl: string, limit = GITHUB_COMMENT_LIMIT): string {
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
  const [file, verdict, runUrl] = process.argv.slice(2);
  if (!file || !verdict || !runUrl) {
    console.error("usage: node dist/scripts/plan/comment.js SUMMARY.md VERDICT RUN_URL");
    process.exitCode = 2;
  } else {
    process.stdout.write(commentBody(fs.readFileSync(file, "utf8"), verdict, runUrl));
  }
}

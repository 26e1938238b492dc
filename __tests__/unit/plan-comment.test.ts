import { commentBody, GITHUB_COMMENT_LIMIT, MARKER } from "../../scripts/plan/comment";

const RUN = "https://github.example/o/r/actions/runs/1";

describe("the plan comment", () => {
  test("carries the marker the workflow finds it by, the verdict and the whole summary when it fits", () => {
    const summary = "## dev: 1 to add\n\nNo changes.\n";
    expect(commentBody(summary, "safe", RUN)).toBe(`${MARKER}\n# Plan (safe)\n\n${summary}`);
  });

  test("is cut at a line within GitHub's limit, says so and where the whole summary is", () => {
    const line = "| replace | `docker_container.x` | x | `upload` |\n";
    const summary = line.repeat(Math.ceil((GITHUB_COMMENT_LIMIT * 2) / line.length));
    const body = commentBody(summary, "safe", RUN);
    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(body.startsWith(`${MARKER}\n`)).toBe(true);
    expect(body).toContain(`The whole of it is the \`plan-summary\` artifact of ${RUN}.`);
    const cutLines = body.split("\n").filter((l) => l.startsWith("| replace"));
    for (const l of cutLines) expect(`${l}\n`).toBe(line); // no line cut in half
  });

  test("closes a diff block the cut falls in, so the note is not swallowed by it", () => {
    const summary = `intro\n\`\`\`diff\n${"+ a line of a long diff\n".repeat(200)}\`\`\`\n`;
    const body = commentBody(summary, "safe", RUN, {}, 1000);
    expect(body.length).toBeLessThanOrEqual(1000);
    expect(body.split("\n").filter((l) => l.startsWith("```")).length % 2).toBe(0);
    expect(body).toMatch(/```\n\n… cut here/);
  });

  test("carries each environment's plan text in a block the reader opens", () => {
    const body = commentBody("## dev: 1 to add\n", "safe", RUN, { dev: "Terraform will perform the following actions:\n  + create\n" });
    expect(body).toContain("<details><summary>dev: the plan as the engine wrote it</summary>\n\n```text\nTerraform will perform the following actions:\n  + create\n```\n</details>");
  });

  test("keeps the summary whole and cuts a plan text that does not fit, pointing to its artifact", () => {
    const summary = "## dev: 1 to add\n";
    const text = "  # docker_container.x will be created\n".repeat(5000);
    const body = commentBody(summary, "safe", RUN, { dev: text, prod: text });
    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(body).toContain(summary);
    expect(body).toContain(`… cut here: the whole text is in the \`plan-dev\` artifact of ${RUN}.`);
    expect(body).toContain(`prod: the plan text did not fit: it is in the \`plan-prod\` artifact of ${RUN}.`);
    expect(body.split("\n").filter((l) => l.startsWith("```")).length % 2).toBe(0);
    expect(body.match(/<details>/g)?.length).toBe(body.match(/<\/details>/g)?.length);
  });
});

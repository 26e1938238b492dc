/**
 * The README stays short and leads to every page of docs/; no link in them leads nowhere (a file
 * that moved, a heading that was renamed).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../helpers/synth";
import { tempDir } from "../helpers/temp";

const DOCS = path.join(ROOT, "docs");
const pages = fs.readdirSync(DOCS).filter((f) => f.endsWith(".md"));
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
const anchorOf = (heading: string) => heading.toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-");

/** The relative links of a Markdown file that do not resolve: a missing file or heading. */
function brokenLinks(file: string): string[] {
  const text = fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^(https?:|mailto:)/.test(target))
    .filter((target) => {
      const [where, anchor] = target.split("#");
      const resolved = where ? path.resolve(path.dirname(file), where) : file;
      if (!fs.existsSync(resolved)) return true;
      if (!anchor || !resolved.endsWith(".md")) return false;
      const headings = [...fs.readFileSync(resolved, "utf8").matchAll(/^#+ (.+)$/gm)].map((m) => anchorOf(m[1]));
      return !headings.includes(anchor);
    });
}

describe("the README and docs/", () => {
  it("keeps the README short: what it is, a diagram, the two commands, what you get, where to read on", () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(250);
    expect(README).toContain("```mermaid");
    expect(README).toContain("npm run deploy ");
    expect(README).toContain("npm test ");
  });

  it.each(pages)("links docs/%s from the README", (page) => {
    expect(README).toContain(`](docs/${page})`);
  });

  it.each(["README.md", ...pages.map((page) => `docs/${page}`)])("%s has no link that leads nowhere", (file) => {
    expect(brokenLinks(path.join(ROOT, file))).toEqual([]);
  });

  it("finds a link that leads nowhere", () => {
    const file = path.join(tempDir("pm-docs"), "page.md");
    fs.writeFileSync(file, "# Page\n\n[there](page.md#page) [gone](missing.md) [renamed](page.md#old-heading) [web](https://example.org/x)\n");
    expect(brokenLinks(file)).toEqual(["missing.md", "page.md#old-heading"]);
  });
});

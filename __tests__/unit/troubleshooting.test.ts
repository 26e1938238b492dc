/**
 * docs/troubleshooting.md quotes the messages users meet: each one must still be what the code it
 * names prints. A message's `<placeholders>` stand for what a run fills in; every piece between
 * them must be in one of the named source files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../helpers/synth";

const PAGE = path.join(ROOT, "docs", "troubleshooting.md");

interface Entry {
  readonly title: string;
  readonly files: readonly string[];
  readonly messages: readonly string[];
}

/** The page's entries: `## title`, "Said by `a`, `b`:" and the fenced messages below it (an entry without "Said by" quotes another program). */
function entries(markdown: string): Entry[] {
  return markdown
    .split(/^## /m)
    .slice(1)
    .map((section) => {
      const title = section.split("\n")[0];
      const said = /^Said by (.+):$/m.exec(section)?.[1] ?? "";
      const files = [...said.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      const messages = [...section.matchAll(/^```\n([\s\S]*?)\n```$/gm)].map((m) => m[1]);
      return { title, files, messages };
    });
}

/** The pieces of a message between its placeholders, as the source spells them (long enough to mean something). */
const pieces = (message: string) =>
  message
    .split(/<[^>]+>|\n/)
    .map((piece) => piece.trim().replace(/^- /, "")) // a list's dash is the printer's, not the message's
    .filter((piece) => piece.length >= 4);

/** Source text as a message reads: template escapes undone. */
const asPrinted = (source: string) => source.replace(/\\`/g, "`").replace(/\\"/g, '"');

/** The pieces of the entry's messages that none of its files holds. */
function unsaid(entry: Entry, read: (file: string) => string): string[] {
  const sources = entry.files.map((file) => asPrinted(read(file)));
  return entry.messages.flatMap(pieces).filter((piece) => !sources.some((source) => source.includes(piece)));
}

const readSource = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("docs/troubleshooting.md", () => {
  const page = entries(fs.readFileSync(PAGE, "utf8"));

  it("has ten or more entries, each with its message", () => {
    expect(page.length).toBeGreaterThanOrEqual(10);
    expect(page.filter((entry) => !entry.messages.length).map((entry) => entry.title)).toEqual([]);
  });

  it.each(page.filter((entry) => entry.files.length).map((entry) => [entry.title, entry] as const))("%s: the message is the code's", (_, entry) => {
    for (const file of entry.files) expect(fs.existsSync(path.join(ROOT, file))).toBe(true);
    expect(unsaid(entry, readSource)).toEqual([]);
  });

  it("finds a message the code does not print, and a file that does not say it", () => {
    const made = { title: "made up", files: ["scripts/deploy.ts"], messages: ["deploy: the flux capacitor of <env> is out of sync"] };
    expect(unsaid(made, readSource)).toEqual(["deploy: the flux capacitor of", "is out of sync"]);
    const elsewhere = { title: "elsewhere", files: ["scripts/cli.ts"], messages: ["the Docker host <host> cannot be reached: <reason>"] };
    expect(unsaid(elsewhere, readSource)).toEqual(["the Docker host", "cannot be reached:"]);
  });

  it("is linked from the README", () => {
    expect(fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain("(docs/troubleshooting.md)");
  });
});

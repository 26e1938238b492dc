import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// Folders a test file made with tempDir, removed after it, even when a test failed.
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder in the system's temp folder (`<prefix>-XXXXXX`), removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  made.push(dir);
  return dir;
}

/** A folder something else made for the test (an ssh wrapper, say), removed with the others. */
export function removeAfterwards(dir: string): void {
  if (dir.startsWith(os.tmpdir())) made.push(dir);
}

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { containers, ROOT, shippedEnvironment, synth, uploadedFile } from "../helpers/synth";
import { tool } from "../helpers/tools";

// The stand-ins (testing/standin) replace Grafana, Elasticsearch, Logstash and Kibana in the
// end-to-end test. Their Go tests check that each refuses what the real service refuses, and run
// the synthesized dev stack's own files and environment (setup script, pipeline, provisioning)
// through them, so a wiring mistake fails here already.
const STANDIN = path.join(ROOT, "testing", "standin");
const ENV_PREFIX = "dev-";

/** The dev stack's containers as the Go test reads them: env (Terraform references kept) and uploads. */
function stackFiles(): string {
  const stack = synth(shippedEnvironment("dev"));
  const out: Record<string, { env: Record<string, string>; files: Record<string, string> }> = {};
  for (const c of containers(stack)) {
    const env = Object.fromEntries(
      ((c.env as string[] | undefined) ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
    );
    const files = Object.fromEntries((c.upload ?? []).map((u) => [u.file, uploadedFile(c, u.file)]));
    out[c.name.slice(ENV_PREFIX.length)] = { env, files };
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pm-standin-")), "stack.json");
  fs.writeFileSync(file, JSON.stringify({ containers: out }), { mode: 0o600 });
  return file;
}

describe("the stand-in images", () => {
  it("pass their Go tests (go test ./... in testing/standin), with the dev stack's files", () => {
    const stack = stackFiles();
    const result = spawnSync(tool("go"), ["test", "-count=1", "./..."], {
      cwd: STANDIN,
      encoding: "utf8",
      timeout: 280_000,
      env: { ...process.env, STANDIN_STACK: stack, GOTOOLCHAIN: "local", GOFLAGS: "-buildvcs=false" },
    });
    fs.rmSync(path.dirname(stack), { recursive: true, force: true });
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}`;
    if (result.status !== 0) throw new Error(`go test ./... in testing/standin failed:\n${output}`);
    expect(output).toMatch(/^ok\s/m);
  }, 300_000);
});

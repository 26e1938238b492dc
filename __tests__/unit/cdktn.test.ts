/**
 * The way off archived cdktf: the same app, on its community fork CDK Terrain (cdktn 0.24,
 * PM_CDK=cdktn), synthesizes every shipped environment to the same Terraform JSON (only the
 * library's version in the metadata differs). The compiled app (dist/) runs as the CLI runs it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { appArgs, cdkLibrary, type CdkLibrary } from "../../scripts/lib/app";
import { CommandFailure } from "../../scripts/lib/failure";
import { SHIPPED_ENVIRONMENTS } from "../helpers/synth";
import { tempDir } from "../helpers/temp";

type StackJson = { "//"?: { metadata?: { version?: string } } } & Record<string, unknown>;

/** Every shipped environment's cdk.tf.json, synthesized on a library. */
function synthesize(library: CdkLibrary): Record<string, StackJson> {
  const out = tempDir(`pm-${library}`);
  const result = spawnSync(process.execPath, appArgs(library), { env: { ...process.env, CDKTF_OUTDIR: out }, encoding: "utf8" });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return Object.fromEntries(SHIPPED_ENVIRONMENTS.map((name) => [name, JSON.parse(fs.readFileSync(path.join(out, "stacks", name, "cdk.tf.json"), "utf8")) as StackJson]));
}

describe("the app on cdktn, cdktf's community fork", () => {
  it("synthesizes every shipped environment to the same Terraform JSON as on cdktf", () => {
    const [cdktf, cdktn] = [synthesize("cdktf"), synthesize("cdktn")];
    for (const name of SHIPPED_ENVIRONMENTS) {
      expect(cdktf[name]["//"]?.metadata?.version).toBe("0.21.0");
      expect(cdktn[name]["//"]?.metadata?.version).toBe("0.24.0");
      const withoutVersion = (stack: StackJson) => ({ ...stack, "//": { ...stack["//"], metadata: { ...stack["//"]?.metadata, version: "(library)" } } });
      expect(withoutVersion(cdktn[name])).toEqual(withoutVersion(cdktf[name]));
    }
  });

  it("is chosen with PM_CDK, and nothing else is taken for it", () => {
    expect(cdkLibrary("cdktf")).toBe("cdktf");
    expect(cdkLibrary("cdktn")).toBe("cdktn");
    expect(appArgs("cdktn")).toEqual(["--require", expect.stringMatching(/dist\/scripts\/lib\/use-cdktn\.js$/), expect.stringMatching(/dist\/main\.js$/)]);
    expect(appArgs("cdktf")).toEqual([expect.stringMatching(/dist\/main\.js$/)]);
    expect(() => cdkLibrary("cdk8s")).toThrow(CommandFailure);
    expect(() => cdkLibrary("cdk8s")).toThrow("PM_CDK=cdk8s: cdktf (the default) or cdktn");
  });
});

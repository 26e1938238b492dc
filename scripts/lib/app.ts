import * as path from "node:path";
import { CommandFailure } from "./failure";
import { ROOT } from "./engine";

/** The CDK library the app runs on: cdktf (archived upstream, the default) or its fork cdktn. */
export type CdkLibrary = "cdktf" | "cdktn";

/** The library PM_CDK names (a value given instead, in tests); anything else is refused, naming it. */
export function cdkLibrary(chosen = process.env.PM_CDK ?? "cdktf"): CdkLibrary {
  if (chosen !== "cdktf" && chosen !== "cdktn") throw new CommandFailure(`error: PM_CDK=${chosen}: cdktf (the default) or cdktn`, 2);
  return chosen;
}

/** Node's arguments that synthesize every environment (the compiled app), on the library PM_CDK names. */
export function appArgs(library: CdkLibrary = cdkLibrary()): string[] {
  const preload = library === "cdktn" ? ["--require", path.join(ROOT, "dist/scripts/lib/use-cdktn.js")] : [];
  return [...preload, path.join(ROOT, "dist/main.js")];
}

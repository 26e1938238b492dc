/**
 * Preloaded (`node -r`) to run the app on CDK Terrain (`cdktn`), the community fork of the archived
 * cdktf: every `require("cdktf")`, the app's and the prebuilt provider bindings', gets cdktn
 * instead (same API; `__tests__/unit/cdktn.test.ts` shows the synthesized stacks equal). Chosen
 * with PM_CDK=cdktn (appArgs).
 */
import Module = require("node:module");

type Resolver = (request: string, ...rest: unknown[]) => string;
const loader = Module as unknown as { _resolveFilename: Resolver };
const resolve = loader._resolveFilename;
loader._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
  const fork = request === "cdktf" || request.startsWith("cdktf/") ? `cdktn${request.slice("cdktf".length)}` : request;
  return resolve.call(this, fork, ...rest);
};

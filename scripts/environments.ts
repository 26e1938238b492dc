import * as path from "node:path";
import { environmentsDir, loadEnvironments } from "../stacks/environment-files";
import type { Environment } from "../stacks/environment";
import { OFFLINE_DEFAULT } from "./preflight";

/**
 * `node dist/scripts/environments.js --github-matrix`: the plan workflow's matrix, one entry per
 * environment file: where its plan can run. An environment whose state is shared (pg, s3) plans
 * on a hosted runner; one whose state is a local file plans only where that file lives, the
 * self-hosted runner. The offline default `local` is a developer's, not a deployment target.
 */

const SELF_HOSTED = ["self-hosted", "protocol-monitoring"];

export function planMatrix(environments: readonly Environment[]): { include: { environment: string; runner: string; state: string }[] } {
  return {
    include: environments
      .filter((env) => env.name !== OFFLINE_DEFAULT)
      .map((env) => ({
        environment: env.name,
        // JSON, for runs-on: ${{ fromJSON(matrix.runner) }}
        runner: JSON.stringify(env.state.backend === "local" ? SELF_HOSTED : "ubuntu-latest"),
        state: env.state.backend,
      })),
  };
}

if (require.main === module) {
  const root = path.resolve(__dirname, "../..");
  const environments = loadEnvironments(environmentsDir(root));
  if (process.argv[2] !== "--github-matrix") {
    console.error("usage: node dist/scripts/environments.js --github-matrix");
    process.exitCode = 2;
  } else console.log(JSON.stringify(planMatrix(environments)));
}

import * as path from "node:path";
import { App } from "cdktf";
import { loadAssets } from "./stacks/assets";
import { type Catalog, EnvironmentError } from "./stacks/environment";
import { environmentsDir, loadEnvironments } from "./stacks/environment-files";
import { HardeningError } from "./stacks/hardening";
import { MonitoringStack } from "./stacks/monitoring-stack";
import { SERVICES } from "./stacks/services";

// Compiled to dist/main.js; the project root is one level up from there.
const root = path.resolve(__dirname, path.basename(__dirname) === "dist" ? ".." : ".");

/**
 * The app: one stack per file in environments/ (the end-to-end tests point PM_ENVIRONMENTS_DIR and
 * PM_STATE_DIR at throw-away folders; users keep the defaults). Returns the exit code; a test may
 * pass a catalog of its own.
 */
export function main(catalog: Catalog = SERVICES): number {
  const stateDir = process.env.PM_STATE_DIR ?? path.join(root, "state");
  try {
    const app = new App();
    const assets = loadAssets(root);
    for (const env of loadEnvironments(environmentsDir(root), catalog)) {
      new MonitoringStack(app, { env, assets, statePath: path.join(stateDir, `${env.name}.tfstate`) });
    }
    app.synth();
    return 0;
  } catch (error) {
    // A user's mistake (the environment file) or a policy violation (hardening): the message, no trace.
    if (!(error instanceof EnvironmentError || error instanceof HardeningError)) throw error;
    console.error(`error: ${error.message}`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main();

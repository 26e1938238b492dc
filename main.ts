import * as path from "node:path";
import { App } from "cdktf";
import { loadAssets } from "./stacks/assets";
import { EnvironmentError, loadEnvironments } from "./stacks/environment";
import { MonitoringStack } from "./stacks/monitoring-stack";

// Compiled to dist/main.js; the project root is one level up from there.
const root = path.resolve(__dirname, path.basename(__dirname) === "dist" ? ".." : ".");
// The end-to-end tests point these at throw-away folders; users keep the defaults.
const environmentsDir = process.env.PM_ENVIRONMENTS_DIR ?? path.join(root, "environments");
const stateDir = process.env.PM_STATE_DIR ?? path.join(root, "state");

try {
  const app = new App();
  const assets = loadAssets(path.join(root, "assets"));
  for (const env of loadEnvironments(environmentsDir)) {
    new MonitoringStack(app, { env, assets, statePath: path.join(stateDir, `${env.name}.tfstate`) });
  }
  app.synth();
} catch (error) {
  if (!(error instanceof EnvironmentError)) throw error;
  console.error(`error: ${error.message}`);
  process.exit(1);
}

import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { SECRET_NAMES } from "../../stacks/secrets";
import { planMatrix } from "../../scripts/environments";
import { ROOT, shippedEnvironment, SHIPPED_ENVIRONMENTS } from "../helpers/synth";
import { tool } from "../helpers/tools";
import { tempDir } from "../helpers/temp";

const WORKFLOW = path.join(ROOT, ".github/workflows/plan.yml");

function actionlint(file: string) {
  return spawnSync(tool("actionlint"), ["-no-color", file], { encoding: "utf8" });
}

describe("the plan workflow", () => {
  it("passes actionlint", () => {
    const result = actionlint(WORKFLOW);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("is linted for real: a broken copy fails", () => {
    const broken = path.join(tempDir("pm-wf"), "plan.yml");
    fs.writeFileSync(broken, fs.readFileSync(WORKFLOW, "utf8").replace("timeout-minutes: 60", "timeout-minutes: soon"));
    expect(actionlint(broken).status).not.toBe(0);
  });

  it("plans each environment in its own job, with its own secrets, and deploys only when opted in and no data is lost", () => {
    const text = fs.readFileSync(WORKFLOW, "utf8");
    expect(text).toContain("node dist/scripts/environments.js --github-matrix");
    expect(text).toContain("runs-on: ${{ fromJSON(matrix.runner) }}");
    expect(text).toContain("environment: ${{ matrix.environment }}");
    expect(text).toContain('npm run plan -- "${{ matrix.environment }}"');
    expect(text).toContain("npm run --silent plan:summary");
    expect(text).toMatch(/if: github\.event_name == 'push' && vars\.DEPLOY_ON_MAIN == 'true' && steps\.plan\.outputs\.verdict == '2'/);
    expect(text).toContain("PM_STATE_DIR:"); // local state lives on the self-hosted runner
    expect(text).toContain("PG_CONN_STR: ${{ secrets.PG_CONN_STR }}"); // shared state
  });

  it("plans shared-state environments on hosted runners and local-state ones where the state lives", () => {
    const matrix = planMatrix(SHIPPED_ENVIRONMENTS.map(shippedEnvironment));
    expect(matrix.include).toEqual([
      { environment: "dev", runner: JSON.stringify(["self-hosted", "protocol-monitoring"]), state: "local" },
      { environment: "prod", runner: JSON.stringify("ubuntu-latest"), state: "pg" },
    ]);
  });

  it("passes every secret of the stack to the plan", () => {
    const text = fs.readFileSync(WORKFLOW, "utf8");
    for (const name of SECRET_NAMES) {
      expect(text).toContain(`TF_VAR_${name}: \${{ secrets.TF_VAR_${name.toUpperCase()} }}`);
    }
  });
});

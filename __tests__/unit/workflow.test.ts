import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { SECRET_NAMES } from "../../stacks/secrets";
import { ROOT } from "../helpers/synth";
import { tool } from "../helpers/tools";

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
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pm-wf-")), "plan.yml");
    fs.writeFileSync(broken, fs.readFileSync(WORKFLOW, "utf8").replace("timeout-minutes: 60", "timeout-minutes: soon"));
    expect(actionlint(broken).status).not.toBe(0);
  });

  it("plans and summarizes with the project's own scripts, and deploys only when opted in", () => {
    const text = fs.readFileSync(WORKFLOW, "utf8");
    expect(text).toContain("run: npm run plan\n");
    expect(text).toContain("npm run --silent plan:summary");
    expect(text).toMatch(/if: github\.event_name == 'push' && vars\.DEPLOY_ON_MAIN == 'true'/);
    expect(text).toContain("PM_STATE_DIR:"); // plans need the environments' state
  });

  it("passes every secret of the stack to the plan", () => {
    const text = fs.readFileSync(WORKFLOW, "utf8");
    for (const name of Object.values(SECRET_NAMES)) {
      expect(text).toContain(`TF_VAR_${name}: \${{ secrets.TF_VAR_${name.toUpperCase()} }}`);
    }
  });
});

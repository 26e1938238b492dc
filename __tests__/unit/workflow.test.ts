import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { parse } from "yaml";
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

  type Step = { uses?: string; run?: string; name?: string; with?: Record<string, string> };
  type Workflow = { concurrency: Record<string, string>; jobs: Record<string, { concurrency?: Record<string, string | boolean>; steps: Step[] }> };
  const workflow = () => parse(fs.readFileSync(WORKFLOW, "utf8")) as Workflow;

  it("lets a newer push cancel a pull request's plans, never a run on main, and queues the applies of one environment", () => {
    const { concurrency, jobs } = workflow();
    expect(concurrency["cancel-in-progress"]).toBe("${{ github.event_name == 'pull_request' }}");
    expect(concurrency.group).toContain("github.run_id"); // each run on main is a group of its own
    expect(jobs.plan.concurrency).toEqual({
      group: "${{ github.event_name == 'push' && format('apply-{0}', matrix.environment) || format('plan-{0}-{1}', github.ref, matrix.environment) }}",
      "cancel-in-progress": false,
    });
  });

  it("uploads only the redacted plan and the summary, the plan before any deploy writes next to it", () => {
    const { jobs } = workflow();
    const uploads = Object.values(jobs).flatMap((job) => job.steps.filter((step) => step.uses?.startsWith("actions/upload-artifact")).map((step) => step.with?.path));
    expect(uploads).toEqual(["plans/${{ matrix.environment }}.json\nplans/${{ matrix.environment }}.plan.log\n", "plans/summary.md"]);
    const steps = jobs.plan.steps;
    const upload = steps.findIndex((step) => step.uses?.startsWith("actions/upload-artifact"));
    const deploy = steps.findIndex((step) => step.run?.includes("npm run deploy"));
    expect(upload).toBeGreaterThan(-1);
    expect(upload).toBeLessThan(deploy);
    // That npm run plan writes those files redacted, secrets absent, is e2e/deploy.test.ts's check on a real plan.
  });

  it("on main deploys only after the fresh plan matched the one the merged pull request showed", () => {
    const steps = workflow().jobs.plan.steps;
    const deploy = steps.find((step) => step.run?.includes("npm run deploy")) as Step & { env?: Record<string, string> };
    expect(deploy.run).toBe('npm run deploy -- "${{ matrix.environment }}" --auto-approve');
    expect(deploy.env).toEqual({ PM_REVIEWED_PLAN: "reviewed/${{ matrix.environment }}.json" });
    // That the deploy refuses any other plan than the reviewed one is e2e/destroy.test.ts's check.
    const download = steps.find((step) => step.uses?.startsWith("actions/download-artifact"));
    expect(download?.with).toMatchObject({ name: "plan-${{ matrix.environment }}", "run-id": "${{ steps.reviewed.outputs.run-id }}" });
    expect(steps.indexOf(download as Step)).toBeLessThan(steps.indexOf(deploy as Step));
  });

  it("comments with the body comment.js cut to GitHub's limit, updating its one comment", () => {
    const { jobs } = workflow();
    const run = jobs.summary.steps.map((step) => step.run ?? "").join("\n");
    expect(run).toMatch(/node dist\/scripts\/plan\/comment\.js plans\/summary\.md "\$verdict" "[^"]+" plans\/\*\.plan\.log > plans\/comment\.md/);
    const script = jobs.summary.steps.find((step) => step.uses?.startsWith("actions/github-script"))?.with?.script ?? "";
    expect(script).toContain('fs.readFileSync("plans/comment.md", "utf8")');
    expect(script).toContain("updateComment");
  });

  it("passes every secret of the stack to the plan", () => {
    const text = fs.readFileSync(WORKFLOW, "utf8");
    for (const name of SECRET_NAMES) {
      expect(text).toContain(`TF_VAR_${name}: \${{ secrets.TF_VAR_${name.toUpperCase()} }}`);
    }
  });
});

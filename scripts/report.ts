import type { Environment } from "../stacks/environment";
import { hasLocalBuild, runningServices } from "../stacks/descriptor";
import { DEFAULT_ENVIRONMENT, OFFLINE_DEFAULT } from "./preflight";

/**
 * After a deploy, one short paragraph: what runs
 * and where, and what the environment leaves out (for the offline default, why: each service's
 * descriptor says why it has no local build).
 */

export function deployReport(env: Environment, urls: Readonly<Record<string, string>>): string {
  // In the order the environment lists them.
  const running = [...runningServices(env)].sort((a, b) => env.services.indexOf(a.name) - env.services.indexOf(b.name)).map((service) => {
    const url = urls[`${service.name}_url`];
    return url ? `${service.title} ${url}` : service.title;
  });
  const lines = [`${env.name} is running: ${running.join(", ")}.`];
  const leftOut = env.catalog.filter((service) => !env.services.includes(service.name));
  if (leftOut.length && env.name === OFFLINE_DEFAULT) {
    // Those without a local build, and those left out with them because they need one of them.
    const noBuild = leftOut.filter((service) => !hasLocalBuild(service));
    const reasons = [...new Set(noBuild.flatMap((service) => ("none" in service.localBuild ? [service.localBuild.none] : [])))];
    const withThem = leftOut
      .filter(hasLocalBuild)
      .map((service) => `${service.title} (it needs ${(service.needs ?? []).map((name) => env.catalog.find((s) => s.name === name)?.title ?? name).join(" and ")})`);
    lines.push(
      `Left out: ${noBuild.map((service) => service.title).join(", ")}; they have no local build: ${reasons.join(", and ")}.` +
        (withThem.length ? ` Left out with them: ${withThem.join(", ")}.` : "") +
        ` Where a registry answers, \`npm run deploy -- ${DEFAULT_ENVIRONMENT}\` runs all ${env.catalog.length}.`,
    );
  } else if (leftOut.length) {
    lines.push(`Left out: ${leftOut.map((service) => service.title).join(", ")} (not in the environment's services).`);
  }
  lines.push(`Check it with \`npm run health -- ${env.name}\`; remove it with \`npm run destroy -- ${env.name}\`.`);
  return lines.join("\n");
}

/** The report of the plan JSON the deploy just applied: its outputs are the URLs, no engine run needed. */
export function reportOfPlan(env: Environment, plan: { planned_values?: { outputs?: Record<string, { value?: unknown }> } }): string {
  const outputs = Object.entries(plan.planned_values?.outputs ?? {}).filter(([, output]) => typeof output.value === "string");
  return deployReport(env, Object.fromEntries(outputs.map(([key, output]) => [key, output.value as string])));
}

/**
 * Off archived cdktf: an environment deployed through the app on its community fork, CDK Terrain
 * (PM_CDK=cdktn), comes up healthy, plans no changes afterwards on either library (the same
 * resources), and is destroyed leaving nothing.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import type { EnvironmentFile } from "../../stacks/environment";
import { deployScript, docker, dockerObjects, getJson, localImages, poll, removeEverything, reservePorts, sequentialSteps, workspace, type PortReservation } from "./harness";

jest.setTimeout(10 * 60_000);

const name = `cdktn-${crypto.randomBytes(3).toString("hex")}`;
const { work, dirs, variables } = workspace(name);
const report = (line: string) => process.stdout.write(`e2e cdktn: ${line}\n`);
const step = sequentialSteps(name);
let reserved: PortReservation;

function run(library: "cdktf" | "cdktn", ...args: string[]) {
  const result = deployScript({ ...process.env, ...variables, CI: "true", PM_CDK: library }, args, 300);
  report(`PM_CDK=${library} cli.sh ${args.join(" ")}: exit ${result.status} in ${result.seconds.toFixed(1)} s`);
  if (result.status !== 0) throw new Error(`cli.sh ${args.join(" ")} exited ${result.status}:\n${result.output}`);
  return result.output;
}

beforeAll(async () => {
  reserved = await reservePorts(1);
  const images = localImages();
  const file: EnvironmentFile = { name, services: ["prometheus", "nodeExporter"], images: { prometheus: images.prometheus, nodeExporter: images.nodeExporter }, ports: { prometheus: reserved.ports[0] } };
  fs.mkdirSync(dirs.environments, { recursive: true });
  fs.writeFileSync(path.join(dirs.environments, `${name}.yaml`), stringify(file));
});

afterAll(async () => {
  await reserved.release();
  removeEverything(name);
  fs.rmSync(work, { recursive: true, force: true });
});

test("deploys through cdktn: healthy, scraping; a second plan on cdktn and on cdktf shows no changes; destroy leaves nothing", () => step(async () => {
  await reserved.release();
  const deployed = run("cdktn", "deploy", name, "--auto-approve");
  expect(deployed).toMatch(/deploy: done in/);
  const stack = JSON.parse(fs.readFileSync(path.join(dirs.out, "stacks", name, "cdk.tf.json"), "utf8")) as { "//": { metadata: { version: string } } };
  expect(stack["//"].metadata.version).toBe("0.24.0");
  for (const container of dockerObjects(name).containers) expect(docker("inspect", "-f", "{{.State.Health.Status}}", container)).toBe("healthy");
  await poll("Prometheus to scrape Node Exporter", async () => {
    const { data } = await getJson<{ data: { result: { value: [number, string] }[] } }>(`http://127.0.0.1:${reserved.ports[0]}/api/v1/query?query=up%7Bjob%3D%22node%22%7D`);
    return data.result[0]?.value[1] === "1" ? true : undefined;
  });
  report("deployed through cdktn 0.24.0: healthy, Node Exporter scraped");
  for (const library of ["cdktn", "cdktf"] as const) expect(run(library, "diff", name)).toContain(`${name}: no changes`);
  expect(run("cdktn", "destroy", name, "--auto-approve")).toContain(`nothing of ${name} is left on Docker`);
  expect(dockerObjects(name)).toEqual({ containers: [], networks: [], volumes: [] });
}));

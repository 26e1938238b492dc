import { Testing } from "cdktf";
import { buildStack, environment, shippedEnvironment, SHIPPED_ENVIRONMENTS } from "../helpers/synth";

/**
 * Golden output: the synthesized Terraform JSON of every file in environments/ and of two partial
 * environments, as Terraform reads it. A refactoring must leave these unchanged; a change of
 * behaviour updates them in a commit of its own that says why (`npx jest -u`, then review the diff).
 * Testing.synth sorts keys and drops cdktf's metadata, so only what Terraform sees is compared.
 */
function synthText(env: ReturnType<typeof environment>): string {
  return Testing.synth(buildStack(env));
}

describe("golden output", () => {
  it.each(SHIPPED_ENVIRONMENTS)("environments/%s.yaml synthesizes as before", (name) => {
    expect(JSON.parse(synthText(shippedEnvironment(name)))).toMatchSnapshot();
  });

  // Partial environments: the wiring that depends on which services run together.
  it("ELK without Grafana synthesizes as before", () => {
    const env = environment({ name: "elk", services: ["prometheus", "alertmanager", "elasticsearch", "logstash", "kibana"] });
    expect(JSON.parse(synthText(env))).toMatchSnapshot();
  });

  it("Grafana and Elasticsearch only (with the required Prometheus) synthesizes as before", () => {
    const env = environment({ name: "grafana-es", services: ["prometheus", "grafana", "elasticsearch"] });
    expect(JSON.parse(synthText(env))).toMatchSnapshot();
  });
});

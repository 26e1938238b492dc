import { stackFacts, stateLocation, unprotectedTargets, type SynthesizedStack } from "../../scripts/stack-facts";
import { environment, synth } from "../helpers/synth";

describe("what a deploy reads of a synthesized stack", () => {
  test("a destroy of a protectData environment targets everything but its data volumes", () => {
    const stack = synth(environment({ services: ["prometheus", "alertmanager"], protectData: true })) as unknown as SynthesizedStack;
    const targets = unprotectedTargets(stack);
    expect(targets.some((t) => t.startsWith("-target=docker_volume."))).toBe(false);
    expect(targets.filter((t) => t.startsWith("-target=docker_container.")).length).toBe(2);
    expect(targets).toContain("-target=docker_network.network");
  });

  test("without protectData a destroy targets nothing: the whole stack goes", () => {
    expect(unprotectedTargets(synth(environment({ services: ["prometheus"] })) as unknown as SynthesizedStack)).toEqual([]);
  });

  test("the backend, the number of Docker hosts and the terraform block", () => {
    const stack = synth(environment({ services: ["prometheus"] })) as unknown as SynthesizedStack;
    const { backend, dockerHosts, terraformBlock, unprotected, encrypted } = stackFacts(stack);
    expect([backend, dockerHosts, unprotected, encrypted]).toEqual(["local", 1, [], "no"]);
    expect(JSON.parse(terraformBlock)).toEqual(stack.terraform);
  });

  test("names where a shared state lives, never with its credentials", () => {
    const pg: SynthesizedStack = { terraform: { backend: { pg: { schema_name: "x" } } } };
    expect(stateLocation(pg, "postgres://pm:s3cret@db.internal:6432/pm?sslmode=require")).toBe("db.internal:6432");
    expect(stateLocation(pg, "host=db.internal user=pm password=s3cret dbname=pm")).toBe("db.internal:5432");
    expect(stateLocation(pg, "")).toBe("PG_CONN_STR is not set");
    expect(stateLocation({ terraform: { backend: { s3: { bucket: "team-state", key: "pm/dev.tfstate" } } } })).toBe("s3://team-state/pm/dev.tfstate");
  });
});

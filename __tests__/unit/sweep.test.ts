import { describe as describeObjects, kept, outcome, plannedDeletions, leftByPlan, type PlacedObject } from "../../scripts/sweep";

const here = (type: PlacedObject["type"], name: string, importId = `${name}-id`): PlacedObject => ({ type, name, importId, host: "stack" });
const network = here("docker_network", "unit-monitoring");
const prometheus = here("docker_container", "unit-prometheus");
const volume = here("docker_volume", "unit-prometheus-data", "unit-prometheus-data");
const edgeExporter: PlacedObject = { type: "docker_container", name: "unit-node-exporter", importId: "edge-id", host: "edge" };
const onDocker = [prometheus, network, volume, edgeExporter];

describe("what a destroy removes beyond its plan", () => {
  test("with a lost state, everything labelled on every host; with a full one, nothing", () => {
    expect(leftByPlan({ protectData: false }, new Set(), onDocker)).toEqual(onDocker);
    expect(leftByPlan({ protectData: false }, new Set(onDocker.map((o) => o.importId)), onDocker)).toEqual([]);
  });

  test("only what the state does not record", () => {
    expect(leftByPlan({ protectData: false }, new Set([network.importId, volume.importId]), onDocker)).toEqual([prometheus, edgeExporter]);
  });

  test("protectData keeps every data volume, recorded or not, and nothing else", () => {
    expect(leftByPlan({ protectData: true }, new Set(), onDocker)).toEqual([prometheus, network, edgeExporter]);
    expect(kept({ protectData: true }, onDocker)).toEqual([volume]);
    expect(kept({ protectData: false }, onDocker)).toEqual([]);
  });

  test("names each object, with its host when the environment has several", () => {
    expect(describeObjects([prometheus, edgeExporter], true)).toEqual(["container unit-prometheus (on stack)", "container unit-node-exporter (on edge)"]);
    expect(describeObjects([network, volume], false)).toEqual(["network unit-monitoring", "volume unit-prometheus-data"]);
  });
});

test("what a destroy plan deletes: the objects of its delete changes, by ID", () => {
  const plan = {
    resource_changes: [
      { type: "docker_container", change: { actions: ["delete"], before: { id: "c-id" } } },
      { type: "docker_volume", change: { actions: ["no-op"], before: { id: "kept-volume" } } }, // protected: not targeted
      { type: "docker_image", change: { actions: ["delete"], before: { id: "sha256:abc" } } },
    ],
  };
  expect([...plannedDeletions(plan)].sort()).toEqual(["c-id", "sha256:abc"]);
  expect(plannedDeletions({})).toEqual(new Set());
});

describe("the destroy's last line", () => {
  test("counts what went and says nothing is left", () => {
    expect(outcome("unit", onDocker, [], false)).toBe("removed 2 containers, 1 network, 1 volume; nothing of unit is left on Docker");
  });

  test("says when nothing was there to remove", () => {
    expect(outcome("unit", [], [], false)).toBe("nothing of unit was on Docker");
  });

  test("names the volumes protectData kept and the command that removes them", () => {
    expect(outcome("unit", onDocker, [volume], true)).toBe(
      "removed 2 containers, 1 network; left on Docker: volume unit-prometheus-data (protectData: the data stays; `docker volume rm unit-prometheus-data` removes it, or set protectData: false and destroy again)",
    );
  });

  test("does not call a leftover that should have gone protected data", () => {
    expect(outcome("unit", onDocker, [network], false)).toBe("removed 2 containers, 1 volume; left on Docker: network unit-monitoring (could not be removed: see the errors above)");
    expect(outcome("unit", onDocker, [network, volume], true)).toMatch(/could not be removed/);
    expect(outcome("unit", [volume], [volume], true)).toMatch(/^removed nothing; left on Docker: volume unit-prometheus-data \(protectData/);
  });
});

import { adoptions, goneRecords, recordedObjects, type DockerObject } from "../../scripts/adopt";
import { environment, synth } from "../helpers/synth";

describe("adopting what an interrupted run left on Docker", () => {
  const stack = synth(environment({ services: ["prometheus", "alertmanager"] }));
  const onDocker: DockerObject[] = [
    { type: "docker_network", name: "unit-monitoring", importId: "net-id" },
    { type: "docker_volume", name: "unit-prometheus-data", importId: "unit-prometheus-data" },
    { type: "docker_container", name: "unit-prometheus", importId: "c-id" },
    // Labelled with this environment but no longer in its code: not adopted (nothing to adopt it into).
    { type: "docker_container", name: "unit-grafana", importId: "g-id" },
  ];
  const address = (type: string, name: string) => {
    const [id] = Object.entries(stack.resource[type]).find(([, r]) => r.name === name) ?? [];
    return `${type}.${id}`;
  };

  it("imports every labelled object the code declares and the state lacks, by the ID the provider imports by", () => {
    expect(adoptions(stack, new Map(), onDocker).forget).toEqual([]);
    expect(adoptions(stack, new Map(), onDocker).adopt).toEqual(
      [
        { to: address("docker_container", "unit-prometheus"), id: "c-id", name: "unit-prometheus" },
        { to: "docker_network.network", id: "net-id", name: "unit-monitoring" },
        { to: address("docker_volume", "unit-prometheus-data"), id: "unit-prometheus-data", name: "unit-prometheus-data" },
      ].sort((a, b) => a.to.localeCompare(b.to)),
    );
  });

  it("leaves alone what the state already records", () => {
    const recorded = new Map([
      ["docker_network.network", "net-id"],
      [address("docker_volume", "unit-prometheus-data"), "unit-prometheus-data"],
      [address("docker_container", "unit-prometheus"), "c-id"],
    ]);
    expect(adoptions(stack, recorded, onDocker)).toEqual({ adopt: [], forget: [] });
  });

  it("adopts the container a run killed mid-replacement created, in place of the record of the one it removed", () => {
    const prometheus = address("docker_container", "unit-prometheus");
    const recorded = new Map([
      ["docker_network.network", "net-id"],
      [prometheus, "removed-id"],
    ]);
    expect(adoptions(stack, recorded, onDocker.slice(0, 3))).toEqual({
      adopt: [
        { to: prometheus, id: "c-id", name: "unit-prometheus" },
        { to: address("docker_volume", "unit-prometheus-data"), id: "unit-prometheus-data", name: "unit-prometheus-data" },
      ].sort((a, b) => a.to.localeCompare(b.to)),
      forget: [prometheus],
    });
    // A record whose object still exists is never dropped.
    expect(adoptions(stack, new Map([[prometheus, "net-id"]]), onDocker.slice(0, 3)).forget).toEqual([]);
  });

  it("reads the state's records from the plan: the refreshed state, and the records the refresh found gone", () => {
    const recorded = recordedObjects({
      prior_state: {
        values: {
          root_module: {
            resources: [
              { address: "docker_network.network", type: "docker_network", values: { id: "net-id" } },
              { address: "docker_image.prometheus", type: "docker_image", values: { id: "sha256:1" } },
            ],
          },
        },
      },
      resource_drift: [
        { address: "docker_container.prometheus", type: "docker_container", change: { actions: ["delete"], before: { id: "gone-id" } } },
        { address: "docker_network.network", type: "docker_network", change: { actions: ["update"], before: { id: "net-id" } } },
      ],
    });
    expect([...recorded]).toEqual([
      ["docker_network.network", "net-id"],
      ["docker_container.prometheus", "gone-id"],
    ]);
    expect(recordedObjects({}).size).toBe(0); // no state yet
  });

  it("names the records whose object is not on Docker (a destroy then plans again with a refresh)", () => {
    const recorded = new Map([
      ["docker_network.network", "net-id"],
      ["docker_volume.data", "unit-prometheus-data"],
      ["docker_container.prometheus", "removed-id"],
    ]);
    expect(goneRecords(recorded, onDocker)).toEqual(["docker_container.prometheus"]);
    expect(goneRecords(new Map([["docker_network.network", "net-id"]]), onDocker)).toEqual([]);
  });
});

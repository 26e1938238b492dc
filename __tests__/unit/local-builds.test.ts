import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { hasLocalBuild, type ServiceDescriptor } from "../../stacks/descriptor";
import { SERVICES } from "../../stacks/services";
import { localBuilds, moduleVersion, programRecipe, shellAll, shellDeclarations, standinRecipe } from "../../scripts/local-builds";
import { ROOT } from "../helpers/synth";
import { tempDir } from "../helpers/temp";

/**
 * What scripts/build-local-images.sh builds comes from the catalog (scripts/local-builds.ts): each
 * descriptor's localBuild recipe with its user and ports, and the testing wing's stand-ins.
 */
const builds = localBuilds(SERVICES, ROOT);
const expose = (service: ServiceDescriptor) => builds.find((b) => b.name === service.hostname)?.changes.find((c) => c.startsWith("EXPOSE "));

describe("local builds", () => {
  it("are every service with a recipe, then the stand-ins of those without one", () => {
    expect(builds.filter((b) => b.kind === "program").map((b) => b.name)).toEqual(SERVICES.filter(hasLocalBuild).map((s) => s.hostname));
    expect(builds.filter((b) => b.kind === "standin").map((b) => b.name).sort()).toEqual(["elasticsearch", "grafana", "kibana", "logstash"]);
  });

  it("take each image's user and ports from its descriptor", () => {
    for (const service of SERVICES.filter((s) => builds.some((b) => b.name === s.hostname))) {
      const build = builds.find((b) => b.name === service.hostname)!;
      expect(expose(service)?.split(" ")).toContain(String(service.port));
      for (const extra of service.extraPorts ?? []) expect(expose(service)?.split(" ")).toContain(`${extra.internal}/${extra.protocol}`);
      expect(build.changes.filter((c) => c.startsWith("USER "))).toEqual(service.user ? [`USER ${service.user}`] : []);
    }
  });

  it("build each program at the release its descriptor's image pins", () => {
    const prometheus = programRecipe(SERVICES.find((s) => s.name === "prometheus")!);
    expect([prometheus.tag, prometheus.moduleVersion, prometheus.module]).toEqual(["v3.5.5", "v0.305.5", "github.com/prometheus/prometheus"]);
    const nodeExporter = programRecipe(SERVICES.find((s) => s.name === "nodeExporter")!);
    expect([nodeExporter.tag, nodeExporter.moduleVersion]).toEqual(["v1.12.1", "v1.12.1"]);
    expect(() => moduleVersion({ goModule: "m", moduleVersion: "prometheus-v0", binaries: {}, entrypoint: [] }, "v2.53.0")).toThrow("no Go module version known for tag v2.53.0");
  });

  it("refuse a service without a recipe, and a stand-in for no service", () => {
    const grafana = SERVICES.find((s) => s.name === "grafana")!;
    expect(() => programRecipe(grafana)).toThrow(/grafana has no local build: Grafana's licence/);
    expect(() => standinRecipe(grafana, {})).toThrow("grafana: no stand-in in testing/standin/layouts.json");
    const root = tempDir("pm-standins");
    fs.mkdirSync(path.join(root, "testing", "standin"), { recursive: true });
    fs.writeFileSync(path.join(root, "testing", "standin", "layouts.json"), JSON.stringify({ mystery: { home: "/m", dirs: [] } }));
    expect(() => localBuilds(SERVICES, root)).toThrow("testing/standin/layouts.json: mystery stand(s) in for no service of the catalog");
  });

  it("reach bash as declarations that keep every value as it is, quotes included", () => {
    const recipe = { ...programRecipe(SERVICES.find((s) => s.name === "prometheus")!), changes: [`CMD ["it's", "$HOME"]`] };
    const out = execFileSync("bash", ["-c", `set -u; eval "$1"; printf '%s\\n' "$LB_NAME" "\${LB_CHANGES[@]}" "\${#LB_PACKAGES[@]}"`, "_", shellDeclarations(recipe)], { encoding: "utf8" });
    expect(out).toBe(`prometheus\nCMD ["it's", "$HOME"]\n2\n`);
  });

  it("reach bash all at once: the list, and a function per image that sets only its own recipe", () => {
    const script = `set -u; eval "$1"; printf '%s\n' "$LOCAL_BUILDS" | wc -l; _lb_node_exporter; echo "$LB_NAME $LB_TAG"; unset "\${!LB_@}"; _lb_kibana; echo "$LB_KIND $LB_UID \${LB_TAG:-unset}"`;
    const out = execFileSync("bash", ["-c", script, "_", shellAll(builds)], { encoding: "utf8" });
    expect(out.split("\n")).toEqual([String(builds.length), "node-exporter v1.12.1", "standin 1000 unset", ""]);
  });

  it("declare every LB_ variable the shell scripts read, and the scripts read no other", () => {
    const scripts = ["scripts/lib/programs.sh", "scripts/build-local-images.sh"].map((file) => fs.readFileSync(path.join(ROOT, file), "utf8")).join("\n");
    const read = new Set([...scripts.matchAll(/\bLB_([A-Z_]+)\b/g)].map((m) => m[1]).filter((name) => name !== "" && !name.endsWith("_")));
    const declared = new Set(builds.flatMap((build) => [...shellDeclarations(build).matchAll(/^LB_([A-Z_]+)=/gm)].map((m) => m[1])));
    expect([...read].filter((name) => !declared.has(name)).sort()).toEqual([]);
  });

  it("are not restated in the image script: no service's port or user is written there (the simulator, no service, has its own)", () => {
    const whole = fs.readFileSync(path.join(ROOT, "scripts", "build-local-images.sh"), "utf8");
    const simulator = /^build_protocol_sim\(\) \{\n[\s\S]*?\n\}\n/m.exec(whole);
    expect(simulator?.[0]).toContain("EXPOSE 8000");
    const script = whole.replace(simulator?.[0] ?? "", "");
    const restated = SERVICES.flatMap((service) => [
      ...(new RegExp(`EXPOSE[^\\n]*\\b${service.port}\\b`).test(script) ? [`EXPOSE ${service.port} (${service.name})`] : []),
      ...(service.user && script.includes(`USER ${service.user}`) ? [`USER ${service.user} (${service.name})`] : []),
    ]);
    expect(restated).toEqual([]);
  });
});

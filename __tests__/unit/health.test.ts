import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { renderTable, runHealthChecks } from "../../scripts/health";
import { environment } from "../helpers/synth";

/** A local HTTP server answering path → [status, body]; anything else is a 404. */
async function server(routes: Record<string, [number, string]>): Promise<{ port: number; close: () => Promise<void> }> {
  const s = http.createServer((req, res) => {
    const [status, body] = routes[req.url ?? ""] ?? [404, ""];
    res.writeHead(status, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return { port: (s.address() as AddressInfo).port, close: () => new Promise((resolve) => s.close(() => resolve())) };
}

/** A port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
  const s = await server({});
  await s.close();
  return s.port;
}

describe("npm run health", () => {
  it("reports healthy, failing, silent and unreachable services without throwing", async () => {
    const registry = await server({ "/health": [200, "{}"] });
    const teg = await server({ "/health": [503, "{}"] });
    const stack = await server({ "/-/ready": [200, "ready"] });
    const grafana = await server({ "/api/health": [200, '{"database":"failing"}'] });
    const hanging = http.createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const hangingPort = (hanging.address() as AddressInfo).port;
    const nothing = await closedPort();
    try {
      const env = environment({
        services: ["prometheus", "alertmanager", "grafana"],
        ports: { prometheus: stack.port, alertmanager: hangingPort, grafana: grafana.port },
        scrape: {
          targets: [
            { job: "registry_a", targets: [`host.docker.internal:${registry.port}`] },
            { job: "teg_layer", targets: [`127.0.0.1:${teg.port}`], metricsPath: "/api/metrics" },
            { job: "registry_b", targets: [`127.0.0.1:${nothing}`] },
          ],
        },
      });
      const results = await runHealthChecks(env, { timeoutMs: 500 });
      const byName = Object.fromEntries(results.map((r) => [r.name, r]));
      expect(byName.registry_a).toMatchObject({ status: "ok", url: `http://127.0.0.1:${registry.port}/health` });
      expect(byName.teg_layer).toMatchObject({ status: "degraded", detail: "HTTP 503" });
      expect(byName.registry_b).toMatchObject({ status: "degraded", detail: "unreachable: ECONNREFUSED" });
      expect(byName.prometheus).toMatchObject({ status: "ok" });
      expect(byName.alertmanager).toMatchObject({ status: "degraded", detail: "no answer in 500 ms" });
      expect(byName.grafana).toMatchObject({ status: "degraded", detail: "database failing" });
      expect(renderTable(results).split("\n")[0]).toMatch(/^CHECK\s+STATUS\s+TIME\s+DETAIL\s+URL$/);
    } finally {
      await Promise.all([registry.close(), teg.close(), stack.close(), grafana.close(), new Promise((r) => hanging.close(r))]);
    }
  });

  it("passes a yellow single-node Elasticsearch and fails a red one", async () => {
    for (const [color, status] of [["yellow", "ok"], ["red", "degraded"]] as const) {
      const es = await server({ "/_cluster/health": [200, JSON.stringify({ status: color })] });
      try {
        const env = environment({ services: ["prometheus", "elasticsearch"], ports: { prometheus: await closedPort(), elasticsearch: es.port } });
        const result = (await runHealthChecks(env, { timeoutMs: 500, secrets: { elastic_password: "x" } })).find((r) => r.name === "elasticsearch");
        expect(result).toMatchObject({ status, detail: `cluster ${color}` });
      } finally {
        await es.close();
      }
    }
  });
});

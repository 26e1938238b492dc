import { defineService } from "../../descriptor";
import { elasticsearch } from "../elasticsearch/descriptor";

/** Grafana: the dashboards of its dashboards/ folder on Prometheus, and the logs on Elasticsearch where it runs. */
export const grafana = defineService({
  name: "grafana",
  title: "Grafana",
  image: "grafana/grafana:13.2.3",
  localBuild: { none: "Grafana's licence (AGPL) keeps it out of this project's builds" },
  port: 3000,
  hostPort: 3000,
  ownTls: { dir: "/etc/grafana/secrets" },
  dataPath: "/var/lib/grafana",
  memoryMb: 512,
  user: "472:0",
  // Its read-only Elasticsearch user exists only where both run.
  // webAuth: it reads Prometheus as the web user.
  secrets: (env) => [
    "grafana_admin_password",
    ...(env.services.includes(elasticsearch.name) ? (["grafana_es_password"] as const) : []),
    ...(env.webAuth.enabled ? (["web_password"] as const) : []),
  ],
  health: {
    path: "/api/health",
    client: "wget",
    judge: (body) => {
      const database = (JSON.parse(body) as { database?: string }).database;
      return { status: database === "ok" ? "ok" : "degraded", detail: `database ${database ?? "unknown"}` };
    },
  },
  scrape: { job: "grafana" },
  url: true,
  metrics: { sources: ["grafana"] },
});

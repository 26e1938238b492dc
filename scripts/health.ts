import * as net from "node:net";
import type { Environment } from "../stacks/environment";
import { environmentFile, loadEnvironmentFile } from "../stacks/environment-files";
import { protocolHealthPath } from "../stacks/services/blackbox";
import type { SecretName } from "../stacks/secrets";
import { type HealthStatus, type HealthVerdict, isPublished, runningServices } from "../stacks/descriptor";
import { servesTls } from "../stacks/web-config";
import { secretValue } from "./lib/secret-file";
import { ROOT } from "./lib/engine";

/**
 * `npm run health -- <env> [--json] [--timeout SECONDS] [--host HOST]`: checks each Protocol service the
 * environment scrapes and each stack service it runs (by its descriptor's health endpoint, the one
 * Docker's healthcheck uses too), prints a table (or JSON), and exits 1 when anything is degraded.
 * An unreachable host is a result, not a crash.
 */

export type Status = HealthStatus;

export interface CheckResult {
  readonly name: string;
  readonly url: string;
  readonly status: Status;
  readonly detail: string;
  readonly ms: number;
}

interface Check {
  readonly name: string;
  readonly url: string;
  /** Judges a response body; unset means any 2xx is healthy. */
  readonly judge?: (body: string) => HealthVerdict;
  readonly headers?: Record<string, string>;
}

/**
 * Where the environment's published ports answer, seen from the machine running the check. For a
 * remote Docker host that is the remote machine, if it publishes beyond its loopback; else pass
 * --host 127.0.0.1 through an SSH tunnel.
 */
export function publishedHost(env: Environment, override?: string): string {
  if (override) return override;
  const docker = env.docker.host;
  if (docker.startsWith("ssh://") || docker.startsWith("tcp://")) return new URL(docker).hostname;
  return env.bindAddress === "0.0.0.0" ? "127.0.0.1" : env.bindAddress.includes(":") ? `[${env.bindAddress}]` : env.bindAddress;
}

/** host.docker.internal is how containers reach the Docker host; from outside it is that host. */
function fromHost(address: string, dockerHost: string): string {
  const [host, port] = address.split(":");
  return `${host === "host.docker.internal" ? dockerHost : host}:${port}`;
}

/** The secrets health endpoints log in with, by name. */
export type HealthSecrets = Readonly<Partial<Record<SecretName, string>>>;

export function healthChecks(env: Environment, secrets: HealthSecrets = {}, hostOverride?: string): Check[] {
  const checks: Check[] = [];
  const host = publishedHost(env, hostOverride);
  for (const target of env.scrape.targets) {
    for (const address of target.targets) {
      checks.push({ name: target.job, url: `${target.scheme}://${fromHost(address, host)}${protocolHealthPath(target)}` });
    }
  }
  // A service that publishes nothing is left to Docker's healthcheck.
  for (const service of runningServices(env).filter(isPublished)) {
    const health = service.health;
    const published = `${host}:${env.ports[service.name]}`;
    // Its health endpoint is not published, or is served over TLS (webAuth: a certificate of the
    // environment's CA, which this check does not hold): its published port must take connections.
    if ((health.port ?? service.port) !== service.port || servesTls(env, service)) {
      checks.push({ name: service.name, url: `tcp://${published}` });
      continue;
    }
    const password = health.auth && secrets[health.auth.secret];
    checks.push({
      name: service.name,
      url: `http://${published}${health.path}`,
      judge: health.judge,
      headers: health.auth && password ? { authorization: `Basic ${Buffer.from(`${health.auth.user}:${password}`).toString("base64")}` } : undefined,
    });
  }
  return checks;
}

async function tcpCheck(check: Check, timeoutMs: number): Promise<{ status: Status; detail: string }> {
  const { hostname, port } = new URL(check.url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port) });
    const done = (status: Status, detail: string) => {
      socket.destroy();
      resolve({ status, detail });
    };
    socket.setTimeout(timeoutMs, () => done("degraded", `no answer in ${timeoutMs} ms`));
    socket.once("connect", () => done("ok", "accepts connections"));
    socket.once("error", (error: NodeJS.ErrnoException) => done("degraded", `unreachable: ${error.code ?? error.message}`));
  });
}

async function runCheck(check: Check, timeoutMs: number): Promise<CheckResult> {
  const start = Date.now();
  let outcome: { status: Status; detail: string };
  if (check.url.startsWith("tcp://")) {
    outcome = await tcpCheck(check, timeoutMs);
  } else {
    try {
      const response = await fetch(check.url, { headers: check.headers, signal: AbortSignal.timeout(timeoutMs) });
      const body = await response.text();
      if (!response.ok) outcome = { status: "degraded", detail: `HTTP ${response.status}` };
      else outcome = check.judge ? check.judge(body) : { status: "ok", detail: `HTTP ${response.status}` };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      const detail = e.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : e.cause?.code ? `unreachable: ${e.cause.code}` : e.message;
      outcome = { status: "degraded", detail };
    }
  }
  return { name: check.name, url: check.url, ...outcome, ms: Date.now() - start };
}

export async function runHealthChecks(env: Environment, options: { timeoutMs: number; secrets?: HealthSecrets; host?: string }): Promise<CheckResult[]> {
  return Promise.all(healthChecks(env, options.secrets, options.host).map((check) => withDeadline(check, options.timeoutMs)));
}

/**
 * A check that hangs past its timeout is a degraded row. The deadline's timer is a normal one:
 * fetch's abort timer does not keep the process alive, and a process whose last pending check
 * hangs would otherwise exit 0 without printing anything.
 */
async function withDeadline(check: Check, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ name: check.name, url: check.url, status: "degraded", detail: `no answer in ${timeoutMs} ms`, ms: timeoutMs }), timeoutMs + 500);
  });
  try {
    return await Promise.race([runCheck(check, timeoutMs), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function renderTable(results: readonly CheckResult[]): string {
  const rows = [["CHECK", "STATUS", "TIME", "DETAIL", "URL"], ...results.map((r) => [r.name, r.status === "ok" ? "ok" : "DEGRADED", `${r.ms} ms`, r.detail, r.url])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

export interface HealthArgs {
  environment: string;
  json: boolean;
  timeoutSeconds: number;
  host?: string;
}

/**
 * Checks once and prints a table (or JSON); 1 when anything is degraded. A service whose health
 * endpoint needs a login is checked with its TF_VAR_<secret>, or the value deploy generated into
 * .secrets/<environment>.env.
 */
export async function health(args: HealthArgs): Promise<number> {
  const env = loadEnvironmentFile(environmentFile(ROOT, args.environment));
  const logins = runningServices(env).flatMap((service) => (service.health.auth ? [service.health.auth.secret] : []));
  const secrets = Object.fromEntries(logins.map((name) => [name, secretValue(ROOT, env.name, name)]));
  const results = await runHealthChecks(env, { timeoutMs: args.timeoutSeconds * 1000, secrets, host: args.host });
  const degraded = results.filter((r) => r.status !== "ok").length;
  if (args.json) console.log(JSON.stringify({ environment: env.name, status: degraded ? "degraded" : "ok", checks: results }, null, 2));
  else console.log(`${renderTable(results)}\n\n${env.name}: ${degraded ? `${degraded} of ${results.length} checks DEGRADED` : `all ${results.length} checks ok`}`);
  return degraded ? 1 : 0;
}

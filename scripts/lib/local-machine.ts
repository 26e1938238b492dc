import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { execFileSync } from "node:child_process";

/** Images the project's scripts built for this machine (scripts/build-local-images.sh), by service name. */
export function localImages(root: string): Record<string, string> {
  const file = path.join(root, ".tools", "local-images.env");
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run scripts/build-local-images.sh (npm test does)`);
  const entries = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((line) => /^LOCAL_IMAGE_([A-Z_]+)=(.+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([, key, value]) => [key.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), value]);
  return Object.fromEntries(entries);
}

/** Ports chosen and held by this process until released. */
export interface PortReservation {
  readonly ports: readonly number[];
  release(): Promise<void>;
}

/**
 * TCP ports for a throw-away environment or test server, free on every address they will be
 * published on and held (listened on) until `release()`, so that nothing on this machine takes
 * one between the choice and the moment Docker binds it. Addresses must be specific ones
 * (127.0.0.1, a bridge's gateway), not 0.0.0.0: a port taken on any interface is refused on each
 * of them anyway. Candidates lie below the kernel's ephemeral range, where outgoing connections
 * take their local ports.
 */
export async function reservePorts(count: number, addresses: readonly string[] = ["127.0.0.1"], firstCandidate?: number): Promise<PortReservation> {
  const held: net.Server[] = [];
  const ports: number[] = [];
  const ceiling = ephemeralPortsStart() - 1;
  const floor = 10000;
  if (ceiling - floor < 2000) throw new Error(`the kernel's ephemeral ports start at ${ceiling + 1}: too few ports below them for tests`);
  let candidate = firstCandidate ?? floor + Math.floor(Math.random() * (ceiling - floor - 2000));
  while (ports.length < count) {
    if (candidate > ceiling) throw new Error(`no ${count} free ports on ${addresses.join(", ")} below ${ceiling}`);
    const servers = await holdOnEvery(candidate, addresses);
    if (servers) {
      held.push(...servers);
      ports.push(candidate);
    }
    candidate++;
  }
  // Once: the listeners are let go (a second call has nothing left to close).
  const release = async () => {
    await Promise.all(held.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  };
  return { ports, release };
}

/**
 * Listeners on `port` at each address, or undefined (and nothing held) if the port is taken on
 * any of them. Any other failure (an address that is not this machine's) is thrown, naming it.
 */
async function holdOnEvery(port: number, addresses: readonly string[]): Promise<net.Server[] | undefined> {
  const servers: net.Server[] = [];
  for (const address of addresses) {
    const server = await new Promise<net.Server | undefined>((resolve, reject) => {
      const s = net.createServer().once("error", (error: NodeJS.ErrnoException) =>
        error.code === "EADDRINUSE" || error.code === "EACCES" ? resolve(undefined) : reject(new Error(`cannot listen on ${address}:${port}: ${error.message}`)),
      );
      s.listen({ port, host: address, exclusive: true }, () => resolve(s));
    }).catch(async (error: Error) => {
      await Promise.all(servers.map((held) => new Promise((done) => held.close(done))));
      throw error;
    });
    if (!server) {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      return undefined;
    }
    servers.push(server);
  }
  return servers;
}

/** The first port of the kernel's ephemeral range (Linux; 32768 where it cannot be read). */
function ephemeralPortsStart(): number {
  try {
    return Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/**
 * The address at which containers reach the Docker host: what `host-gateway` resolves to (the
 * stack's containers know the host as host.docker.internal:host-gateway), read from the
 * /etc/hosts of a container of `image` (any image with a `cat`). The bridge network's IPAM config
 * is no source: an engine started for the first time leaves its gateway empty.
 */
export function hostGatewayAddress(image: string): string {
  const hosts = execFileSync("docker", ["run", "--rm", "--add-host", "host.docker.internal:host-gateway", "--entrypoint", "cat", image, "/etc/hosts"], { encoding: "utf8" });
  return hostGatewayIn(hosts);
}

/** host.docker.internal's IPv4 address in an /etc/hosts text; throws, quoting the line, if there is none. */
export function hostGatewayIn(hosts: string): string {
  const line = hosts.split("\n").find((l) => l.trim().split(/\s+/).slice(1).includes("host.docker.internal"));
  const address = line?.trim().split(/\s+/)[0] ?? "";
  if (!net.isIPv4(address)) throw new Error(`host-gateway did not resolve to an IPv4 address (host.docker.internal: ${JSON.stringify(line ?? "no such line")})`);
  return address;
}

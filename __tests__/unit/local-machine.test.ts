import * as fs from "node:fs";
import * as net from "node:net";
import { hostGatewayIn, reservePorts } from "../../scripts/lib/local-machine";

const listen = (port: number, host: string) =>
  new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer().once("error", reject);
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
const close = (server: net.Server) => new Promise((resolve) => server.close(resolve));

describe("reservePorts", () => {
  test("refuses a port taken on another of the addresses it will be published on, takes it when that address is not asked", async () => {
    const probe = await reservePorts(1, ["127.0.0.2"]);
    await probe.release();
    const taken = probe.ports[0];
    const other = await listen(taken, "127.0.0.2");
    try {
      const both = await reservePorts(1, ["127.0.0.1", "127.0.0.2"], taken);
      await both.release();
      expect(both.ports[0]).not.toBe(taken);
      const loopbackOnly = await reservePorts(1, ["127.0.0.1"], taken);
      await loopbackOnly.release();
      expect(loopbackOnly.ports).toEqual([taken]);
    } finally {
      await close(other);
    }
  });

  test("holds its ports until released: nothing else can listen on them before, anything can after", async () => {
    const reservation = await reservePorts(2, ["127.0.0.1", "127.0.0.2"]);
    expect(new Set(reservation.ports).size).toBe(2);
    for (const port of reservation.ports) {
      await expect(listen(port, "127.0.0.2")).rejects.toThrow(/EADDRINUSE/);
    }
    await reservation.release();
    for (const port of reservation.ports) await close(await listen(port, "127.0.0.2"));
  });

  test("names an address that is not this machine's instead of searching on", async () => {
    await expect(reservePorts(1, ["127.0.0.1", "192.0.2.1"])).rejects.toThrow(/cannot listen on 192\.0\.2\.1:\d+: .*EADDRNOTAVAIL/);
  });

  test("chooses below the kernel's ephemeral range, where outgoing connections take their ports", async () => {
    const reservation = await reservePorts(3);
    await reservation.release();
    const ephemeralStart = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]);
    for (const port of reservation.ports) expect(port).toBeLessThan(ephemeralStart);
  });
});

describe("hostGatewayIn", () => {
  test("reads host.docker.internal's address from a container's /etc/hosts", () => {
    expect(hostGatewayIn("127.0.0.1\tlocalhost\n172.17.0.1\thost.docker.internal\n172.18.0.2\tabc123\n")).toBe("172.17.0.1");
  });
  test("fails naming the value when host-gateway resolved to nothing usable", () => {
    expect(() => hostGatewayIn("127.0.0.1\tlocalhost\n")).toThrow(/host.docker.internal: "no such line"/);
    expect(() => hostGatewayIn("\thost.docker.internal\n")).toThrow(/host-gateway did not resolve/);
  });
});

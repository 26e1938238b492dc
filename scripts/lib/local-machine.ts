import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

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

/** `count` TCP ports free on 127.0.0.1 now, from a random start (throw-away environments' host ports). */
export async function freePorts(count: number): Promise<number[]> {
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer().once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
  const ports: number[] = [];
  let candidate = 20000 + Math.floor(Math.random() * 30000);
  while (ports.length < count) {
    if (await isFree(candidate)) ports.push(candidate);
    candidate++;
  }
  return ports;
}

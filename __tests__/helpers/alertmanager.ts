/**
 * Running Alertmanager's own programs on the generated alertmanager.yml: amtool (check-config,
 * config routes test) and the alertmanager binary itself (inhibition, which amtool cannot test).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { ASSETS, CONFIG_PATHS, ROOT } from "./synth";
import { run, tool } from "./tools";

/** The version a Prometheus-project program prints with --version, as [major, minor, patch]. */
function versionOf(program: string): [number, number, number] {
  const out = execFileSync(program, ["--version"], { encoding: "utf8", stdio: "pipe" });
  const match = /version (\d+)\.(\d+)\.(\d+)/.exec(out);
  if (!match) throw new Error(`${program} --version printed no version: ${out}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

const atLeast = (version: [number, number, number], major: number, minor: number) => version[0] > major || (version[0] === major && version[1] >= minor);

/**
 * The webhook's `url_file` (the heartbeat's ping URL) came with Alertmanager 0.26; Debian's
 * 0.25 refuses the whole file. For such a tool, the config is checked with a placeholder `url`
 * in its place; from 0.26 on, the file is checked as generated.
 */
function forAlertmanager(config: string, program: string): string {
  if (atLeast(versionOf(program), 0, 26)) return config;
  return config.replace(/^(\s*(?:- )?)url_file: .*$/gm, "$1url: https://heartbeat.invalid/url_file-needs-alertmanager-0.26");
}

/** Writes the templates next to a config and points the config at them. */
export function localConfig(dir: string, config: string): string {
  const templatesDir = path.join(dir, "templates");
  fs.mkdirSync(templatesDir, { recursive: true });
  for (const [name, content] of Object.entries(ASSETS.alertmanagerTemplates)) fs.writeFileSync(path.join(templatesDir, name), content);
  return config.split(CONFIG_PATHS.alertmanagerTemplatesDir).join(templatesDir);
}

/** amtool, with a config it can read. */
export function amtool(args: (configFile: string) => string[], config: string, dir: string, name: string): string {
  const program = tool("amtool");
  const file = path.join(dir, `${name}-alertmanager.yml`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, localConfig(dir, forAlertmanager(config, program)));
  return run(program, args(file));
}

/** The alertmanager program: the bootstrapped one, else Debian's package's name, else on PATH. */
export function alertmanagerBinary(): string {
  for (const candidate of [path.join(ROOT, ".tools", "bin", "alertmanager"), path.join(ROOT, ".tools", "debroot", "usr", "bin", "prometheus-alertmanager")]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  for (const name of ["alertmanager", "prometheus-alertmanager"]) {
    try {
      return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    } catch {
      // try the next name
    }
  }
  throw new Error("alertmanager not found: run scripts/bootstrap.sh (npm test does): it links .tools/bin/alertmanager");
}

/** Where Debian's build reads its built-in notification templates (its patch hard-codes the path). */
const DEBIAN_TEMPLATES = "/usr/share/prometheus/alertmanager/default.tmpl";

/**
 * The command that runs the alertmanager program. Debian's build (unpacked into .tools/debroot,
 * not installed) reads default.tmpl from /usr/share/prometheus/alertmanager and refuses to start
 * without it; where that file is missing, the program runs in a private mount namespace
 * (unshare) that shows the unpacked package's /usr/share there. Nothing outside changes.
 */
function launcher(program: string, args: string[]): { command: string; args: string[] } {
  const debroot = fs.realpathSync(program).match(/^(.*\/debroot)\/usr\/bin\/prometheus-alertmanager$/)?.[1];
  if (!debroot || fs.existsSync(DEBIAN_TEMPLATES)) return { command: program, args };
  return { command: "unshare", args: ["--mount", "--map-root-user", "sh", "-c", 'mount --bind "$0" /usr/share && exec "$@"', `${debroot}/usr/share`, program, ...args] };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PostedAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface AlertStatus {
  labels: Record<string, string>;
  fingerprint: string;
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
}

/** A real Alertmanager on a loopback port, with a generated config, for one test file. */
export class RunningAlertmanager {
  private constructor(
    private readonly process: ChildProcess,
    readonly url: string,
    private readonly dir: string,
    private readonly log: () => string,
  ) {}

  static async start(config: string): Promise<RunningAlertmanager> {
    const program = alertmanagerBinary();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pm-am-"));
    const compatible = forAlertmanager(config, program);
    const file = path.join(dir, "alertmanager.yml");
    fs.writeFileSync(file, localConfig(dir, compatible));
    const port = await freePort();
    const { command, args } = launcher(program, [
      `--config.file=${file}`,
      `--storage.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ]);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (d) => (output += String(d)));
    child.stderr?.on("data", (d) => (output += String(d)));
    const am = new RunningAlertmanager(child, `http://127.0.0.1:${port}`, dir, () => output);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${command} ${args.join(" ")} exited with ${child.exitCode}:\n${output}`);
      try {
        if ((await fetch(`${am.url}/-/ready`)).ok) return am;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await am.stop();
        throw new Error(`alertmanager not ready within 10 s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async post(alerts: readonly PostedAlert[]): Promise<void> {
    const body = alerts.map((a) => ({ labels: a.labels, annotations: a.annotations ?? {}, startsAt: new Date().toISOString() }));
    const response = await fetch(`${this.url}/api/v2/alerts`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`POST /api/v2/alerts: ${response.status} ${await response.text()}\n${this.log()}`);
  }

  /** Every alert Alertmanager holds, with its inhibition as Alertmanager computes it on each request. */
  async alerts(): Promise<AlertStatus[]> {
    const response = await fetch(`${this.url}/api/v2/alerts`);
    if (!response.ok) throw new Error(`GET /api/v2/alerts: ${response.status}\n${this.log()}`);
    return (await response.json()) as AlertStatus[];
  }

  /** Stops the program, waits for it to exit (SIGKILL after 5 s), and removes its files. */
  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise((resolve) => this.process.once("exit", resolve));
      this.process.kill("SIGTERM");
      const timer = setTimeout(() => this.process.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}


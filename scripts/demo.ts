import { spawnSync } from "node:child_process";
import { environmentFile, loadEnvironmentFile } from "../stacks/environment-files";
import { buildLocalImages, defaultEnvironment, environmentCommand } from "./deploy";
import { CommandFailure } from "./lib/failure";
import { hostGatewayAddress } from "./lib/local-machine";
import { ROOT, engineEnvironment } from "./lib/engine";

/**
 * `npm run demo`: a demo with live Protocol data: the default environment (as `npm run deploy`
 * chooses it) plus the Protocol simulator (testing/protocol-sim: a test double, never part of a
 * deployment) where that environment looks for the Protocol services, on the Docker host's ports
 * 8000, 8001, 8080 and 9988; its control API on 127.0.0.1:8099. `npm run demo -- stop` removes the
 * simulator (the stack stays).
 */

const CONTAINER = "protocol-monitoring-demo-simulator";
const PROTOCOL_PORTS = [8000, 8001, 8080, 9988];
const say = (line: string) => process.stderr.write(`demo: ${line}\n`);

export function stopDemo(): number {
  const removed = spawnSync("docker", ["rm", "-f", CONTAINER], { stdio: "ignore" });
  say(removed.status === 0 ? "simulator removed" : "no simulator running");
  return 0;
}

export async function startDemo(): Promise<number> {
  const deployed = await environmentCommand("deploy", undefined, { autoApprove: false });
  if (deployed !== 0) return deployed;
  Object.assign(process.env, engineEnvironment());
  const envName = await defaultEnvironment();
  const env = loadEnvironmentFile(environmentFile(ROOT, envName));
  const [image] = buildLocalImages(["protocol-sim"]);
  // Prometheus reaches the Docker host as host.docker.internal (host-gateway), read the way its
  // container resolves it; the control API and `npm run health` use 127.0.0.1. Nothing is published beyond the host.
  const gateway = hostGatewayAddress(image);
  const publish = PROTOCOL_PORTS.flatMap((port) => ["-p", `127.0.0.1:${port}:${port}`, "-p", `${gateway}:${port}:${port}`]);
  // Where the environment runs Logstash, the simulator's logs go there the way a real service's
  // would: Docker's gelf log driver to Logstash's published port (UDP).
  const logging = env.services.includes("logstash") ? ["--log-driver", "gelf", "--log-opt", `gelf-address=udp://127.0.0.1:${env.ports.logstash}`] : [];
  spawnSync("docker", ["rm", "-f", CONTAINER], { stdio: "ignore" });
  const started = spawnSync(
    "docker",
    ["run", "-d", "--name", CONTAINER, "--restart", "unless-stopped", ...publish, "-p", "127.0.0.1:8099:8099", ...logging, image, "simulate", "--agent", "", "--x509", "", "--postgres-exporter", ""],
    { encoding: "utf8" },
  );
  if (started.status !== 0) throw new CommandFailure(`${started.stderr}demo: the simulator could not be started (errors above)`);
  process.stderr.write(`demo: the simulator answers as registries A and B, the TEG layer and SPIRE; Prometheus (${envName}) scrapes it.
  npm run health -- ${envName}                            every Protocol service ok
  curl -X POST 127.0.0.1:8099/modes/registry-b/down      registry B stops answering
  curl -s 127.0.0.1:${env.ports.prometheus}/api/v1/alerts            RegistryDown pending within seconds
  curl -X DELETE 127.0.0.1:8099/modes                    everything back to normal
  curl 127.0.0.1:8099/                                   every service and failure mode
  npm run demo -- stop                                   remove the simulator
`);
  return 0;
}

import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { dockerEnv } from "../../scripts/docker-host";
import { removeAfterwards, tempDir } from "../helpers/temp";

describe("the scripts' docker CLI reaches an ssh:// host with the environment's sshOpts", () => {
  const fake = tempDir("pm-unit-ssh");
  const originalPath = process.env.PATH;
  beforeAll(() => {
    // Stands in for the real ssh: prints each argument it was given on a line of its own.
    fs.writeFileSync(path.join(fake, "ssh"), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n', { mode: 0o755 });
    process.env.PATH = `${fake}${path.delimiter}${originalPath}`;
  });
  afterAll(() => {
    process.env.PATH = originalPath;
  });
  const sshAsTheCliRunsIt = (env: NodeJS.ProcessEnv, ...args: string[]) =>
    spawnSync("ssh", args, { env, encoding: "utf8" }).stdout.split("\n").filter(Boolean);

  it("puts first on the CLI's PATH an ssh that adds the options, word for word (spaces and quotes kept)", () => {
    const options = ["-i", "/keys/my key", "-o", "UserKnownHostsFile=/etc/it's known"];
    const env = dockerEnv({ host: "ssh://deploy@edge.example", sshOpts: options });
    // The folder with the ssh that adds them, first on PATH: removed with this file's folders.
    removeAfterwards(env.PATH?.split(path.delimiter)[0] ?? "");
    expect(env.DOCKER_HOST).toBe("ssh://deploy@edge.example");
    expect(sshAsTheCliRunsIt(env, "--", "deploy@edge.example", "docker", "system", "dial-stdio")).toEqual([...options, "--", "deploy@edge.example", "docker", "system", "dial-stdio"]);
  });

  it("adds nothing without sshOpts, or for a host that is not ssh://", () => {
    expect(dockerEnv({ host: "ssh://deploy@edge.example" }).PATH).toBe(process.env.PATH);
    expect(dockerEnv({ host: "tcp://10.0.0.5:2376", certPath: "/tls" }).PATH).toBe(process.env.PATH);
    expect(sshAsTheCliRunsIt(dockerEnv({ host: "ssh://deploy@edge.example" }), "host")).toEqual(["host"]);
  });
});

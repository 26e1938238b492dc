import { stackFacts, type SynthesizedStack } from "../../scripts/stack-facts";
import { SERVICES } from "../../stacks/services";
import { EnvironmentError, type EnvironmentFile, parseEnvironment } from "../../stacks/environment";
import { requiredSecrets } from "../../stacks/secrets";
import { synth } from "../helpers/synth";

type Encryption = { key_provider: { pbkdf2: Record<string, { passphrase: string }> }; method: Record<string, Record<string, unknown>>; state: Record<string, unknown>; plan: Record<string, unknown> };

function encryptionOf(file: Partial<EnvironmentFile>): Encryption | undefined {
  const env = parseEnvironment({ name: "enc", services: ["prometheus"], ...file }, "enc-test", SERVICES);
  return (synth(env) as { terraform: { encryption?: Encryption } }).terraform.encryption;
}

function problem(file: Partial<EnvironmentFile>): string {
  try {
    parseEnvironment({ name: "enc", services: ["prometheus"], ...file }, "enc-test", SERVICES);
  } catch (error) {
    if (error instanceof EnvironmentError) return error.message;
    throw error;
  }
  throw new Error("parsed");
}

describe("OpenTofu's state and plan encryption (encryption:)", () => {
  it("is off by default: no encryption block, no passphrase asked for", () => {
    expect(encryptionOf({})).toBeUndefined();
    expect(requiredSecrets(parseEnvironment({ name: "enc", services: ["prometheus"] }, "t", SERVICES))).not.toContain("state_passphrase");
  });

  it("encrypts state and plans with AES-GCM, a key from TF_VAR_state_passphrase, and never writes them in the clear", () => {
    const encryption = encryptionOf({ encryption: { enabled: true } });
    expect(encryption).toEqual({
      key_provider: { pbkdf2: { passphrase_1: { passphrase: "${var.state_passphrase}" } } },
      method: { aes_gcm: { key_1: { keys: "key_provider.pbkdf2.passphrase_1" } } },
      state: { method: "method.aes_gcm.key_1", enforced: true },
      plan: { method: "method.aes_gcm.key_1", enforced: true },
    });
    expect(requiredSecrets(parseEnvironment({ name: "enc", services: ["prometheus"], encryption: { enabled: true } }, "t", SERVICES))).toEqual(["state_passphrase"]);
  });

  it("rotates to a new key, reading what the previous one wrote (a key provider per generation: the name is stored with the data)", () => {
    const encryption = encryptionOf({ encryption: { enabled: true, key: 2, previousKey: 1 } });
    expect(encryption?.key_provider.pbkdf2).toEqual({ passphrase_2: { passphrase: "${var.state_passphrase}" }, passphrase_1: { passphrase: "${var.state_passphrase_previous}" } });
    expect(encryption?.state).toEqual({ method: "method.aes_gcm.key_2", enforced: true, fallback: { method: "method.aes_gcm.key_1" } });
    expect(encryption?.plan).toEqual(encryption?.state);
    expect(requiredSecrets(parseEnvironment({ name: "enc", services: ["prometheus"], encryption: { enabled: true, key: 2, previousKey: 1 } }, "t", SERVICES))).toEqual(["state_passphrase", "state_passphrase_previous"]);
  });

  it("encrypts state written in the clear before (previousKey: 0), which is the one time it is not enforced", () => {
    const encryption = encryptionOf({ encryption: { enabled: true, previousKey: 0 } });
    expect(encryption?.method.unencrypted).toEqual({ plain: {} });
    expect(encryption?.state).toEqual({ method: "method.aes_gcm.key_1", enforced: false, fallback: { method: "method.unencrypted.plain" } });
    expect(Object.keys(encryption?.key_provider.pbkdf2 ?? {})).toEqual(["passphrase_1"]);
  });

  it("refuses a rotation without encryption, or to the same key, naming the field", () => {
    expect(problem({ encryption: { previousKey: 1 } })).toContain("encryption.previousKey: is for rotating the key of encrypted state: set encryption.enabled too");
    expect(problem({ encryption: { enabled: true, key: 3, previousKey: 3 } })).toContain("encryption.previousKey: must differ from key (3)");
    expect(problem({ encryption: { enabled: true, key: 0 } })).toContain("encryption.key:");
  });

  it("tells the deploy whether the stack encrypts (it refuses an engine without encryption)", () => {
    const facts = (file: Partial<EnvironmentFile>) => stackFacts(synth(parseEnvironment({ name: "enc", services: ["prometheus"], ...file }, "t", SERVICES)) as unknown as SynthesizedStack);
    expect(facts({ encryption: { enabled: true } }).encrypted).toBe("yes");
    expect(facts({ encryption: { enabled: true, key: 2, previousKey: 1 } }).encrypted).toBe("rotating");
    expect(facts({ encryption: { enabled: true, previousKey: 0 } }).encrypted).toBe("rotating");
    expect(facts({}).encrypted).toBe("no");
  });
});

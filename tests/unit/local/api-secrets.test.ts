import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { API_SECRETS_FILE, apiSecrets } from "../../../local/api-secrets.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function dir() {
  const d = await mkdtemp(join(tmpdir(), "airlock-secrets-"));
  dirs.push(d);
  return d;
}

describe("Local API secrets", () => {
  it("are new at each start without a data directory", async () => {
    const [a, b] = await Promise.all([apiSecrets(), apiSecrets()]);
    expect(a.cursorSecret).not.toBe(b.cursorSecret);
    expect(a.signingKey.n).not.toBe(b.signingKey.n);
  });

  it("are kept in the data directory, readable by its owner only, and read back the same", async () => {
    const d = await dir();
    const first = await apiSecrets(d);
    expect((await stat(join(d, API_SECRETS_FILE))).mode & 0o777).toBe(0o600);
    expect(await apiSecrets(d)).toEqual(first);
    expect(first.signingKey).toMatchObject({ kty: "RSA", alg: "RS256", kid: "local" });
    expect(first.cursorSecret).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["not JSON", "{half"],
    [
      "no private key",
      JSON.stringify({ signingKey: { kty: "RSA", n: "x", e: "AQAB" }, cursorSecret: "0".repeat(64) }),
    ],
    [
      "a short cursor secret",
      JSON.stringify({ signingKey: { kty: "RSA", n: "x", e: "AQAB", d: "y" }, cursorSecret: "ab" }),
    ],
  ])("refuse a file with %s in words, and leave it as it is", async (_what, text) => {
    const d = await dir();
    await writeFile(join(d, API_SECRETS_FILE), text);
    await expect(apiSecrets(d)).rejects.toThrow(/is not a local stack's API secrets file; remove it/);
    expect(await readFile(join(d, API_SECRETS_FILE), "utf8")).toBe(text);
  });

  it("tighten a kept file that others could read to owner-only", async () => {
    const d = await dir();
    const first = await apiSecrets(d);
    await chmod(join(d, API_SECRETS_FILE), 0o644);
    expect(await apiSecrets(d)).toEqual(first);
    expect((await stat(join(d, API_SECRETS_FILE))).mode & 0o777).toBe(0o600);
  });

  it("refuse a key that cannot sign, or whose halves do not belong together", async () => {
    const a = await apiSecrets();
    const b = await apiSecrets();
    const { kty, n, e, d: exponent } = a.signingKey;
    for (const signingKey of [
      { kty, n, e, d: exponent },
      { ...a.signingKey, n: b.signingKey.n },
    ]) {
      const d = await dir();
      await writeFile(
        join(d, API_SECRETS_FILE),
        JSON.stringify({ signingKey, cursorSecret: a.cursorSecret }),
      );
      await expect(apiSecrets(d)).rejects.toThrow(/is not a local stack's API secrets file/);
    }
  });

  it("remove temporary files a kill left, and never write through a planted one", async () => {
    const d = await dir();
    await writeFile(join(d, `${API_SECRETS_FILE}.1234.tmp`), "left by a kill");
    const secrets = await apiSecrets(d);
    expect((await readdir(d)).sort()).toEqual([API_SECRETS_FILE]);
    expect(await apiSecrets(d)).toEqual(secrets);
  });
});

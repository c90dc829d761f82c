/**
 * The local API's secrets: the key the local issuer signs tokens with and the key list cursors are sealed with.
 * In memory they are new at each start; on a data directory they are kept in `api-secrets.json` (owner-only),
 * so a token minted or a cursor handed out before a restart still works after it, as with a real identity
 * provider and a deployed stack's cursor secret.
 */
import { randomBytes } from "node:crypto";
import { chmod, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import { z } from "zod";

export interface ApiSecrets {
  /** The issuer's private key, as a JWK (RS256). */
  signingKey: JWK;
  cursorSecret: string;
}

export const API_SECRETS_FILE = "api-secrets.json";
/** Owner read and write only. */
const OWNER_ONLY = 0o600;

const part = z.string().min(1);
const secretsSchema = z.object({
  // A whole RSA private key: what importing it for signing needs.
  signingKey: z.looseObject({
    kty: z.literal("RSA"),
    n: part,
    e: part,
    d: part,
    p: part,
    q: part,
    dp: part,
    dq: part,
    qi: part,
  }),
  cursorSecret: z.string().regex(/^[0-9a-f]{64}$/),
});

async function fresh(): Promise<ApiSecrets> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  return {
    signingKey: { ...(await exportJWK(privateKey)), alg: "RS256", kid: "local" },
    cursorSecret: randomBytes(32).toString("hex"),
  };
}

/** True when the key signs a token that its public half verifies (its parts belong together). */
async function signsAndVerifies(signingKey: JWK): Promise<boolean> {
  try {
    const { kty, n, e } = signingKey;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "RS256" })
      .sign(await importJWK(signingKey, "RS256"));
    await jwtVerify(token, await importJWK({ kty, n, e }, "RS256"));
    return true;
  } catch {
    return false;
  }
}

async function read(path: string): Promise<ApiSecrets | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: ReturnType<typeof secretsSchema.safeParse> | undefined;
  try {
    parsed = secretsSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined; // not JSON at all
  }
  if (!parsed?.success || !(await signsAndVerifies(parsed.data.signingKey)))
    throw new Error(
      `${path} is not a local stack's API secrets file; remove it to start with new ones (tokens and cursors handed out before stop working)`,
    );
  // Whoever else could read it (a copy, a restored backup) can no longer.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, OWNER_ONLY);
  return parsed.data;
}

export async function apiSecrets(dataDir?: string): Promise<ApiSecrets> {
  if (dataDir === undefined) return fresh();
  const path = join(dataDir, API_SECRETS_FILE);
  // A temporary file a kill left behind holds a key nobody uses.
  for (const name of await readdir(dataDir))
    if (name.startsWith(`${API_SECRETS_FILE}.`) && name.endsWith(".tmp"))
      await rm(join(dataDir, name), { force: true });
  const kept = await read(path);
  if (kept) return kept;
  const secrets = await fresh();
  // Written whole or not at all (a kill mid-write leaves the temporary file, never half a key), to a new file
  // of its own: `wx` refuses a name that exists, so no file planted there lends its mode.
  const temporary = `${path}.${randomBytes(8).toString("hex")}.tmp`;
  await writeFile(temporary, `${JSON.stringify(secrets)}\n`, { mode: OWNER_ONLY, flag: "wx" });
  await rename(temporary, path);
  return secrets;
}

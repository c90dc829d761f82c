/**
 * The local API's secrets: the key the local issuer signs tokens with and the key list cursors are sealed with.
 * In memory they are new at each start; on a data directory they are kept in `api-secrets.json` (owner-only),
 * so a token minted or a cursor handed out before a restart still works after it, as with a real identity
 * provider and a deployed stack's cursor secret.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { z } from "zod";

export interface ApiSecrets {
  /** The issuer's private key, as a JWK (RS256). */
  signingKey: JWK;
  cursorSecret: string;
}

export const API_SECRETS_FILE = "api-secrets.json";

const secretsSchema = z.object({
  signingKey: z.looseObject({
    kty: z.literal("RSA"),
    n: z.string().min(1),
    e: z.string().min(1),
    d: z.string().min(1),
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

export async function apiSecrets(dataDir?: string): Promise<ApiSecrets> {
  if (dataDir === undefined) return fresh();
  const path = join(dataDir, API_SECRETS_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (text !== undefined) {
    const json = text;
    const parsed = (() => {
      try {
        return secretsSchema.safeParse(JSON.parse(json));
      } catch {
        return undefined; // not JSON at all
      }
    })();
    if (!parsed?.success)
      throw new Error(
        `${path} is not a local stack's API secrets file; remove it to start with new ones (tokens and cursors handed out before stop working)`,
      );
    return parsed.data as ApiSecrets;
  }
  const secrets = await fresh();
  // Written whole or not at all: a kill mid-write leaves the temporary file, never half a key.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(secrets)}\n`, { mode: 0o600 });
  await rename(temporary, path);
  return secrets;
}

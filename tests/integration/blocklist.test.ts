/** The SHA-256 blocklist through the local stack: a listed file is held with its name, others pass. */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { clientsFor } from "../support/local.ts";

const LISTED = new TextEncoder().encode("quarterly numbers, nothing to see\n");
const sha = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;

beforeAll(async () => {
  stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    blocklist: { entries: `${sha(LISTED)} Known.Leak` },
  });
  io = clientsFor(stack);
});
afterAll(() => stack?.stop());

describe("Local stack: SHA-256 blocklist", () => {
  it("holds a listed file as INFECTED with the list's name and verifies an unlisted one", async () => {
    const other = new TextEncoder().encode("quarterly numbers, nothing to see here either\n");
    const [listed, unlisted] = await Promise.all(
      [
        ["drops/itest/listed.txt", LISTED],
        ["drops/itest/unlisted.txt", other],
      ].map(async ([key, data]) =>
        io.waitFinal(await io.drop(key as string, data as Uint8Array, "text/plain")),
      ),
    );
    expect(listed?.status).toBe("INFECTED");
    expect(listed?.reasons).toEqual(["Airlock.Hash.Known.Leak"]);
    expect(listed?.stages.scan?.engines.map((e) => e.engine)).toEqual(["builtin", "blocklist"]);
    expect(unlisted?.status, unlisted?.reasons.join("; ")).toBe("VERIFIED");
  });
});

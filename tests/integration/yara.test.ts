/** YARA rules through the local stack: a matching file is held under the rule's name, others pass. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { zip } from "../fixtures/archives.ts";
import { clientsFor } from "../support/local.ts";

const RULES = `
rule Phish_Lure {
  strings:
    $a = "Your mailbox is almost full" nocase
  condition:
    $a
}`;

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;

beforeAll(async () => {
  stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    yara: { rules: RULES, maxBytes: 1024 * 1024 },
  });
  io = clientsFor(stack);
});
afterAll(() => stack?.stop());

describe("Local stack: YARA rules", () => {
  it("holds a matching file as INFECTED with the rule's name, and verifies one that does not match", async () => {
    const encode = (t: string) => new TextEncoder().encode(t);
    const [lure, letter] = await Promise.all(
      [
        ["drops/itest/yara/lure.txt", encode("Dear user, YOUR MAILBOX IS ALMOST FULL. Click below.\n")],
        ["drops/itest/yara/letter.txt", encode("Dear user, the meeting is on Monday.\n")],
      ].map(async ([key, data]) =>
        io.waitFinal(await io.drop(key as string, data as Uint8Array, "text/plain")),
      ),
    );
    expect(lure?.status).toBe("INFECTED");
    expect(lure?.reasons).toEqual(["Yara.Phish_Lure"]);
    expect(lure?.stages.scan?.engines.map((e) => e.engine)).toEqual(["builtin", "yara"]);
    expect(letter?.status, letter?.reasons.join("; ")).toBe("VERIFIED");
  });

  it("holds a file above the YARA size budget instead of passing it unscanned", async () => {
    const big = zip([{ name: "a.txt", data: new Uint8Array(2 * 1024 * 1024).fill(65) }]);
    const record = await io.waitFinal(await io.drop("drops/itest/yara/big.zip", big, "application/zip"));
    expect(record.status).toBe("REJECTED");
    expect(record.reasons.join()).toMatch(/yara: limit-exceeded/);
  });
});

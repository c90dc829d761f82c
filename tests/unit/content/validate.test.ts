import { describe, expect, it } from "vitest";
import { evaluateValidation, extensionAgrees } from "../../../core/domain/content/validate.ts";

const policy = { maxSizeBytes: 1024 * 1024, allowedTypes: ["pdf", "png", "txt", "csv", "json"] };
const DROPPER = new TextEncoder().encode('var s = new ActiveXObject("WScript.Shell");\ns.Run("calc.exe");\n');

const validate = (key: string, bytes = DROPPER, contentType = "text/plain") =>
  evaluateValidation({ size: bytes.length, head: bytes, key, contentType }, policy);

describe("Function: evaluateValidation (file names)", () => {
  it.each([
    ["drops/billing/invoice.js.", "name-trailing-dot-or-space"],
    ["drops/billing/run.bat.", "name-trailing-dot-or-space"],
    ["drops/billing/x.exe.", "name-trailing-dot-or-space"],
    ["drops/billing/notes.txt ", "name-trailing-dot-or-space"],
    ["drops/billing/x\r\nFrom: it@example.com.txt", "name-control-character"],
    ["drops/billing/invoice\u202Etxt.js", "name-bidi-control"],
    ["drops/billing/read\u200Bme.txt", "name-invisible-character"],
    ["drops/billing/CON.txt", "name-reserved-device"],
    ["drops/billing/notes.txt:payload.js", "name-colon"],
    ["loose.txt", "key-layout"],
  ])("rejects %j with the stable code %s", async (key, code) => {
    const out = await validate(key);
    expect(out.status).toBe("rejected");
    expect(out.reasons.join("\n")).toContain(`[${code}]`);
  });

  it("never lets an empty extension agree with the detected type", async () => {
    const out = await validate("drops/billing/README", new TextEncoder().encode("plain words\n"));
    expect(out.status).toBe("rejected");
    expect(out.reasons).toContain("file name has no extension; a txt file must be named .txt");
    expect(extensionAgrees({ id: "txt", mime: "text/plain", ext: "txt" }, "drops/billing/invoice.js.")).toBe(
      false,
    );
  });

  it("shows a refused extension escaped, never raw", async () => {
    const out = await validate("drops/billing/a.t\u202Ext");
    expect(out.reasons.join("\n")).not.toMatch(/\u202E/);
    expect(out.reasons.join("\n")).toContain("\\u{202E}");
  });

  it("passes a well-named text file", async () => {
    const text = new TextEncoder().encode("plain words\n");
    expect((await validate("drops/billing/notes.txt", text)).status).toBe("passed");
    expect((await validate("drops/billing/Mu\u0308ller notes.txt", text)).status).toBe("passed");
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeEventKey,
  describeKey,
  encodeEventKey,
  extensionOf,
  MalformedKeyError,
  padSequencer,
} from "../../../core/domain/keys.ts";

describe("Function: decodeEventKey", () => {
  it.each([
    ["drops/billing/my+report.pdf", "drops/billing/my report.pdf"],
    ["drops/billing/a%2Bb.txt", "drops/billing/a+b.txt"],
    ["drops/x/%E2%82%AC%20price.csv", "drops/x/€ price.csv"],
    ["drops/x/%F0%9F%93%84.pdf", "drops/x/📄.pdf"],
    ["plain/key.txt", "plain/key.txt"],
  ])("decodes %s as S3 encodes it", (encoded, key) => {
    expect(decodeEventKey(encoded)).toBe(key);
  });

  it("throws a named error for broken percent-encoding", () => {
    expect(() => decodeEventKey("drops/x/%E2%82.txt")).toThrow(MalformedKeyError);
  });

  it("round-trips any key through S3-style encoding", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }), (key) => {
        expect(decodeEventKey(encodeEventKey(key))).toBe(key);
      }),
    );
  });

  it("never leaves a space or a literal plus in an encoded key", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (key) => {
        const encoded = encodeEventKey(key);
        expect(encoded).not.toMatch(/ /);
        expect(decodeEventKey(encoded).includes("+")).toBe(key.includes("+"));
      }),
    );
  });
});

describe("Function: describeKey", () => {
  it("takes the file id and source from an API upload key", () => {
    expect(describeKey("ingest", "uploads/0123456789abcdefghjkmnpqrs/report.pdf")).toEqual({
      fileId: "0123456789abcdefghjkmnpqrs",
      source: "api",
    });
  });

  it("names the dropping system as owner", () => {
    const facts = describeKey("ingest", "drops/billing/2026/invoice.pdf");
    expect(facts.source).toBe("drop");
    expect(facts.owner).toBe("system:billing");
    expect(facts.fileId).toMatch(/^[0-9a-z]{26}$/);
  });

  it.each(["drops/billing/x\r\ny.txt", "drops/billing/a\nb/c.txt", "drops/billing/\u2028.txt"])(
    "keeps the dropping system as owner of %j, whatever the name holds",
    (key) => {
      expect(describeKey("ingest", key)).toMatchObject({ source: "drop", owner: "system:billing" });
    },
  );

  it("derives the same id for the same key and different ids for different keys or buckets", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        fc.pre(a !== b);
        const idA = describeKey("ingest", `drops/s/${a}`).fileId;
        expect(describeKey("ingest", `drops/s/${a}`).fileId).toBe(idA);
        expect(describeKey("ingest", `drops/s/${b}`).fileId).not.toBe(idA);
        expect(describeKey("other", `drops/s/${a}`).fileId).not.toBe(idA);
      }),
    );
  });
});

describe("Function: padSequencer", () => {
  it("orders sequencers of different lengths as AWS prescribes (left-pad, then compare)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 128n }),
        fc.bigInt({ min: 0n, max: 2n ** 128n }),
        (a, b) => {
          const pa = padSequencer(a.toString(16));
          const pb = padSequencer(b.toString(16));
          expect(pa < pb).toBe(a < b);
        },
      ),
    );
  });

  it("rejects what is not hex", () => {
    expect(() => padSequencer("xyz")).toThrow(MalformedKeyError);
  });
});

describe("Function: extensionOf", () => {
  it.each([
    ["a/b/report.PDF", "pdf"],
    ["a/b/archive.tar.gz", "gz"],
    ["a/b/.hidden", ""],
    ["a/b/noext", ""],
    ["a/b/invoice.js.", ""],
    ["a/b/photo.JPE\u0301G", "jpe\u0301g".normalize("NFC")],
  ])("gives the extension of %s", (key, ext) => {
    expect(extensionOf(key)).toBe(ext);
  });
});

import { S3ServiceException } from "@aws-sdk/client-s3";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../../local/cli/api-client.ts";
import { refusalOf } from "../../../local/push/drop-target.ts";
import { FileChangedError } from "../../../local/push/read.ts";
import {
  backoffMs,
  HttpStatusError,
  isTransient,
  RefusedError,
  withRetries,
} from "../../../local/push/retry.ts";

const s3Error = (name: string, status: number) =>
  new S3ServiceException({
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
    message: name,
  });

describe("Function: isTransient", () => {
  it.each([
    { error: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), transient: true },
    {
      error: new TypeError("fetch failed", {
        cause: Object.assign(new Error("x"), { code: "UND_ERR_SOCKET" }),
      }),
      transient: true,
    },
    { error: s3Error("SlowDown", 503), transient: true },
    { error: s3Error("InternalError", 500), transient: true },
    { error: s3Error("RequestTimeout", 400), transient: false },
    { error: s3Error("AccessDenied", 403), transient: false },
    { error: new ApiError(429, "slow down", true), transient: true },
    { error: new ApiError(413, "too large", false), transient: false },
    { error: new HttpStatusError(502, "bad gateway"), transient: true },
    { error: new HttpStatusError(400, "bad"), transient: false },
    { error: new RefusedError("no"), transient: false },
    { error: new FileChangedError("changed"), transient: false },
    { error: Object.assign(new Error("no such file"), { code: "ENOENT" }), transient: false },
    { error: new Error("something else"), transient: false },
  ])("$error.name $error.message → $transient", ({ error, transient }) => {
    expect(isTransient(error)).toBe(transient);
  });
});

describe("Function: refusalOf", () => {
  it("makes a refusal of an S3 4xx, and nothing of throttling or 5xx", () => {
    expect(refusalOf(s3Error("AccessDenied", 403))?.message).toMatch(
      /S3 refused the drop \(403 AccessDenied\)/,
    );
    expect(refusalOf(s3Error("SlowDown", 503))).toBeUndefined();
    expect(refusalOf(s3Error("TooManyRequests", 429))).toBeUndefined();
    expect(refusalOf(new Error("x"))).toBeUndefined();
  });
});

describe("Function: withRetries", () => {
  it("retries transient failures until one succeeds", async () => {
    let calls = 0;
    const result = await withRetries(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new HttpStatusError(503, "busy");
        return attempt;
      },
      { retries: 4, baseMs: 1 },
    );
    expect({ result, calls }).toEqual({ result: 3, calls: 3 });
  });

  it("gives up after the retries, with the last error", async () => {
    let calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw new HttpStatusError(503, `busy ${calls}`);
        },
        { retries: 2, baseMs: 1 },
      ),
    ).rejects.toThrow("busy 3");
    expect(calls).toBe(3);
  });

  it("does not retry a refusal", async () => {
    let calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw new RefusedError("type not accepted");
        },
        { retries: 5, baseMs: 1 },
      ),
    ).rejects.toBeInstanceOf(RefusedError);
    expect(calls).toBe(1);
  });
});

describe("Function: backoffMs", () => {
  it("stays between half and all of a ceiling that doubles up to the maximum", () => {
    fc.assert(
      fc.property(fc.nat(40), fc.double({ min: 0, max: 0.9999, noNaN: true }), (attempt, r) => {
        const ceiling = Math.min(10_000, 250 * 2 ** attempt);
        const delay = backoffMs(attempt, 250, 10_000, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(delay).toBeLessThanOrEqual(ceiling);
      }),
    );
  });
});

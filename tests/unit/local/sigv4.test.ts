/**
 * The local S3's signature and POST policy checks against the worked examples in AWS's S3 documentation
 * ("Signature Calculations for the Authorization Header", "Authenticating Requests: Using Query Parameters",
 * "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)"): what AWS signed verifies,
 * and any change to it does not.
 */
import { describe, expect, it } from "vitest";
import { S3Error } from "../../../local/s3/errors.ts";
import { checkPostPolicy } from "../../../local/s3/post-policy.ts";
import {
  type SecretLookup,
  type SigningRequest,
  verifyPostSignature,
  verifyRequest,
} from "../../../local/s3/sigv4.ts";

const AKID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const secrets: SecretLookup = (id) => (id === AKID ? SECRET : undefined);
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    if (error instanceof S3Error) return `${error.status} ${error.code} ${error.message}`;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("header-signed requests (AWS example: GET Object)", () => {
  const at = new Date("2013-05-24T00:00:00Z");
  const request = (): SigningRequest => ({
    method: "GET",
    path: "/test.txt",
    query: [],
    headers: {
      host: "examplebucket.s3.amazonaws.com",
      range: "bytes=0-9",
      "x-amz-content-sha256": EMPTY,
      "x-amz-date": "20130524T000000Z",
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    },
  });
  const verify = (r: SigningRequest, now = at) => verifyRequest(r, { secrets, region: "us-east-1", now });

  it("verifies AWS's own example", async () => {
    expect(await verify(request())).toEqual({ accessKeyId: AKID, payloadHash: EMPTY });
  });

  it("keeps verifying against the current secret when a key's secret changes (no stale signing key)", async () => {
    expect(await verify(request())).toEqual({ accessKeyId: AKID, payloadHash: EMPTY });
    const rotated: SecretLookup = (id) => (id === AKID ? `${SECRET}-rotated` : undefined);
    expect(
      await refusal(verifyRequest(request(), { secrets: rotated, region: "us-east-1", now: at })),
    ).toMatch(/403 SignatureDoesNotMatch/);
    expect(await verify(request())).toEqual({ accessKeyId: AKID, payloadHash: EMPTY });
  });

  it.each<[string, (r: SigningRequest) => void, RegExp]>([
    [
      "another key",
      (r) => {
        r.path = "/other.txt";
      },
      /403 SignatureDoesNotMatch/,
    ],
    [
      "another range",
      (r) => {
        r.headers.range = "bytes=0-99";
      },
      /403 SignatureDoesNotMatch/,
    ],
    [
      "another method",
      (r) => {
        r.method = "DELETE";
      },
      /403 SignatureDoesNotMatch/,
    ],
    ["an added query", (r) => r.query.push(["versionId", "x"]), /403 SignatureDoesNotMatch/],
    [
      "another payload hash",
      (r) => {
        r.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      },
      /403/,
    ],
    [
      "an unsigned x-amz header",
      (r) => {
        r.headers["x-amz-meta-owner"] = "mallory";
      },
      /403 AccessDenied.*not signed/,
    ],
    [
      "an unknown access key",
      (r) => {
        r.headers.authorization = (r.headers.authorization ?? "").replace(AKID, "AKIAOTHER");
      },
      /403 InvalidAccessKeyId/,
    ],
    [
      "another region",
      (r) => {
        r.headers.authorization = (r.headers.authorization ?? "").replace("us-east-1", "eu-west-1");
      },
      /400 AuthorizationHeaderMalformed/,
    ],
    [
      "no signature at all",
      (r) => {
        delete r.headers.authorization;
      },
      /403 AccessDenied/,
    ],
    [
      "signature version 2",
      (r) => {
        r.headers.authorization = `AWS ${AKID}:abc`;
      },
      /400 InvalidArgument/,
    ],
  ])("refuses it with %s", async (_what, change, expected) => {
    const r = request();
    change(r);
    expect(await refusal(verify(r))).toMatch(expected);
  });

  it("refuses it 15 minutes away from its date", async () => {
    expect(await refusal(verify(request(), new Date("2013-05-24T00:16:00Z")))).toMatch(
      /403 RequestTimeTooSkewed/,
    );
  });
});

describe("presigned URLs (AWS example: GET Object, 86400 s)", () => {
  const at = new Date("2013-05-24T00:00:00Z");
  const request = (): SigningRequest => ({
    method: "GET",
    path: "/test.txt",
    query: [
      ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
      ["X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"],
      ["X-Amz-Date", "20130524T000000Z"],
      ["X-Amz-Expires", "86400"],
      ["X-Amz-SignedHeaders", "host"],
      ["X-Amz-Signature", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"],
    ],
    headers: { host: "examplebucket.s3.amazonaws.com" },
  });
  const verify = (r: SigningRequest, now = at) => verifyRequest(r, { secrets, region: "us-east-1", now });

  it("verifies AWS's own example until it expires", async () => {
    expect(await verify(request())).toEqual({ accessKeyId: AKID, payloadHash: "UNSIGNED-PAYLOAD" });
    expect(await verify(request(), new Date("2013-05-24T23:59:59Z"))).toMatchObject({ accessKeyId: AKID });
    expect(await refusal(verify(request(), new Date("2013-05-25T00:00:01Z")))).toMatch(
      /403 AccessDenied Request has expired/,
    );
  });

  it.each<[string, (r: SigningRequest) => void, RegExp]>([
    [
      "a longer expiry",
      (r) => {
        r.query[3] = ["X-Amz-Expires", "86401"];
      },
      /403 SignatureDoesNotMatch/,
    ],
    [
      "another key",
      (r) => {
        r.path = "/test.txt.exe";
      },
      /403 SignatureDoesNotMatch/,
    ],
    [
      "an added response override",
      (r) => r.query.push(["response-content-type", "text/html"]),
      /403 SignatureDoesNotMatch/,
    ],
    [
      "another host",
      (r) => {
        r.headers.host = "evil.example";
      },
      /403 SignatureDoesNotMatch/,
    ],
    [
      "an expiry past a week",
      (r) => {
        r.query[3] = ["X-Amz-Expires", "604801"];
      },
      /400 AuthorizationQueryParametersError/,
    ],
    ["a session token", (r) => r.query.push(["X-Amz-Security-Token", "t"]), /403 InvalidAccessKeyId/],
  ])("refuses it with %s", async (_what, change, expected) => {
    const r = request();
    change(r);
    expect(await refusal(verify(r))).toMatch(expected);
  });
});

describe("POST policy (AWS example: browser-based upload)", () => {
  const policy =
    "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
  const signature = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";
  const bucket = "sigv4examplebucket";
  const now = new Date("2015-12-29T12:00:00Z");
  /** The example form's fields, keyed as the server keys them (lower case), `key` after ${filename}. */
  const form = (): Map<string, string> =>
    new Map([
      ["key", "user/user1/MyPhoto.jpg"],
      ["acl", "public-read"],
      ["success_action_redirect", "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"],
      ["content-type", "image/jpeg"],
      ["x-amz-meta-uuid", "14365123651274"],
      ["x-amz-server-side-encryption", "AES256"],
      ["x-amz-credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"],
      ["x-amz-algorithm", "AWS4-HMAC-SHA256"],
      ["x-amz-date", "20151229T000000Z"],
      ["x-amz-meta-tag", ""],
      ["policy", policy],
      ["x-amz-signature", signature],
    ]);
  const signed = (f = form(), secret = secrets) =>
    verifyPostSignature(
      {
        algorithm: f.get("x-amz-algorithm"),
        credential: f.get("x-amz-credential"),
        date: f.get("x-amz-date"),
        signature: f.get("x-amz-signature"),
        policy: f.get("policy"),
      },
      { secrets: secret, region: "us-east-1", now },
    );

  it("verifies AWS's own example: signature and every condition", async () => {
    expect(await signed()).toBe(AKID);
    expect(checkPostPolicy(policy, form(), bucket, now)).toEqual({ min: 0, max: Number.POSITIVE_INFINITY });
  });

  it("refuses the example signed with another secret or with the policy changed", async () => {
    expect(await refusal(signed(form(), (id) => (id === AKID ? "other" : undefined)))).toMatch(
      /403 SignatureDoesNotMatch/,
    );
    const f = form();
    f.set("policy", `${policy.slice(0, -4)}fQ==`);
    expect(await refusal(signed(f))).toMatch(/403 SignatureDoesNotMatch/);
    f.delete("x-amz-signature");
    f.delete("policy");
    expect(await refusal(signed(f))).toMatch(/403 AccessDenied/);
  });

  it.each<[string, (f: Map<string, string>) => void, RegExp]>([
    [
      "a key outside user/user1/",
      (f) => f.set("key", "user/user2/MyPhoto.jpg"),
      /\["starts-with","\$key","user\/user1\/"\]/,
    ],
    ["another content type", (f) => f.set("content-type", "text/html"), /\$Content-Type/],
    ["another acl", (f) => f.set("acl", "private"), /"acl":"public-read"/],
    ["the uuid field removed", (f) => f.delete("x-amz-meta-uuid"), /x-amz-meta-uuid/],
    ["an extra field", (f) => f.set("x-amz-meta-admin", "true"), /Extra input fields: x-amz-meta-admin/],
    ["another bucket field", (f) => f.set("bucket", "otherbucket"), /403 AccessDenied/],
  ])("refuses the example form with %s", (_what, change, expected) => {
    const f = form();
    change(f);
    const message = refusalSync(() => checkPostPolicy(policy, f, bucket, now));
    expect(message).toMatch(/^403 AccessDenied Invalid according to Policy/);
    expect(message).toMatch(expected);
  });

  it("refuses the example form posted to another bucket and after its expiration", () => {
    expect(refusalSync(() => checkPostPolicy(policy, form(), "otherbucket", now))).toMatch(
      /"bucket":"sigv4examplebucket"/,
    );
    expect(
      refusalSync(() => checkPostPolicy(policy, form(), bucket, new Date("2015-12-30T12:00:01Z"))),
    ).toMatch(/403 AccessDenied Invalid according to Policy: Policy expired/);
  });

  it("accepts x-ignore- fields without a condition, and returns the content-length-range", () => {
    const f = form();
    f.set("x-ignore-note", "anything");
    expect(() => checkPostPolicy(policy, f, bucket, now)).not.toThrow();
    const ranged = Buffer.from(
      JSON.stringify({
        expiration: "2015-12-30T12:00:00.000Z",
        conditions: [
          { bucket },
          ["content-length-range", 10, 20],
          ["content-length-range", 5, 15],
          { key: "k" },
        ],
      }),
    ).toString("base64");
    expect(checkPostPolicy(ranged, new Map([["key", "k"]]), bucket, now)).toEqual({ min: 10, max: 15 });
  });

  it.each([
    ["not base64 JSON", "%%%"],
    ["no expiration", Buffer.from(JSON.stringify({ conditions: [] })).toString("base64")],
    ["no conditions", Buffer.from(JSON.stringify({ expiration: "2016-01-01T00:00:00Z" })).toString("base64")],
    [
      "an unknown operator",
      Buffer.from(
        JSON.stringify({ expiration: "2016-01-01T00:00:00Z", conditions: [["matches", "$key", ".*"]] }),
      ).toString("base64"),
    ],
  ])("answers a policy with %s as 400 InvalidPolicyDocument", (_what, bad) => {
    expect(refusalSync(() => checkPostPolicy(bad, new Map(), bucket, now))).toMatch(
      /^400 InvalidPolicyDocument/,
    );
  });
});

function refusalSync(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof S3Error) return `${error.status} ${error.code} ${error.message}`;
    throw error;
  }
  throw new Error("expected a refusal");
}

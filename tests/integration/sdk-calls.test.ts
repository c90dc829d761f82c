/**
 * Records every AWS SDK command the handlers send (and every request the API presigns) while the local stack
 * runs the paths that matter for permissions: a verified, an infected and a rejected drop, an upload through the
 * API (presigned POST and multipart), list, status, download and delete, a stage that gives up (dead-letter), the
 * sweeper, an object gone before its stage reads it, and a GuardDuty result. The distinct calls must all be in
 * `tests/infra/fixtures/sdk-calls.json`, which `tests/infra/permissions.test.ts` evaluates against the roles,
 * bucket, queue, topic and key policies of the program. A handler that starts sending a new kind of command
 * fails this suite until the fixture is regenerated (`UPDATE_SDK_CALLS=1 npx vitest run
 * tests/integration/sdk-calls.test.ts`) — and then the permission check says whether its role allows it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Context, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mintToken } from "../../local/gateway.ts";
import { asS3Event } from "../../local/s3-events.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { csv, pdf } from "../fixtures/documents.ts";
import { guardDutyEvent } from "../fixtures/guardduty.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { pollDeadline } from "../support/deadline.ts";
import { clientsFor } from "../support/local.ts";
import {
  attribute,
  callKey,
  distinct,
  type RecordedCall,
  recordPresign,
  startRecording,
  stopRecording,
} from "../support/sdk-recorder.ts";

// Each handler module's entry runs inside an async context naming the function, so that its commands are
// attributed to the role they would run with in AWS.
const wrap = (handler: string) => async (original: () => Promise<Record<string, unknown>>) => {
  const mod = await original();
  const wrapped: Record<string, unknown> = { ...mod };
  for (const name of ["handler", "lambdaHandler"])
    if (typeof mod[name] === "function") {
      const fn = mod[name] as (...args: unknown[]) => unknown;
      wrapped[name] = (...args: unknown[]) => attribute(handler, () => fn(...args));
    }
  return wrapped;
};
vi.mock("../../handlers/validate.ts", (o) => wrap("validate")(o as never));
vi.mock("../../handlers/scan.ts", (o) => wrap("scan")(o as never));
vi.mock("../../handlers/metadata.ts", (o) => wrap("metadata")(o as never));
vi.mock("../../handlers/dead-letter.ts", (o) => wrap("deadLetter")(o as never));
vi.mock("../../handlers/sweeper.ts", (o) => wrap("sweeper")(o as never));
vi.mock("../../handlers/api.ts", (o) => wrap("api")(o as never));
vi.mock("../../handlers/guardduty.ts", (o) => wrap("guardduty")(o as never));
vi.mock("@aws-sdk/s3-request-presigner", async (original) => {
  const mod = (await original()) as typeof import("@aws-sdk/s3-request-presigner");
  return {
    ...mod,
    getSignedUrl: (
      client: never,
      command: { constructor: { name: string }; input: object },
      options: never,
    ) => {
      recordPresign(
        command.constructor.name.replace(/Command$/, ""),
        command.input as Record<string, unknown>,
      );
      return mod.getSignedUrl(client, command as never, options);
    },
  };
});
vi.mock("@aws-sdk/s3-presigned-post", async (original) => {
  const mod = (await original()) as typeof import("@aws-sdk/s3-presigned-post");
  return {
    ...mod,
    createPresignedPost: (client: never, params: Record<string, unknown>) => {
      recordPresign("PostObject", params);
      return mod.createPresignedPost(client, params as never);
    },
  };
});

const FIXTURE = resolve("tests/infra/fixtures/sdk-calls.json");
let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
let token: string;
let raw: RecordedCall[] = [];
let recorded: RecordedCall[] = [];

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.state.api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: API answers of several shapes
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

async function apiFinal(fileId: string) {
  const deadline = pollDeadline(30_000);
  for (;;) {
    const r = await call("GET", `/files/${fileId}`);
    if (["VERIFIED", "REJECTED", "INFECTED", "FAILED"].includes(r.body.status)) return r.body;
    if (deadline.passed()) throw new Error(`${fileId} never reached a verdict: ${JSON.stringify(r.body)}`);
    await deadline.sleep(25);
  }
}

beforeAll(async () => {
  stack = await startLocalStack({
    multipartThresholdBytes: 6 * 1024 * 1024,
    // Short enough for the sweeper and the dead-letter path to run within the suite, long enough that a file
    // slowed by a loaded machine is neither redelivered into the dead-letter queue nor taken for a stuck one.
    visibilityTimeoutSeconds: 2,
    stuckAfterSeconds: 3,
    sweepIntervalMs: 700,
    crash: (stage, body) => stage === "scan" && body.includes("give-up"),
  });
  io = clientsFor(stack);
  token = await mintToken(stack.state.api, { sub: "alice" });
  const { state } = stack;
  startRecording({
    ingestBucket: state.ingestBucket,
    cleanBucket: state.cleanBucket,
    tableName: state.tableName,
    topics: { notifications: state.notificationsTopicArn, fanout: state.fanoutTopicArn },
  });
}, 60_000);
afterAll(() => stack?.stop());

describe("Handlers: the SDK commands they send, recorded on the local stack", () => {
  it("runs every path that needs a permission", async () => {
    // Drops: verified (promotion and extracted text), infected, rejected.
    const verified = await io.drop("drops/billing/2026/invoice.pdf", pdf({ pages: 1, text: "invoice" }));
    const infected = await io.drop("drops/billing/eicar.txt", EICAR);
    const rejected = await io.drop("drops/erp/tool.pdf", new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]));
    for (const id of [verified, infected, rejected]) await io.waitFinal(id, 30_000);

    // A stage that keeps crashing gives up: dead-letter queue, dead-letter function (or the sweeper first).
    const gaveUp = await io.drop("drops/erp/give-up.csv", csv(3, 3));
    await io.waitFinal(gaveUp, 30_000);

    // The API: presigned POST, status, list, download, delete; a multipart upload.
    const bytes = pdf({ pages: 2, text: "api upload" });
    const plan = await call("POST", "/uploads", {
      filename: "report.pdf",
      contentType: "application/pdf",
      size: bytes.length,
    });
    expect(plan.status).toBe(201);
    const form = new FormData();
    for (const [k, v] of Object.entries(plan.body.upload.fields as Record<string, string>)) form.append(k, v);
    form.append("file", new Blob([bytes]));
    expect((await fetch(plan.body.upload.url, { method: "POST", body: form })).status).toBeLessThan(300);
    expect((await apiFinal(plan.body.fileId)).status).toBe("VERIFIED");
    expect((await call("GET", "/files?limit=5")).status).toBe(200);
    expect((await call("GET", `/files/${plan.body.fileId}/download`)).status).toBe(200);
    expect((await call("DELETE", `/files/${plan.body.fileId}`)).status).toBe(204);

    const big = new TextEncoder().encode("multipart line of text\n".repeat(300_000));
    const multi = await call("POST", "/uploads", {
      filename: "big.txt",
      contentType: "text/plain",
      size: big.length,
    });
    const { partSize, parts } = multi.body.upload as {
      partSize: number;
      parts: { partNumber: number; url: string }[];
    };
    const etags = [];
    for (const part of parts) {
      const chunk = big.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize);
      const res = await fetch(part.url, { method: "PUT", body: chunk });
      etags.push({ partNumber: part.partNumber, etag: res.headers.get("etag") ?? "" });
    }
    expect(
      (await call("POST", `/uploads/${multi.body.fileId}/complete`, { parts: etags })).status,
    ).toBeLessThan(300);
    await apiFinal(multi.body.fileId);

    // An object gone before its stage reads it: the stage must see a 404.
    const { handler: validate } = await import("../../handlers/validate.ts");
    const gone = asS3Event(
      {
        eventName: "ObjectCreated:Put",
        s3: {
          bucket: { name: stack.state.ingestBucket },
          object: { key: "drops/erp/gone.csv", size: 10, eTag: "abc" },
        },
      },
      stack.state.region,
    );
    await validate(
      {
        Records: [
          {
            messageId: "gone",
            body: JSON.stringify({ Type: "Notification", Message: JSON.stringify(gone) }),
          },
        ],
      } as SQSEvent,
      { functionName: "airlock-validate", getRemainingTimeInMillis: () => 30_000 } as Context,
    );

    // A GuardDuty result for a file (GuardDuty itself is not emulated).
    const scanned = await io.drop("drops/billing/scanned.pdf", pdf({ pages: 1, text: "scanned" }));
    await io.waitFinal(scanned, 30_000);
    const { lambdaHandler: guardduty } = await import("../../handlers/guardduty.ts");
    await guardduty(
      {
        Records: [
          {
            messageId: "gd",
            body: JSON.stringify(
              guardDutyEvent({
                bucket: stack.state.ingestBucket,
                key: "drops/billing/scanned.pdf",
                result: "NO_THREATS_FOUND",
              }),
            ),
          },
        ],
      } as SQSEvent,
      {} as Context,
    );
    await stack.idle(20_000);
    raw = stopRecording();
    recorded = distinct(raw);
    expect(recorded.length).toBeGreaterThan(20);
  }, 180_000);

  it("sends only calls the committed fixture lists (what the permission check evaluates)", () => {
    if (process.env.UPDATE_SDK_CALLS) {
      // Merged with what earlier runs saw: some calls depend on which stage finishes last.
      const before = JSON.parse(readFileSync(FIXTURE, "utf8")) as RecordedCall[];
      writeFileSync(FIXTURE, `${JSON.stringify(distinct([...before, ...recorded]), null, 2)}\n`);
    }
    // Any deciding function may settle a file (the last stage to finish decides), so which of them sent a
    // settle call is timing: they count as one. The permission check holds each such call against every one.
    const fixture = new Set((JSON.parse(readFileSync(FIXTURE, "utf8")) as RecordedCall[]).map(callKey));
    const missing = recorded.filter((c) => !fixture.has(callKey(c)));
    expect(
      missing,
      "new SDK calls: regenerate the fixture with UPDATE_SDK_CALLS=1 and check permissions",
    ).toEqual([]);
  });

  it("saw the paths it is for: versions named, a 404, promotion, a presigned POST, a give-up", () => {
    const has = (f: (c: RecordedCall) => boolean) => raw.some(f);
    expect(has((c) => c.command === "GetObject" && c.params.namesVersion === true)).toBe(true);
    expect(
      has((c) => (c.command === "HeadObject" || c.command === "GetObject") && c.error !== undefined),
    ).toBe(true);
    expect(has((c) => c.command === "CopyObject" && c.params.bucket === "clean")).toBe(true);
    expect(has((c) => c.command === "Presign:PostObject")).toBe(true);
    expect(has((c) => c.handler === "deadLetter" || c.handler === "sweeper")).toBe(true);
    expect(has((c) => c.handler === "guardduty")).toBe(true);
  });
});

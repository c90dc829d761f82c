/**
 * The HTTP API on the local stack over real HTTP: JWT checks at the gateway, presigned uploads to the S3
 * emulator, the pipeline's upload-session checks, owner isolation, downloads and deletes.
 */
import { createHash } from "node:crypto";
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../local/gateway.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { pdf } from "../fixtures/documents.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { pollDeadline } from "../support/deadline.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
let alice: string;
let bob: string;

beforeAll(async () => {
  stack = await startLocalStack({ sweepIntervalMs: 3_600_000, multipartThresholdBytes: 6 * 1024 * 1024 });
  io = clientsFor(stack);
  alice = await mintToken(stack.state.api, { sub: "alice" });
  bob = await mintToken(stack.state.api, { sub: "bob" });
});
afterAll(() => stack?.stop());

async function call(method: string, path: string, token: string | undefined, body?: unknown) {
  const res = await fetch(`${stack.state.api.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of every route are read loosely in this suite
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

interface PostPlan {
  fileId: string;
  upload: { method: string; url: string; fields: Record<string, string> };
}

async function postForm(plan: PostPlan, bytes: Uint8Array, fieldOverrides: Record<string, string> = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...plan.upload.fields, ...fieldOverrides })) form.append(k, v);
  form.append("file", new Blob([bytes]));
  return fetch(plan.upload.url, { method: "POST", body: form });
}

async function waitFinal(fileId: string) {
  const deadline = pollDeadline(30_000);
  for (;;) {
    const r = await call("GET", `/files/${fileId}`, alice);
    if (r.status === 200 && ["VERIFIED", "REJECTED", "INFECTED", "FAILED"].includes(r.body.status))
      return r.body;
    if (deadline.passed()) throw new Error(`${fileId} never reached a verdict: ${JSON.stringify(r.body)}`);
    await deadline.sleep(25);
  }
}

describe("HTTP API on the local stack", () => {
  it("presigns, takes a real form POST, verifies, lists and serves the same bytes", async () => {
    const bytes = pdf({ pages: 2, text: "api upload" });
    const presign = await call("POST", "/uploads", alice, {
      filename: "../../etc/report ✓.pdf",
      contentType: "application/pdf",
      size: bytes.length,
    });
    expect(presign.status).toBe(201);
    expect(presign.body.key).toBe(`uploads/${presign.body.fileId}/report ✓.pdf`);
    expect((await call("GET", `/files/${presign.body.fileId}`, alice)).body.status).toBe("AWAITING_UPLOAD");
    const uploaded = await postForm(presign.body as PostPlan, bytes);
    expect(uploaded.status).toBeLessThan(300);

    const record = await waitFinal(presign.body.fileId);
    expect(record.status, JSON.stringify(record.reasons)).toBe("VERIFIED");
    expect(record.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));

    const list = await call("GET", "/files?limit=10", alice);
    expect(list.body.files.map((f: { fileId: string }) => f.fileId)).toContain(presign.body.fileId);
    const download = await call("GET", `/files/${presign.body.fileId}/download`, alice);
    expect(download.status).toBe(200);
    const fetched = await fetch(download.body.url);
    expect(fetched.headers.get("content-disposition")).toMatch(
      /^attachment; filename="report _.pdf"; filename\*=UTF-8''report%20%E2%9C%93\.pdf$/,
    );
    expect(Buffer.from(await fetched.arrayBuffer())).toEqual(Buffer.from(bytes));

    // Another owner sees nothing of it.
    expect((await call("GET", `/files/${presign.body.fileId}`, bob)).status).toBe(404);
    expect((await call("GET", `/files/${presign.body.fileId}/download`, bob)).status).toBe(404);
    expect((await call("DELETE", `/files/${presign.body.fileId}`, bob)).status).toBe(404);
    expect((await call("GET", "/files", bob)).body.files).toEqual([]);

    // The API shows VERIFIED once the copy is promoted; the extracted text follows it and the owner is told
    // after that. The delete comes once the pipeline is done with the file.
    await io.waitFinal(presign.body.fileId);
    expect((await call("DELETE", `/files/${presign.body.fileId}`, alice)).status).toBe(204);
    // What is left is an audit stub: no facts, no text, nothing downloadable.
    const stub = await call("GET", `/files/${presign.body.fileId}`, alice);
    expect(stub.status).toBe(200);
    expect(Object.keys(stub.body).sort()).toEqual([
      "createdAt",
      "deletedAt",
      "fileId",
      "name",
      "status",
      "updatedAt",
    ]);
    expect(stub.body).toMatchObject({ status: "DELETED", name: "report ✓.pdf" });
    const deleted = await call("GET", "/files?status=DELETED&limit=100", alice);
    const listed = deleted.body.files.find((f: { fileId: string }) => f.fileId === presign.body.fileId);
    expect(listed).toEqual(stub.body);
    expect(JSON.stringify(deleted.body)).not.toContain("api upload");
    expect((await call("GET", `/files/${presign.body.fileId}/download`, alice)).status).toBe(410);
    for (const key of [presign.body.key, `text/${presign.body.fileId}.txt`])
      await expect(
        io.s3.send(new HeadObjectCommand({ Bucket: stack.state.cleanBucket, Key: key })),
      ).rejects.toThrow();
    expect((await call("GET", `/files/${presign.body.fileId}`, bob)).status).toBe(404);
    // Deleting again repeats the erasure and answers the same.
    expect((await call("DELETE", `/files/${presign.body.fileId}`, alice)).status).toBe(204);
  });

  it("rejects an upload whose bytes are not the SHA-256 declared for it, and verifies one that is", async () => {
    const bytes = new TextEncoder().encode("declared content\n");
    const digest = createHash("sha256").update(bytes).digest("hex");
    const outcomes = await Promise.all(
      [digest, createHash("sha256").update("something else").digest("hex")].map(async (sha256) => {
        const presign = await call("POST", "/uploads", alice, {
          filename: "declared.txt",
          contentType: "text/plain",
          size: bytes.length,
          sha256,
        });
        expect(presign.status).toBe(201);
        expect((await postForm(presign.body as PostPlan, bytes)).status).toBeLessThan(300);
        return waitFinal(presign.body.fileId);
      }),
    );
    expect(outcomes.map((r) => r.status)).toEqual(["VERIFIED", "REJECTED"]);
    expect(outcomes[1]?.reasons.join()).toMatch(/declared at upload/);
  });

  it("uploads a file above the threshold in parts", async () => {
    const bytes = new TextEncoder().encode("multipart line of text\n".repeat(600_000));
    const plan = await call("POST", "/uploads", alice, {
      filename: "big.txt",
      contentType: "text/plain",
      size: bytes.length,
    });
    expect(plan.status).toBe(201);
    expect(plan.body.upload.method).toBe("MULTIPART");
    const { partSize, parts } = plan.body.upload as {
      partSize: number;
      parts: { partNumber: number; url: string }[];
    };
    expect(parts.length).toBe(Math.ceil(bytes.length / partSize));
    const etags = [];
    for (const part of parts) {
      const res = await fetch(part.url, {
        method: "PUT",
        body: bytes.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize),
      });
      expect(res.status).toBe(200);
      etags.push({ partNumber: part.partNumber, etag: res.headers.get("etag") ?? "" });
    }
    expect(
      (await call("POST", `/uploads/${plan.body.fileId}/complete`, alice, { parts: etags })).status,
    ).toBe(200);
    const again = await call("POST", `/uploads/${plan.body.fileId}/complete`, alice, { parts: etags });
    expect(again).toEqual({ status: 409, body: { message: "This upload was already completed" } });
    const record = await waitFinal(plan.body.fileId);
    expect(record.status, JSON.stringify(record.reasons)).toBe("VERIFIED");
    expect(record.size).toBe(bytes.length);
  });

  it("resumes a multipart upload: lists the parts S3 holds and signs only the missing ones", async () => {
    const bytes = new TextEncoder().encode("resumed multipart line\n".repeat(430_000));
    const plan = await call("POST", "/uploads", alice, {
      filename: "resumed.txt",
      contentType: "text/plain",
      size: bytes.length,
    });
    const { fileId } = plan.body;
    const { partSize, parts } = plan.body.upload as {
      partSize: number;
      parts: { partNumber: number; size: number; url: string }[];
    };
    expect(parts).toHaveLength(2);
    const first = await fetch((parts[0] as { url: string }).url, {
      method: "PUT",
      body: bytes.subarray(0, partSize),
    });
    expect(first.status).toBe(200);

    // The page was reloaded: the client only has the file id.
    expect((await call("GET", `/uploads/${fileId}/parts`, bob)).status).toBe(404);
    const listed = await call("GET", `/uploads/${fileId}/parts`, alice);
    expect(listed.status).toBe(200);
    expect(listed.body.upload.uploaded).toEqual([
      { partNumber: 1, size: partSize, etag: first.headers.get("etag") },
    ]);
    const missing = listed.body.upload.parts as { partNumber: number; size: number; url: string }[];
    expect(missing.map((p) => [p.partNumber, p.size])).toEqual([[2, bytes.length - partSize]]);
    const second = await fetch((missing[0] as { url: string }).url, {
      method: "PUT",
      body: bytes.subarray(partSize),
    });
    expect(second.status).toBe(200);
    const done = await call("POST", `/uploads/${fileId}/complete`, alice, {
      parts: [
        { partNumber: 1, etag: listed.body.upload.uploaded[0].etag },
        { partNumber: 2, etag: second.headers.get("etag") },
      ],
    });
    expect(done.status).toBe(200);
    const record = await waitFinal(fileId);
    expect(record.status, JSON.stringify(record.reasons)).toBe("VERIFIED");
    expect(record.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    const after = await call("GET", `/uploads/${fileId}/parts`, alice);
    expect(after).toEqual({ status: 409, body: { message: "This upload was already completed" } });
  });

  it("tells a client what it may upload before it picks a file", async () => {
    const policy = await call("GET", "/uploads/policy", alice);
    expect(policy.status).toBe(200);
    expect(policy.body).toMatchObject({
      maxSizeBytes: 100 * 1024 * 1024,
      multipartThresholdBytes: 6 * 1024 * 1024,
    });
    expect(policy.body.types).toContainEqual({
      id: "jpg",
      contentType: "image/jpeg",
      extensions: ["jpg", "jpeg", "jpe", "jfif"],
    });
    expect(policy.body.description).toMatch(/^PDF, images \(PNG, JPEG, GIF, WebP\), .* up to 100 MiB each$/);
    expect((await call("GET", "/uploads/policy", undefined)).status).toBe(401);
  });

  it("signs each part for its length, so a part URL cannot carry more than was declared", async () => {
    const size = 9 * 1024 * 1024;
    const plan = await call("POST", "/uploads", alice, {
      filename: "parts.txt",
      contentType: "text/plain",
      size,
    });
    const parts = plan.body.upload.parts as { partNumber: number; size: number; url: string }[];
    expect(parts.map((p) => p.size)).toEqual([8 * 1024 * 1024, 1024 * 1024]);
    const last = parts[1] as { url: string; size: number };
    const bigger = await fetch(last.url, { method: "PUT", body: new Uint8Array(last.size * 64).fill(97) });
    expect(bigger.status).toBe(403);
    const exact = await fetch(last.url, { method: "PUT", body: new Uint8Array(last.size).fill(97) });
    expect(exact.status).toBe(200);
    // Abort, then a completion is refused plainly; a second abort is already done.
    expect((await call("DELETE", `/uploads/${plan.body.fileId}`, alice)).status).toBe(204);
    const late = await call("POST", `/uploads/${plan.body.fileId}/complete`, alice, {
      parts: parts.map((p) => ({ partNumber: p.partNumber, etag: '"x"' })),
    });
    expect(late).toEqual({ status: 409, body: { message: "This upload was aborted; start a new upload" } });
    expect((await call("DELETE", `/uploads/${plan.body.fileId}`, alice)).status).toBe(204);
  });

  it.each([
    [
      "larger than presigned",
      { size: 100 },
      pdf({ pages: 1, text: "much bigger than one hundred bytes" }),
      {},
      400,
      /EntityTooLarge/,
      /differs from the presigned size/,
    ],
    [
      "of another type than presigned",
      undefined,
      EICAR,
      { "Content-Type": "text/plain" },
      403,
      /AccessDenied.*Policy Condition failed/,
      /Content-Type text\/plain differs|INFECTED/,
    ],
  ])(
    "refuses an upload %s at S3, and the pipeline rejects it where S3 does not",
    async (_what, override, bytes, fields, status, s3Error, reason) => {
      const size = override?.size ?? bytes.length;
      const plan = await call("POST", "/uploads", alice, {
        filename: "x.pdf",
        contentType: "application/pdf",
        size,
      });
      // First wall: the store enforces the POST policy, as S3 does.
      const refused = await postForm(plan.body as PostPlan, bytes, fields);
      expect(refused.status).toBe(status);
      expect(await refused.text()).toMatch(s3Error);
      // Second wall: the same object landed by a store that does not enforce the policy.
      const planned = { ...(plan.body as PostPlan).upload.fields, ...fields } as Record<string, string>;
      await io.s3.send(
        new PutObjectCommand({
          Bucket: stack.state.ingestBucket,
          Key: plan.body.key,
          Body: bytes,
          ContentType: planned["Content-Type"],
          Metadata: {
            owner: planned["x-amz-meta-owner"] ?? "",
            "upload-id": planned["x-amz-meta-upload-id"] ?? "",
          },
        }),
      );
      const record = await waitFinal(plan.body.fileId);
      expect(record.status).not.toBe("VERIFIED");
      expect(`${record.status} ${record.reasons.join(" ")}`).toMatch(reason);
      expect((await call("GET", `/files/${plan.body.fileId}/download`, alice)).status).toBe(409);
    },
  );

  it("answers 401 without a token, with an expired one and with a wrong audience", async () => {
    const expired = await mintToken(stack.state.api, { sub: "alice", ttlSeconds: -60 });
    const otherAudience = await mintToken(stack.state.api, { sub: "alice", audience: "someone-else" });
    for (const token of [undefined, expired, otherAudience, "not.a.jwt"]) {
      const res = await call("GET", "/files", token);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ message: "Unauthorized" });
    }
  });

  it("rejects bad requests with the right status and a clear message", async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ filename: "a.exe", contentType: "application/x-msdownload", size: 10 }, 415, /not accepted/],
      [{ filename: "a.pdf", contentType: "application/pdf", size: 10 ** 12 }, 413, /limit/],
      [{ filename: "a.pdf", contentType: "application/pdf" }, 422, /size/],
      [{ filename: "/", contentType: "application/pdf", size: 5 }, 422, /filename/],
      [{ filename: "invoice.js.", contentType: "text/plain", size: 5 }, 422, /ends with a dot or a space/],
      [{ filename: "a\r\nb.txt", contentType: "text/plain", size: 5 }, 422, /control character/],
      [{ filename: "bill\u202Etxt.exe", contentType: "text/plain", size: 5 }, 422, /bidirectional/],
      [{ filename: "NUL.txt", contentType: "text/plain", size: 5 }, 422, /Windows device name/],
      [{ filename: "a.txt:x.exe", contentType: "text/plain", size: 5 }, 422, /colon/],
      [{ filename: "a.exe", contentType: "text/plain", size: 5 }, 422, /does not match text\/plain/],
      ["{not json", 400, /JSON/],
      ["[1,2]", 422, /Invalid request/],
    ];
    for (const [body, status, message] of cases) {
      const res = await call("POST", "/uploads", alice, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.message).toMatch(message);
    }
    expect((await call("GET", "/files?status=BOGUS", alice)).status).toBe(400);
    expect((await call("GET", "/files?limit=0", alice)).status).toBe(400);
    expect((await call("GET", "/nowhere", alice)).status).toBe(404);
    const long = "a".repeat(8000);
    for (const [method, path] of [
      ["GET", `/files/${long}`],
      ["GET", `/files/${long}/download`],
      ["DELETE", `/files/${long}`],
      ["POST", `/uploads/${long}/complete`],
      ["DELETE", `/uploads/${long}`],
    ] as const) {
      const res = await call(method, path, alice, method === "POST" ? { parts: [] } : undefined);
      expect(res.status, `${method} ${path.slice(0, 20)}`).toBe(404);
      expect(res.body.message).toMatch(/^No such (file|upload)$/);
    }
  });

  it("keeps a token whose subject is system:billing away from the billing system's drops", async () => {
    const fileId = await io.drop("drops/billing/statement.txt", "billing's own words\n", "text/plain");
    await io.waitFinal(fileId);
    const impostor = await mintToken(stack.state.api, { sub: "system:billing" });
    expect((await call("GET", `/files/${fileId}`, impostor)).status).toBe(404);
    expect((await call("GET", `/files/${fileId}/download`, impostor)).status).toBe(404);
    expect((await call("DELETE", `/files/${fileId}`, impostor)).status).toBe(404);
    expect((await call("GET", "/files?limit=100", impostor)).body.files).toEqual([]);
    expect((await io.records.get(fileId))?.status).toBe("VERIFIED");
  });

  it("rejects dropped names that hide what they are, with the reason code, and escapes them in mail", async () => {
    const dropper = 'var s = new ActiveXObject("WScript.Shell");\ns.Run("calc.exe");\n';
    const cases = [
      ["drops/billing/invoice.js.", "name-trailing-dot-or-space"],
      ["drops/billing/x\r\nStatus:    VERIFIED.txt", "name-control-character"],
      ["drops/billing/statement\u202Etxt.js", "name-bidi-control"],
    ] as const;
    for (const [key, code] of cases) {
      const fileId = await io.drop(key, dropper, "text/plain");
      const record = await io.waitFinal(fileId);
      // Held twice over: the name is refused, and the scanner knows the WSH dropper by its content.
      expect(["REJECTED", "INFECTED"], key).toContain(record.status);
      expect(record.owner).toBe("system:billing");
      expect(record.reasons.join("\n")).toContain(`[${code}]`);
      await expect(
        io.s3.send(new HeadObjectCommand({ Bucket: stack.state.cleanBucket, Key: key })),
      ).rejects.toThrow();
      const deadline = pollDeadline(20_000);
      let mail = stack.outbox.find((n) => n.attributes.fileId === fileId);
      while (!mail && !deadline.passed()) {
        await deadline.sleep(25);
        mail = stack.outbox.find((n) => n.attributes.fileId === fileId);
      }
      expect(mail?.message.split("\n").filter((l) => l.startsWith("Status:"))).toEqual([
        `Status:    ${record.status}`,
      ]);
      expect(mail?.message).not.toMatch(/[\r\u202E]/);
    }
  });

  it("pages with cursors that another owner or an edit cannot use", async () => {
    for (let i = 0; i < 3; i++)
      await io.waitFinal(await io.drop(`drops/pager/file-${i}.txt`, `text ${i}\n`, "text/plain"));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const plan = await call("POST", "/uploads", alice, {
        filename: `p${i}.txt`,
        contentType: "text/plain",
        size: 6,
      });
      await postForm(plan.body as PostPlan, new TextEncoder().encode(`page${i}\n`));
      ids.push(plan.body.fileId);
      await waitFinal(plan.body.fileId);
    }
    const first = await call("GET", "/files?limit=2", alice);
    expect(first.body.files).toHaveLength(2);
    const cursor = first.body.nextCursor as string;
    expect(cursor).toBeTruthy();
    const second = await call("GET", `/files?limit=2&cursor=${encodeURIComponent(cursor)}`, alice);
    expect(second.status).toBe(200);
    const seen = [...first.body.files, ...second.body.files].map((f: { fileId: string }) => f.fileId);
    expect(new Set(seen).size).toBe(seen.length);
    expect((await call("GET", `/files?cursor=${encodeURIComponent(cursor)}`, bob)).status).toBe(400);
    const forged = `${cursor.slice(0, 5)}${cursor[5] === "A" ? "B" : "A"}${cursor.slice(6)}`;
    expect((await call("GET", `/files?cursor=${encodeURIComponent(forged)}`, alice)).status).toBe(400);
  });

  it("answers CORS preflights for the configured origin only", async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.state.api.url}/uploads`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
    const allowed = await preflight("http://localhost:5173");
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    const denied = await preflight("https://evil.example");
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
  });
});

import { HeadObjectCommand, type HeadObjectCommandOutput } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  addClientMiddleware,
  type ClientMiddleware,
  createClients,
  tracer,
} from "../../../core/runtime/clients.ts";

/** Answers every command before it leaves the process, recording which one it was. */
function answering(seen: string[], name = "answer"): ClientMiddleware {
  return {
    name,
    middleware: (_next, context) => async () => {
      seen.push(`${name}:${context.commandName}`);
      return { output: { $metadata: {}, ETag: '"e"' }, response: {} };
    },
  };
}

const local = { region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } };
const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe("Function: createClients", () => {
  it("builds each client once and shares it (the document client wraps the same DynamoDB client)", () => {
    const clients = createClients(local, {});
    expect(clients.s3).toBe(clients.s3);
    expect(clients.documents).toBe(clients.documents);
    expect(clients.documents.config).toBe(clients.dynamodb.config);
  });

  it("addresses S3 path-style only against an endpoint of its own", async () => {
    expect(await createClients(local, {}).s3.config.forcePathStyle).toBe(false);
    expect(
      await createClients({ ...local, endpoints: { s3: "http://127.0.0.1:1" } }, {}).s3.config.forcePathStyle,
    ).toBe(true);
    expect(
      await createClients(local, { AWS_ENDPOINT_URL_S3: "http://127.0.0.1:1" }).s3.config.forcePathStyle,
    ).toBe(true);
  });

  it("runs added middleware on clients built before and after it was added, until it is removed", async () => {
    const seen: string[] = [];
    const before = createClients(local, {}).s3;
    removers.push(addClientMiddleware(answering(seen)));
    const after = createClients(local, {}).s3;
    const out: HeadObjectCommandOutput = await before.send(new HeadObjectCommand({ Bucket: "b", Key: "k" }));
    await after.send(new HeadObjectCommand({ Bucket: "b", Key: "k" }));
    expect(out.ETag).toBe('"e"');
    expect(seen).toEqual(["answer:HeadObjectCommand", "answer:HeadObjectCommand"]);

    removers.pop()?.();
    const failing: ClientMiddleware = {
      name: "refuse",
      step: "finalizeRequest",
      middleware: () => async () => {
        throw new Error("refused here");
      },
    };
    removers.push(addClientMiddleware(failing));
    await expect(before.send(new HeadObjectCommand({ Bucket: "b", Key: "k" }))).rejects.toThrow(
      "refused here",
    );
    expect(seen).toHaveLength(2);
  });

  it("runs a client's own middleware on that client only", async () => {
    const seen: string[] = [];
    const own = createClients({ ...local, middleware: [answering(seen, "own")] }, {});
    await own.s3.send(new HeadObjectCommand({ Bucket: "b", Key: "k" }));
    expect(seen).toContain("own:HeadObjectCommand");
    const other = createClients(local, {});
    removers.push(addClientMiddleware({ ...answering(seen, "all"), step: "initialize" }));
    await other.s3.send(new HeadObjectCommand({ Bucket: "b", Key: "k" }));
    expect(seen.at(-1)).toBe("all:HeadObjectCommand");
  });
});

describe("Tracing", () => {
  it("is off outside Lambda, leaving the clients as they are", () => {
    expect(tracer.isTracingEnabled()).toBe(false);
    const names = createClients(local, {}).s3.middlewareStack.identify().join(" ");
    expect(names).not.toMatch(/xray/i);
  });

  it("traces every client inside Lambda, and not with POWERTOOLS_TRACE_ENABLED=false", async () => {
    vi.stubEnv("AWS_EXECUTION_ENV", "AWS_Lambda_nodejs24.x");
    vi.resetModules();
    const inLambda = await import("../../../core/runtime/clients.ts");
    expect(inLambda.tracer.isTracingEnabled()).toBe(true);
    const clients = inLambda.createClients(local, {});
    for (const client of [
      clients.s3,
      clients.dynamodb,
      clients.sns,
      clients.sqs,
      clients.ssm,
      clients.textract,
    ])
      expect(client.middlewareStack.identify().join(" ")).toMatch(/XRaySDKInstrumentation/);

    vi.stubEnv("POWERTOOLS_TRACE_ENABLED", "false");
    vi.resetModules();
    const disabled = await import("../../../core/runtime/clients.ts");
    expect(disabled.tracer.isTracingEnabled()).toBe(false);
    expect(disabled.createClients(local, {}).s3.middlewareStack.identify().join(" ")).not.toMatch(/XRay/);
  });
});

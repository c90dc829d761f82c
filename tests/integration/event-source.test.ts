/**
 * The local stack's pollers stand in for Lambda's SQS event source mappings, which never stop polling: a
 * receive or a delete that fails is retried by the mapping, and a message it could not delete comes back after
 * its visibility timeout (SQS is at least once). A poller that died on one failed call would leave its queue
 * unread for good.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addClientMiddleware } from "../../core/runtime/clients.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { pollDeadline } from "../support/deadline.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-esm-"));
  stack = await startLocalStack({
    stateFile: join(dir, "local.json"),
    visibilityTimeoutSeconds: 2,
    sweepIntervalMs: 3_600_000,
  });
  io = clientsFor(stack);
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("Local event source mappings", () => {
  it("keep polling after a delete of a processed batch fails, and the batch comes back", async () => {
    let failed = 0;
    const remove = addClientMiddleware({
      name: "fail-deletes",
      middleware: (next, context) => async (args) => {
        const input = args.input as { QueueUrl?: string };
        if (
          context.commandName === "DeleteMessageBatchCommand" &&
          input.QueueUrl?.includes("validate") &&
          failed < 2
        ) {
          failed++;
          throw Object.assign(new Error("simulated: the delete did not reach SQS"), {
            name: "InternalError",
          });
        }
        return next(args);
      },
    });
    try {
      const first = await io.drop("drops/itest/esm-first.txt", "first\n", "text/plain");
      const second = await io.drop("drops/itest/esm-second.txt", "second\n", "text/plain");
      // Both failed deletes happen, whichever batches they hit; the batches come back and are judged again.
      const deadline = pollDeadline(30_000);
      while (failed < 2) {
        if (deadline.passed()) throw new Error(`only ${failed} deletes were tried`);
        await deadline.sleep(25);
      }
      expect((await io.waitFinal(first, 30_000)).status).toBe("VERIFIED");
      expect((await io.waitFinal(second, 30_000)).status).toBe("VERIFIED");
      // Dropped after both failures: only pollers still alive judge it (the stage has two).
      const third = await io.drop("drops/itest/esm-third.txt", "third\n", "text/plain");
      expect((await io.waitFinal(third, 30_000)).status).toBe("VERIFIED");
      expect(failed).toBe(2);
    } finally {
      remove();
    }
  }, 90_000);

  it("read on past a message in the outbox that is no SNS envelope, and still deliver the next notification", async () => {
    const sqs = new SQSClient({
      region: stack.state.region,
      credentials: stack.state.credentials,
      endpoint: stack.state.endpoints.sqs,
    });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: stack.state.outboxQueueUrl, MessageBody: "{not json" }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.state.outboxQueueUrl, MessageBody: "null" }));
    const fileId = await io.drop("drops/itest/esm-after-garbage.txt", "after\n", "text/plain");
    expect((await io.waitFinal(fileId, 30_000)).status).toBe("VERIFIED");
    const deadline = pollDeadline(20_000);
    while (!stack.outbox.some((n) => n.attributes.fileId === fileId)) {
      if (deadline.passed()) throw new Error("the notification never reached the outbox");
      await deadline.sleep(50);
    }
    expect(stack.outbox.filter((n) => n.attributes.fileId === fileId)).toHaveLength(1);
  }, 60_000);
});

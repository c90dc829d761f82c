/**
 * Runs the emulators on their own thread, so that on a multi-core machine they do not compete with the
 * handlers for one event loop. It also plays the ingest bucket's event notification: ObjectCreated → SNS, at
 * least once: each commit's event stays owed in the local S3 (in its journal, with a data directory) until the
 * publish succeeded; a failed publish is retried, and the events still owed when the process died are published
 * after the restart, once the stack has said where to (`forward`).
 */
import { parentPort, workerData } from "node:worker_threads";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  type BucketCors,
  type EmulatorOptions,
  type EmulatorPorts,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startEmulators,
} from "./emulators.ts";
import { asS3Event, type S3EventRecordLike } from "./s3-events.ts";

export type WorkerRequest = { type: "forward"; bucket: string; topicArn: string } | { type: "stop" };
export type WorkerReply =
  | { type: "ready"; s3: string; dynamodb: string; sqs: string; sns: string }
  | { type: "failed"; message: string }
  | { type: "stopped" };

const port = parentPort;
if (!port) throw new Error("emulator-worker must run as a worker thread");
const { buckets, ports, cors, options } = workerData as {
  buckets: string[];
  ports: EmulatorPorts;
  cors: BucketCors;
  options: EmulatorOptions;
};
const RETRY_MS = 1_000;

try {
  const emulators = await startEmulators(buckets, ports, cors, options);
  const sns = new SNSClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: emulators.sns,
  });
  let forward: { bucket: string; topicArn: string } | undefined;
  // Events not handed on yet: before the stack said where to, or after a failed publish (retried).
  const owed = new Map<number, S3EventRecordLike>();
  const publishing = new Set<number>();
  const deliver = (record: S3EventRecordLike, seq: number) => {
    if (!forward) {
      owed.set(seq, record);
      return;
    }
    if (record.s3.bucket.name !== forward.bucket || !record.eventName.startsWith("ObjectCreated:")) {
      owed.delete(seq);
      emulators.delivered(seq);
      return;
    }
    if (publishing.has(seq)) return;
    publishing.add(seq);
    owed.delete(seq);
    sns
      .send(
        new PublishCommand({
          TopicArn: forward.topicArn,
          Subject: "Amazon S3 Notification",
          Message: JSON.stringify(asS3Event(record, LOCAL_REGION)),
        }),
      )
      .then(
        () => emulators.delivered(seq),
        (error: unknown) => {
          owed.set(seq, record);
          const reason = error instanceof Error ? error.message : String(error);
          console.error(`local stack: could not publish an S3 event (${reason}; retried in ${RETRY_MS} ms)`);
        },
      )
      .finally(() => publishing.delete(seq));
  };
  for (const { record, seq } of emulators.undeliveredS3Events()) owed.set(seq, record);
  emulators.onS3Event(deliver);
  const retry = setInterval(() => {
    if (forward) for (const [seq, record] of owed) deliver(record, seq);
  }, RETRY_MS);
  port.on("message", async (request: WorkerRequest) => {
    if (request.type === "forward") {
      forward = request;
      for (const [seq, record] of owed) deliver(record, seq);
    }
    if (request.type === "stop") {
      clearInterval(retry);
      await emulators.stop();
      port.postMessage({ type: "stopped" } satisfies WorkerReply);
      port.close();
    }
  });
  port.postMessage({
    type: "ready",
    s3: emulators.s3,
    dynamodb: emulators.dynamodb,
    sqs: emulators.sqs,
    sns: emulators.sns,
  } satisfies WorkerReply);
} catch (error) {
  port.postMessage({
    type: "failed",
    message: error instanceof Error ? error.message : String(error),
  } satisfies WorkerReply);
  port.close();
}

/**
 * Runs the emulators on their own thread, so that on a multi-core machine they do not compete with the
 * handlers for one event loop. It also plays the ingest bucket's event notification: ObjectCreated → SNS.
 */
import { parentPort, workerData } from "node:worker_threads";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  type BucketCors,
  type EmulatorPorts,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startEmulators,
} from "./emulators.ts";
import { asS3Event } from "./s3-events.ts";

export type WorkerRequest = { type: "forward"; bucket: string; topicArn: string } | { type: "stop" };
export type WorkerReply =
  | { type: "ready"; s3: string; dynamodb: string; sqs: string; sns: string }
  | { type: "failed"; message: string }
  | { type: "stopped" };

const port = parentPort;
if (!port) throw new Error("emulator-worker must run as a worker thread");
const { buckets, ports, cors } = workerData as { buckets: string[]; ports: EmulatorPorts; cors: BucketCors };

try {
  const emulators = await startEmulators(buckets, ports, cors);
  const sns = new SNSClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: emulators.sns,
  });
  let forward: { bucket: string; topicArn: string } | undefined;
  emulators.onS3Event((record) => {
    if (
      !forward ||
      record.s3.bucket.name !== forward.bucket ||
      !record.eventName.startsWith("ObjectCreated:")
    )
      return;
    sns
      .send(
        new PublishCommand({
          TopicArn: forward.topicArn,
          Subject: "Amazon S3 Notification",
          Message: JSON.stringify(asS3Event(record, LOCAL_REGION)),
        }),
      )
      .catch((error: unknown) => console.error("local stack: could not publish an S3 event", error));
  });
  port.on("message", async (request: WorkerRequest) => {
    if (request.type === "forward") forward = request;
    if (request.type === "stop") {
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

/**
 * Parsing of stage-queue messages. A body is an SNS notification wrapping an S3 event (the AWS fan-out), or a raw
 * S3 event (a queue subscribed directly, or a re-drive). `s3:TestEvent` messages carry nothing to do.
 */
import { z } from "zod";
import { decodeEventKey, encodeEventKey, padSequencer } from "./keys.ts";
import type { ObjectVersion } from "./types.ts";

export class MalformedEventError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MalformedEventError";
  }
}

const s3Record = z.object({
  eventName: z.string(),
  eventTime: z.string().optional(),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
      sequencer: z.string().min(1),
    }),
  }),
});

const s3Event = z.object({ Records: z.array(z.unknown()) });
const testEvent = z.object({ Event: z.literal("s3:TestEvent") });
const snsEnvelope = z.object({ Type: z.literal("Notification"), Message: z.string() });

export interface ObjectCreated {
  eventName: string;
  eventTime?: string;
  version: ObjectVersion;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new MalformedEventError(`${what} is not JSON`, { cause });
  }
}

/**
 * The ObjectCreated events in one queue message body. Returns `[]` for test events and for event kinds
 * Airlock does not act on (e.g. ObjectRemoved); throws MalformedEventError for anything it cannot read.
 */
export function parseStageMessage(body: string): ObjectCreated[] {
  let payload = parseJson(body, "Message body");
  const envelope = snsEnvelope.safeParse(payload);
  if (envelope.success) payload = parseJson(envelope.data.Message, "SNS Message");
  if (testEvent.safeParse(payload).success) return [];
  const event = s3Event.safeParse(payload);
  if (!event.success)
    throw new MalformedEventError("Message is neither an S3 event nor an SNS-wrapped S3 event");
  const out: ObjectCreated[] = [];
  for (const raw of event.data.Records) {
    const record = s3Record.safeParse(raw);
    if (!record.success) {
      throw new MalformedEventError(
        `S3 event record is malformed: ${record.error.issues[0]?.message ?? "invalid"}`,
      );
    }
    const { eventName, eventTime, s3 } = record.data;
    if (!eventName.startsWith("ObjectCreated:")) continue;
    let key: string;
    let sequencer: string;
    try {
      key = decodeEventKey(s3.object.key);
      sequencer = padSequencer(s3.object.sequencer);
    } catch (cause) {
      throw new MalformedEventError(`S3 event record is malformed: ${(cause as Error).message}`, { cause });
    }
    out.push({
      eventName,
      eventTime,
      version: {
        bucket: s3.bucket.name,
        key,
        versionId: s3.object.versionId && s3.object.versionId !== "null" ? s3.object.versionId : undefined,
        eTag: s3.object.eTag?.replace(/"/g, ""),
        sequencer,
        size: s3.object.size ?? 0,
      },
    });
  }
  return out;
}

/**
 * An S3 event like the one that announced this version, for re-driving it through the fan-out topic (the
 * sweeper, a rescan). `parseStageMessage` reads it back as exactly this object version.
 */
export function syntheticEvent(record: { version: ObjectVersion }, now = new Date()): string {
  const { version } = record;
  return JSON.stringify({
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "airlock:sweeper",
        eventName: "ObjectCreated:Redrive",
        eventTime: now.toISOString(),
        s3: {
          bucket: { name: version.bucket },
          object: {
            key: encodeEventKey(version.key),
            size: version.size,
            eTag: version.eTag,
            versionId: version.versionId,
            sequencer: version.sequencer,
          },
        },
      },
    ],
  });
}

import { describe, expect, it } from "vitest";
import { MalformedEventError, parseStageMessage } from "../../../core/domain/events.ts";

function s3Event(key: string, extra: Record<string, unknown> = {}) {
  return {
    Records: [
      {
        eventName: "ObjectCreated:Put",
        s3: {
          bucket: { name: "ingest" },
          object: { key, size: 12, eTag: "abc", sequencer: "0055AED6DCD90281E5", ...extra },
        },
      },
    ],
  };
}

function snsWrapped(payload: unknown) {
  return JSON.stringify({
    Type: "Notification",
    MessageId: "m",
    TopicArn: "arn",
    Message: JSON.stringify(payload),
  });
}

describe("Function: parseStageMessage", () => {
  it("reads an SNS-wrapped S3 event and decodes its key", () => {
    const [event] = parseStageMessage(snsWrapped(s3Event("drops/x/my+file%281%29.pdf")));
    expect(event?.version).toMatchObject({
      bucket: "ingest",
      key: "drops/x/my file(1).pdf",
      size: 12,
      eTag: "abc",
    });
    expect(event?.version.sequencer).toHaveLength(64);
  });

  it("reads a raw S3 event body", () => {
    const events = parseStageMessage(JSON.stringify(s3Event("drops/x/a.txt", { versionId: "v1" })));
    expect(events).toHaveLength(1);
    expect(events[0]?.version.versionId).toBe("v1");
  });

  it("ignores s3:TestEvent, raw or wrapped", () => {
    const test = { Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "ingest" };
    expect(parseStageMessage(JSON.stringify(test))).toEqual([]);
    expect(parseStageMessage(snsWrapped(test))).toEqual([]);
  });

  it("skips event kinds other than ObjectCreated", () => {
    const removed = s3Event("drops/x/a.txt");
    (removed.Records[0] as { eventName: string }).eventName = "ObjectRemoved:Delete";
    expect(parseStageMessage(JSON.stringify(removed))).toEqual([]);
  });

  it.each([
    ["not JSON", "{"],
    ["JSON of another shape", JSON.stringify({ hello: "world" })],
    ["an SNS message that is not JSON", JSON.stringify({ Type: "Notification", Message: "oops" })],
    [
      "a record without a sequencer",
      JSON.stringify({
        Records: [{ eventName: "ObjectCreated:Put", s3: { bucket: { name: "b" }, object: { key: "k" } } }],
      }),
    ],
    ["a key with broken encoding", JSON.stringify(s3Event("drops/%E2%82"))],
  ])("throws MalformedEventError for %s", (_what, body) => {
    expect(() => parseStageMessage(body)).toThrow(MalformedEventError);
  });
});

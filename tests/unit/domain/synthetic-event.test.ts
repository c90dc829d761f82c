import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseStageMessage, syntheticEvent } from "../../../core/domain/events.ts";
import type { ObjectVersion } from "../../../core/domain/types.ts";

const hex = fc.stringMatching(/^[0-9A-F]{1,64}$/);

/** Object versions as the pipeline records them: padded sequencer, unquoted ETag, never the `null` version id. */
const version: fc.Arbitrary<ObjectVersion> = fc.record(
  {
    bucket: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{2,62}$/),
    key: fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }),
    versionId: fc.string({ minLength: 1, maxLength: 40 }).filter((id) => id !== "null"),
    eTag: fc.stringMatching(/^[0-9a-f]{32}(-[0-9]{1,4})?$/),
    sequencer: hex.map((s) => s.padStart(64, "0")),
    size: fc.nat(),
  },
  { requiredKeys: ["bucket", "key", "sequencer", "size"] },
);

describe("Function: syntheticEvent", () => {
  it("is read back by parseStageMessage as exactly the object version it re-drives", () => {
    fc.assert(
      fc.property(version, (v) => {
        const events = parseStageMessage(syntheticEvent({ version: v }));
        expect(events).toHaveLength(1);
        expect(events[0]?.version).toEqual(v);
        expect(events[0]?.eventName.startsWith("ObjectCreated:")).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("survives the SNS envelope the fan-out topic wraps it in", () => {
    const v: ObjectVersion = {
      bucket: "ingest",
      key: "drops/scanner/a b+c/ü (1).pdf",
      eTag: "0123456789abcdef0123456789abcdef",
      sequencer: `${"0".repeat(46)}0055AED6DCD90281E5`,
      size: 12,
    };
    const body = JSON.stringify({ Type: "Notification", Message: syntheticEvent({ version: v }) });
    expect(parseStageMessage(body).map((e) => e.version)).toEqual([{ ...v, versionId: undefined }]);
  });

  it("stamps the time it was made, not the version's", () => {
    const at = new Date("2026-01-02T03:04:05.000Z");
    const v: ObjectVersion = { bucket: "ingest", key: "k", sequencer: `${"0".repeat(63)}1`, size: 0 };
    expect(parseStageMessage(syntheticEvent({ version: v }, at))[0]?.eventTime).toBe(at.toISOString());
  });
});

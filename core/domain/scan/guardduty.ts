/**
 * GuardDuty Malware Protection for S3 as a scan engine. GuardDuty scans the object on its own after it lands and
 * publishes a "GuardDuty Malware Protection Object Scan Result" event on the default EventBridge bus; this maps
 * that event to an engine result. NO_THREATS_FOUND is clean; THREATS_FOUND is infected (`GuardDuty.<threat>`);
 * UNSUPPORTED (e.g. a password-protected archive), ACCESS_DENIED and FAILED are errors, never clean.
 */
import { z } from "zod";
import type { EngineResult } from "../types.ts";

export const GUARDDUTY_DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result";

const resultEvent = z.object({
  source: z.literal("aws.guardduty"),
  "detail-type": z.literal(GUARDDUTY_DETAIL_TYPE),
  time: z.string().optional(),
  detail: z.object({
    scanStatus: z.string(),
    resourceType: z.string().optional(),
    s3ObjectDetails: z.object({
      bucketName: z.string().min(1),
      objectKey: z.string().min(1),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
    }),
    scanResultDetails: z.object({
      scanResultStatus: z.string(),
      threats: z.array(z.object({ name: z.string() })).nullish(),
    }),
  }),
});

export type GuardDutyResultEvent = z.output<typeof resultEvent>;

export class GuardDutyEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GuardDutyEventError";
  }
}

/** Parses an EventBridge event (as delivered in an SQS message body), or says what is wrong with it. */
export function parseGuardDutyEvent(body: string): GuardDutyResultEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new GuardDutyEventError("GuardDuty result message is not JSON");
  }
  const parsed = resultEvent.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GuardDutyEventError(
      `Not a GuardDuty object scan result: ${issue?.path.join(".") || "event"} ${issue?.message ?? "is invalid"}`,
    );
  }
  return parsed.data;
}

/** Stable finding names: `GuardDuty.` and the threat name with anything but letters, digits, `.-_` as `_`. */
const findingName = (threat: string) => `GuardDuty.${threat.trim().replace(/[^A-Za-z0-9._-]+/g, "_")}`;

export function guardDutyEngineResult(event: GuardDutyResultEvent): EngineResult {
  const { scanStatus, scanResultDetails } = event.detail;
  const status = scanResultDetails.scanResultStatus;
  switch (status) {
    case "NO_THREATS_FOUND":
      return { engine: "guardduty", status: "clean" };
    case "THREATS_FOUND": {
      const threats = scanResultDetails.threats ?? [];
      return {
        engine: "guardduty",
        status: "infected",
        findings: (threats.length > 0 ? threats : [{ name: "Unnamed" }]).map((t) => ({
          name: findingName(t.name),
          path: "",
        })),
      };
    }
    case "UNSUPPORTED":
      return {
        engine: "guardduty",
        status: "error",
        reason: "unsupported",
        detail: `GuardDuty could not scan the object (${scanStatus}, UNSUPPORTED: e.g. a password-protected archive or a type it does not open)`,
      };
    case "ACCESS_DENIED":
      return {
        engine: "guardduty",
        status: "error",
        reason: "engine-unavailable",
        detail:
          "GuardDuty was denied access to the object (check the protection plan's role and the KMS key policy)",
      };
    default:
      return {
        engine: "guardduty",
        status: "error",
        reason: "internal",
        detail: `GuardDuty scan ended ${scanStatus} with result ${status}`,
      };
  }
}

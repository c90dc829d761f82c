/**
 * GuardDuty Malware Protection in the stack: absent by default; with `guardduty: true`, a plan on the ingest
 * bucket with a scoped service role, its results routed to an encrypted queue and function, and the scan
 * function told to wait for them — with every policy rule kept.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { statementsOf, TYPES, violations } from "../../policy/rules.js";
import { type Recorded, runProgram } from "./harness.ts";

let off: Recorded[];
let on: Recorded[];

beforeAll(async () => {
  ({ resources: off } = await runProgram({}));
  ({ resources: on } = await runProgram({ guardduty: true }));
}, 120_000);

const named = (resources: Recorded[], type: string, name: string) => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};
const variables = (resources: Recorded[], fn: string) =>
  (named(resources, TYPES.fn, fn).inputs.environment as { variables: Record<string, string> }).variables;

describe("Config: guardduty", () => {
  it("creates nothing for GuardDuty by default, and the scan does not wait for it", () => {
    expect(off.filter((r) => r.type.startsWith("aws:guardduty/") || r.name.includes("guardduty"))).toEqual(
      [],
    );
    expect(variables(off, "airlock-scan").AIRLOCK_GUARDDUTY).toBeUndefined();
  });

  it("protects the ingest bucket with a plan whose role reaches only that bucket, its key and the managed rule", () => {
    const plan = named(
      on,
      "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan",
      "airlock-malware-protection",
    );
    const ingest = named(on, "aws:s3/bucket:Bucket", "airlock-ingest");
    expect(plan.inputs.protectedResource).toEqual({ s3Bucket: { bucketName: ingest.state.bucket } });
    const role = named(on, "aws:iam/role:Role", "airlock-guardduty-service-role");
    expect(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement[0].Principal).toEqual({
      Service: "malware-protection-plan.guardduty.amazonaws.com",
    });
    const statements = statementsOf(
      named(on, TYPES.rolePolicy, "airlock-guardduty-service-policy").inputs.policy,
    );
    for (const s of statements) for (const r of s.Resource) expect(r).not.toBe("*");
    expect(statements.find((s) => s.Sid === "ScanAndTag")?.Resource).toEqual([`${ingest.state.arn}/*`]);
    expect(statements.find((s) => s.Sid === "ManagedRule")?.Resource[0]).toMatch(
      /rule\/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3\*$/,
    );
  });

  it("routes the plan's results through an encrypted queue with a DLQ to the GuardDuty function", () => {
    const rule = named(on, "aws:cloudwatch/eventRule:EventRule", "airlock-guardduty-results");
    const pattern = JSON.parse(String(rule.inputs.eventPattern));
    expect(pattern).toMatchObject({
      source: ["aws.guardduty"],
      "detail-type": ["GuardDuty Malware Protection Object Scan Result"],
    });
    const queue = named(on, TYPES.queue, "airlock-guardduty-queue");
    expect(queue.inputs.kmsMasterKeyId).toBeDefined();
    expect(JSON.parse(String(queue.inputs.redrivePolicy)).deadLetterTargetArn).toBe(
      named(on, TYPES.queue, "airlock-guardduty-dlq").state.arn,
    );
    expect(named(on, TYPES.mapping, "airlock-guardduty-mapping").inputs).toMatchObject({
      eventSourceArn: queue.state.arn,
      functionResponseTypes: ["ReportBatchItemFailures"],
    });
    expect(variables(on, "airlock-scan").AIRLOCK_GUARDDUTY).toBe("on");
    expect(
      Object.keys(variables(on, "airlock-guardduty"))
        .filter((k) => k.startsWith("AIRLOCK_"))
        .sort(),
    ).toEqual([
      "AIRLOCK_CLEAN_BUCKET",
      "AIRLOCK_INGEST_BUCKET",
      "AIRLOCK_NOTIFICATIONS_TOPIC_ARN",
      "AIRLOCK_TABLE_NAME",
    ]);
  });

  it("lets GuardDuty and the result function read quarantine, and keeps every policy rule", () => {
    const policy = JSON.stringify(named(on, TYPES.bucketPolicy, "airlock-ingest-policy").inputs.policy);
    expect(policy).toContain(
      String(named(on, "aws:iam/role:Role", "airlock-guardduty-service-role").state.arn),
    );
    expect(policy).toContain(String(named(on, "aws:iam/role:Role", "airlock-guardduty-role").state.arn));
    expect(violations(on)).toEqual([]);
  });
});

/**
 * Every IAM policy the program writes (role policies, drop policies, trust policies, bucket, queue, topic and
 * key policies) checked against AWS's service reference: the actions exist, the resources are of the types the
 * actions are authorized on, the condition keys are ones the actions support.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type Recorded, runProgram } from "./harness.ts";
import { lintPolicy, lintResources, policyDocuments } from "./iam-lint.ts";

let dev: Recorded[];
let full: Recorded[];

beforeAll(async () => {
  ({ resources: dev } = await runProgram());
  ({ resources: full } = await runProgram({
    guardduty: true,
    console: true,
    objectLock: true,
    ocr: "required",
    notificationEmails: ["team@example.com"],
    clamav: true,
    scanVpcId: "vpc-0a1b2c3d",
    scanSubnetIds: ["subnet-0aaa", "subnet-0bbb"],
    scanBlocklistObject: "s3://security-lists/airlock/blocklist.txt",
    rescanFailedAfterMinutes: 30,
  }));
}, 120_000);

describe("IAM: every policy of the stack against AWS's service reference", () => {
  it("lints every kind of document the program writes", () => {
    const kinds = new Set(policyDocuments(full).map((d) => d.kind));
    expect([...kinds].sort()).toEqual(["identity", "key", "resource", "trust"]);
    expect(policyDocuments(full).length).toBeGreaterThan(30);
  });

  it("finds nothing wrong in the dev stack", async () => {
    expect(await lintResources(dev)).toEqual([]);
  });

  it("finds nothing wrong with every option on", async () => {
    expect(await lintResources(full)).toEqual([]);
  });
});

describe("IAM lint: it catches what it is for", () => {
  const doc = (statement: Record<string, unknown>) => ({ Version: "2012-10-17", Statement: [statement] });

  it("reports a condition key the action does not support (GuardDuty's role before the split)", async () => {
    const problems = await lintPolicy(
      "guardduty",
      "identity",
      doc({
        Effect: "Allow",
        Action: ["events:PutRule", "events:DescribeRule", "events:ListTargetsByRule"],
        Resource: [
          "arn:aws:events:us-east-1:123456789012:rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*",
        ],
        Condition: { StringLike: { "events:ManagedBy": "malware-protection-plan.guardduty.amazonaws.com" } },
      }),
    );
    expect(problems).toEqual([
      "guardduty statement 0: events:DescribeRule does not support the condition key events:ManagedBy",
      "guardduty statement 0: events:ListTargetsByRule does not support the condition key events:ManagedBy",
    ]);
  });

  it("reports an action that does not exist and a resource of the wrong type", async () => {
    const problems = await lintPolicy(
      "x",
      "identity",
      doc({
        Effect: "Allow",
        Action: ["s3:GetObjectVersions", "s3:ListBucket"],
        Resource: ["arn:aws:s3:::airlock-ingest-1234567/*"],
      }),
    );
    expect(problems).toEqual([
      "x statement 0: s3:GetObjectVersions is not an IAM action",
      "x statement 0: arn:aws:s3:::airlock-ingest-1234567/* is none of s3:ListBucket's resource types (accesspoint, bucket)",
    ]);
  });

  it("reports a wildcard resource for an action that has resource types, and a resource for one that has none", async () => {
    const problems = await lintPolicy(
      "y",
      "identity",
      doc({
        Effect: "Allow",
        Action: ["sqs:SendMessage", "xray:PutTraceSegments"],
        Resource: ["*", "arn:aws:sqs:us-east-1:123456789012:q"],
      }),
    );
    expect(problems).toEqual([
      'y statement 0: sqs:SendMessage on "*", though it is authorized on queue',
      'y statement 0: xray:PutTraceSegments only accepts Resource "*", not arn:aws:sqs:us-east-1:123456789012:q',
    ]);
  });
});

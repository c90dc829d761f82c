/**
 * Resource-graph invariants for what mocks that echo inputs cannot show and AWS refuses or silently breaks:
 * each one names the finding it keeps from coming back.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../infra/config.ts";
import { environmentBound, LAMBDA_ENV_MAX_BYTES } from "../../infra/lambda.ts";
import { INGEST_PREFIXES } from "../../infra/pipeline.ts";
import { environmentBytes, statementsOf, TYPES } from "../../policy/rules.js";
import { type Recorded, runProgram } from "./harness.ts";

const FULL = {
  guardduty: true,
  console: true,
  objectLock: true,
  ocr: "required",
  notificationEmails: ["team@example.com"],
  alertEmails: ["security@example.com"],
  alarmEmail: "oncall@example.com",
  clamav: true,
  scanVpcId: "vpc-0a1b2c3d",
  scanSubnetIds: ["subnet-0aaa", "subnet-0bbb"],
  rescanFailedAfterMinutes: 30,
  scanBlocklistObject: "s3://security-lists/airlock/blocklist.txt",
};

let dev: Recorded[];
let full: Recorded[];

beforeAll(async () => {
  ({ resources: dev } = await runProgram());
  ({ resources: full } = await runProgram(FULL));
}, 120_000);

const ofType = (rs: Recorded[], type: string) => rs.filter((r) => r.type === type);
const one = (rs: Recorded[], type: string, name: string) => {
  const found = rs.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};

/** Everything `r` waits for, directly or not. */
function ancestors(rs: Recorded[], r: Recorded): Set<string> {
  const byUrn = new Map(rs.map((x) => [x.urn, x]));
  const seen = new Set<string>();
  const stack = [...r.dependencies];
  while (stack.length > 0) {
    const urn = stack.pop() as string;
    if (seen.has(urn)) continue;
    seen.add(urn);
    stack.push(...(byUrn.get(urn)?.dependencies ?? []));
  }
  return seen;
}

const BUCKET_CONFIGURATION = [
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketNotification:BucketNotification",
];

describe("#4 Every bucket's configuration is applied one change at a time", () => {
  it.each([
    ["dev", () => dev],
    ["every option on", () => full],
  ])("orders all configuration resources of each bucket in a chain (%s)", (_, run) => {
    const rs = run();
    for (const bucket of ofType(rs, TYPES.bucket)) {
      const configuring = rs.filter(
        (r) =>
          (BUCKET_CONFIGURATION.includes(r.type) || r.type.startsWith("aws:guardduty/")) &&
          (r.propertyDependencies?.bucket?.includes(bucket.urn) ||
            JSON.stringify(r.propertyDependencies?.protectedResource ?? []).includes(bucket.urn)),
      );
      expect(configuring.length, bucket.name).toBeGreaterThanOrEqual(4);
      for (const a of configuring)
        for (const b of configuring) {
          if (a === b) continue;
          const ordered = ancestors(rs, a).has(b.urn) || ancestors(rs, b).has(a.urn);
          expect(ordered, `${a.name} and ${b.name} could be applied at once`).toBe(true);
        }
    }
  });
});

describe("#6 With GuardDuty, the ingest notification keeps EventBridge delivery on", () => {
  it("sets eventbridge exactly when GuardDuty protects the bucket", () => {
    expect(one(dev, TYPES.notification, "airlock-ingest-events").inputs.eventbridge).toBe(false);
    expect(one(full, TYPES.notification, "airlock-ingest-events").inputs.eventbridge).toBe(true);
  });

  it("creates the plan after the notification (the plan turns EventBridge on itself)", () => {
    const plan = one(
      full,
      "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan",
      "airlock-malware-protection",
    );
    expect(ancestors(full, plan).has(one(full, TYPES.notification, "airlock-ingest-events").urn)).toBe(true);
  });
});

describe("#14 Only files become verdicts: GuardDuty's validation object raises no event", () => {
  it("notifies for uploads/ and drops/ keys only", () => {
    const topics = one(full, TYPES.notification, "airlock-ingest-events").inputs.topics as {
      filterPrefix?: string;
    }[];
    const notified = (key: string) =>
      topics.some((t) => t.filterPrefix !== undefined && key.startsWith(t.filterPrefix));
    expect(topics.map((t) => t.filterPrefix)).toEqual([...INGEST_PREFIXES]);
    expect(notified("uploads/01j9zq3m4k5n6p7r8s9t0v1w2x/report.pdf")).toBe(true);
    expect(notified("drops/billing/2026/11/invoices.csv")).toBe(true);
    expect(notified("malware-protection-resource-validation-object")).toBe(false);
  });
});

describe("#5 Every function's environment fits Lambda's 4 KB, with the ARNs AWS will give", () => {
  it("measures the real environments of every function under 4 KB, and the preview bound above each", () => {
    for (const fn of ofType(full, TYPES.fn)) {
      const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
      expect(environmentBytes(fn), fn.name).toBeLessThanOrEqual(LAMBDA_ENV_MAX_BYTES);
      expect(environmentBound(variables), fn.name).toBeGreaterThanOrEqual(environmentBytes(fn));
    }
  });

  it("refuses at preview an inline blocklist that would not fit, and says what to do instead", async () => {
    const digests = Array.from({ length: 60 }, (_, i) => `${i.toString(16).padStart(64, "a")} Leak.${i}`);
    await expect(runProgram({ scanBlocklist: digests })).rejects.toThrow(
      /airlock-scan: its environment may reach \d+ bytes, over Lambda's 4096; .*scanBlocklistObject/,
    );
    // What fits is kept inline.
    const { resources } = await runProgram({ scanBlocklist: digests.slice(0, 10) });
    const scan = one(resources, TYPES.fn, "airlock-scan");
    expect(
      (scan.inputs.environment as { variables: Record<string, string> }).variables.AIRLOCK_SCAN_BLOCKLIST,
    ).toContain("Leak.9");
  }, 60_000);
});

describe("#3 Names that AWS requires unique per account and region are stack-scoped", () => {
  it("shares no explicitly set physical name between two stacks of the same account", async () => {
    const { resources: prod } = await runProgram(FULL, { stack: "prod" });
    const explicit = (rs: Recorded[]) =>
      new Set(
        rs.flatMap((r) =>
          ["name", "bucket", "family", "domain", "namePrefix"]
            .map((k) => r.inputs[k])
            .filter((v): v is string => typeof v === "string" && !r.type.startsWith("aws:apigatewayv2/stage"))
            .map((v) => `${r.type} ${v}`),
        ),
      );
    const shared = [...explicit(full)].filter((n) => explicit(prod).has(n));
    expect(shared).toEqual([]);
    expect(one(prod, "aws:kms/alias:Alias", "airlock-key-alias").inputs.name).toBe("alias/airlock-prod");
  }, 60_000);
});

describe("#8 EventBridge can encrypt into the GuardDuty queues, and what it cannot deliver is kept", () => {
  it("grants events.amazonaws.com the data key without conditions EventBridge does not send on this path", () => {
    const key = one(full, "aws:kms/key:Key", "airlock-key");
    const forEvents = statementsOf(key.inputs.policy).filter((s) =>
      JSON.stringify(s.Principal).includes("events.amazonaws.com"),
    );
    expect(forEvents).toHaveLength(1);
    expect(forEvents[0]?.Action.sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    expect(JSON.stringify(forEvents[0]?.Condition ?? {})).not.toMatch(/aws:Source(Account|Arn)/);
  });

  it("lets only the results rule send to the results queue and its dead-letter queue", () => {
    const rule = one(full, "aws:cloudwatch/eventRule:EventRule", "airlock-guardduty-results");
    for (const name of ["airlock-guardduty-queue-policy", "airlock-guardduty-undelivered-policy"]) {
      const [statement] = statementsOf(one(full, "aws:sqs/queuePolicy:QueuePolicy", name).inputs.policy);
      expect(statement?.Condition).toEqual({ ArnEquals: { "aws:SourceArn": rule.state.arn } });
    }
  });

  it("gives the rule target a dead-letter queue and alarms on failed invocations and on that queue", () => {
    const target = one(full, "aws:cloudwatch/eventTarget:EventTarget", "airlock-guardduty-results-target");
    const undelivered = one(full, TYPES.queue, "airlock-guardduty-undelivered");
    expect(target.inputs.deadLetterConfig).toEqual({ arn: undelivered.state.arn });
    const alarms = ofType(full, TYPES.alarm).map((a) => a.inputs);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        namespace: "AWS/Events",
        metricName: "FailedInvocations",
        dimensions: {
          RuleName: one(full, "aws:cloudwatch/eventRule:EventRule", "airlock-guardduty-results").state.name,
        },
      }),
    );
    expect(alarms).toContainEqual(
      expect.objectContaining({
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: undelivered.state.name },
      }),
    );
  });
});

describe("#12 Alarms fire when a stage gives up and when a notification is not delivered", () => {
  const alarmsOf = (rs: Recorded[]) => ofType(rs, TYPES.alarm).map((a) => a.inputs);

  it("alarms on any invocation of the dead-letter function, which drains the DLQs at once", () => {
    const deadLetter = one(full, TYPES.fn, "airlock-dead-letter");
    expect(alarmsOf(full)).toContainEqual(
      expect.objectContaining({
        namespace: "AWS/Lambda",
        metricName: "Invocations",
        dimensions: { FunctionName: deadLetter.state.name },
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
      }),
    );
  });

  it("counts the files the sweeper fails from its log, and alarms on them", () => {
    const filter = one(full, "aws:cloudwatch/logMetricFilter:LogMetricFilter", "airlock-sweeper-failed");
    expect(filter.inputs.logGroupName).toBe(one(full, TYPES.logGroup, "airlock-sweeper-logs").state.name);
    expect(filter.inputs.pattern).toBe('{ $.message = "Sweep finished" && $.failed > 0 }');
    const metric = filter.inputs.metricTransformation as { namespace: string; name: string };
    expect(alarmsOf(full)).toContainEqual(
      expect.objectContaining({ namespace: metric.namespace, metricName: metric.name }),
    );
  });

  it("gives every SNS subscription but the alarm email a redrive queue, and alarms on each queue and each topic", () => {
    const alarms = alarmsOf(full);
    for (const sub of ofType(full, TYPES.subscription).filter((s) => s.name !== "airlock-alarm-email")) {
      const target = JSON.parse(String(sub.state.redrivePolicy)).deadLetterTargetArn as string;
      const queue = ofType(full, TYPES.queue).find((q) => q.state.arn === target);
      expect(queue, sub.name).toBeDefined();
      expect(alarms).toContainEqual(
        expect.objectContaining({ dimensions: { QueueName: queue?.state.name }, threshold: 0 }),
      );
    }
    for (const topic of ["airlock-verdicts", "airlock-fanout", "airlock-ocr"]) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          namespace: "AWS/SNS",
          metricName: "NumberOfNotificationsFailed",
          dimensions: { TopicName: one(full, TYPES.topic, topic).state.name },
        }),
      );
    }
  });
});

describe("#13 Every queue consumer has a concurrency cap", () => {
  it("sets maximumConcurrency from the config on every event source mapping", async () => {
    for (const m of ofType(full, TYPES.mapping))
      expect(m.inputs.scalingConfig, m.name).toEqual({ maximumConcurrency: 5 });
    const { resources } = await runProgram({ maxConcurrency: 20 });
    for (const m of ofType(resources, TYPES.mapping))
      expect(m.inputs.scalingConfig).toEqual({ maximumConcurrency: 20 });
    await expect(runProgram({ maxConcurrency: 1 })).rejects.toThrow(
      /maxConcurrency: Lambda accepts 2 to 1000/,
    );
  }, 60_000);
});

describe("#15 Secure and not costly by default", () => {
  it("lets only administrators create Cognito users", () => {
    expect(
      one(dev, "aws:cognito/userPool:UserPool", "airlock-api-users").inputs.adminCreateUserConfig,
    ).toEqual({
      allowAdminCreateUserOnly: true,
    });
  });

  it("asks CloudFront for TLS 1.2 only where it can give it: with the console's own name and certificate", async () => {
    const cdn = one(full, "aws:cloudfront/distribution:Distribution", "airlock-console-cdn");
    expect(cdn.inputs.viewerCertificate).toEqual({ cloudfrontDefaultCertificate: true });
    const cert = "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    const { resources, outputs } = await runProgram({
      console: true,
      consoleDomain: "files.example.com",
      consoleCertificateArn: cert,
    });
    const own = one(resources, "aws:cloudfront/distribution:Distribution", "airlock-console-cdn");
    expect(own.inputs).toMatchObject({
      aliases: ["files.example.com"],
      viewerCertificate: {
        acmCertificateArn: cert,
        sslSupportMethod: "sni-only",
        minimumProtocolVersion: "TLSv1.2_2021",
      },
    });
    expect(outputs.consoleUrl).toBe("https://files.example.com/");
    await expect(runProgram({ console: true, consoleDomain: "files.example.com" })).rejects.toThrow(
      /consoleDomain and consoleCertificateArn: set both/,
    );
  }, 60_000);

  it("keeps the cursor secret out of the API's environment: an SSM SecureString under the stack key", () => {
    const secret = String(
      one(dev, "random:index/randomPassword:RandomPassword", "airlock-api-cursor-secret").state.result,
    );
    const api = one(dev, TYPES.fn, "airlock-api-handler");
    expect(JSON.stringify(api.inputs.environment)).not.toContain(secret);
    const parameter = one(dev, "aws:ssm/parameter:Parameter", "airlock-api-cursor-secret-parameter");
    expect(parameter.inputs).toMatchObject({
      type: "SecureString",
      keyId: one(dev, "aws:kms/key:Key", "airlock-key").state.arn,
    });
    // The value is a Pulumi secret (encrypted in the state), and is the generated secret.
    expect(JSON.stringify(parameter.inputs.value)).toContain(secret);
    const variables = (api.inputs.environment as { variables: Record<string, string> }).variables;
    expect(variables.AIRLOCK_CURSOR_SECRET_PARAMETER).toBe(parameter.state.name);
    const reads = statementsOf(one(dev, TYPES.rolePolicy, "airlock-api-handler-policy").inputs.policy).find(
      (s) => s.Action.includes("ssm:GetParameter"),
    );
    expect(reads?.Resource).toEqual([parameter.state.arn]);
  });

  it("expires noncurrent versions of verified files", () => {
    const rules = one(
      dev,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "airlock-clean-lifecycle",
    ).inputs.rules as { noncurrentVersionExpiration?: { noncurrentDays: number } }[];
    expect(rules.some((r) => r.noncurrentVersionExpiration?.noncurrentDays === 30)).toBe(true);
  });

  it("publishes no source maps: none in the console bucket, none loaded by the functions", () => {
    const keys = ofType(full, "aws:s3/bucketObjectv2:BucketObjectv2").map((o) => String(o.inputs.key));
    expect(keys).toContain("index.html");
    expect(keys.filter((k) => k.endsWith(".map"))).toEqual([]);
    for (const fn of ofType(full, TYPES.fn))
      expect(JSON.stringify(fn.inputs.environment), fn.name).not.toContain("enable-source-maps");
  });

  it("names the region in the committed dev stack", () => {
    const config = (parse(readFileSync("Pulumi.dev.yaml", "utf8")) as { config: Record<string, unknown> })
      .config;
    expect(config["aws:region"]).toBe("us-east-1");
  });

  it("refuses OCR at preview in a region where Textract has no endpoint", async () => {
    pulumi.runtime.setAllConfig({ "airlock:ocr": "best-effort" });
    expect(() => loadConfig(new pulumi.Config("airlock"), "eu-north-1")).toThrow(
      /ocr: best-effort, but Amazon Textract has no endpoint in eu-north-1/,
    );
    expect(loadConfig(new pulumi.Config("airlock"), "eu-west-1").ocr).toBe("best-effort");
  });
});

describe("#10 Every role that reads objects of a bucket may list it, so that a missing object is a 404", () => {
  it("pairs s3:GetObject on <bucket>/* with s3:ListBucket on <bucket>, for every role", () => {
    for (const policy of ofType(full, TYPES.rolePolicy)) {
      const statements = statementsOf(policy.inputs.policy);
      const allowed = (action: string) =>
        statements
          .filter((s) => s.Effect === "Allow" && s.Action.includes(action))
          .flatMap((s) => s.Resource);
      const listable = new Set(allowed("s3:ListBucket"));
      for (const resource of allowed("s3:GetObject")) {
        if (!resource.endsWith("/*") || resource.includes("security-lists")) continue;
        expect(listable.has(resource.slice(0, -2)), `${policy.name} reads ${resource}`).toBe(true);
      }
    }
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { createTableInput } from "../../core/adapters/dynamo-table.ts";
import { STAGES } from "../../core/domain/types.ts";
import { HANDLER_ENV } from "../../core/runtime/env.ts";
import { ROUTES } from "../../infra/api.ts";
import { RULES, type StackResource, statementsOf, TYPES, violations } from "../../policy/rules.js";
import { type Recorded, runProgram } from "./harness.ts";

let resources: Recorded[];
let outputs: Record<string, unknown>;

beforeAll(async () => {
  ({ resources, outputs } = await runProgram());
}, 60_000);

const ofType = (type: string) => resources.filter((r) => r.type === type);
const named = (type: string, name: string) => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};
const arnOf = (type: string, name: string) => String(named(type, name).state.arn);

describe("Program: the dev stack", () => {
  it("breaks none of Airlock's policies", () => {
    expect(violations(resources)).toEqual([]);
  });

  it("exports the API URL, bucket names, table name and topic ARNs", () => {
    expect(outputs).toMatchObject({
      apiUrl: expect.stringContaining("execute-api"),
      ingestBucket: expect.any(String),
      cleanBucket: expect.any(String),
      tableName: expect.any(String),
      notificationsTopicArn: expect.stringMatching(/^arn:aws:sns:/),
      fanoutTopicArn: expect.stringMatching(/^arn:aws:sns:/),
    });
    expect(Object.keys(outputs.dropPolicyArns as object)).toEqual(["billing", "erp"]);
  });

  it("builds one component per deployable unit", () => {
    const components = resources.filter((r) => r.type.startsWith("airlock:")).map((r) => r.type);
    expect(components.sort()).toEqual([
      "airlock:api:Api",
      "airlock:drops:Drops",
      "airlock:notifications:Notifications",
      "airlock:observability:Observability",
      "airlock:ocr:Ocr",
      "airlock:pipeline:Pipeline",
      "airlock:storage:BucketAccess",
      "airlock:storage:Storage",
    ]);
  });
});

describe("Component: Storage", () => {
  it("has two private, KMS-encrypted, versioned, TLS-only buckets", () => {
    expect(ofType(TYPES.bucket)).toHaveLength(2);
    for (const rule of RULES.filter((r) => r.name.startsWith("airlock-buckets")))
      expect(rule.check(resources)).toEqual([]);
  });

  it("lets only the pipeline's roles read quarantined objects", () => {
    const policy = named(TYPES.bucketPolicy, "airlock-ingest-policy");
    const deny = statementsOf(policy.inputs.policy).find(
      (s) => s.Sid === "QuarantineReadableOnlyByThePipeline",
    );
    const readers = deny?.Condition?.ArnNotLike?.["aws:PrincipalArn"] as string[];
    expect(readers.sort()).toEqual(
      ["validate", "scan", "metadata", "dead-letter", "sweeper", "ocr"]
        .map((n) => arnOf("aws:iam/role:Role", `airlock-${n}-role`))
        .sort(),
    );
  });

  it("expires held files, aborts incomplete uploads and tiers the clean bucket", () => {
    const ingest = named(
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "airlock-ingest-lifecycle",
    );
    const rules = ingest.inputs.rules as {
      id: string;
      expiration?: { days: number };
      filter?: { tag?: { value: string } };
    }[];
    expect(rules.filter((r) => r.filter?.tag).map((r) => [r.filter?.tag?.value, r.expiration?.days])).toEqual(
      [
        ["REJECTED", 7],
        ["INFECTED", 7],
        ["FAILED", 7],
      ],
    );
    const clean = named(
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "airlock-clean-lifecycle",
    );
    expect(JSON.stringify(clean.inputs.rules)).toContain("GLACIER_IR");
  });

  it("keeps files in a table with the API's indexes, PITR, encryption and TTL", () => {
    const table = named(TYPES.table, "airlock-files");
    expect((table.inputs.globalSecondaryIndexes as { name: string }[]).map((g) => g.name)).toEqual([
      "byOwner",
      "byStatus",
    ]);
    expect(table.inputs).toMatchObject({
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      ttl: { attributeName: "expiresAt", enabled: true },
    });
    // The indexes project what their queries filter on, as the local stack and the tests create them.
    const local = createTableInput("t").GlobalSecondaryIndexes ?? [];
    expect(table.inputs.globalSecondaryIndexes).toEqual(
      local.map((index) => ({
        name: index.IndexName,
        hashKey: index.KeySchema?.[0]?.AttributeName,
        rangeKey: index.KeySchema?.[1]?.AttributeName,
        projectionType: index.Projection?.ProjectionType,
        ...(index.Projection?.NonKeyAttributes
          ? { nonKeyAttributes: index.Projection.NonKeyAttributes }
          : {}),
      })),
    );
    expect(local.map((index) => index.Projection?.ProjectionType)).toEqual(["KEYS_ONLY", "INCLUDE"]);
  });
});

describe("Component: Pipeline", () => {
  it("wires S3 → SNS → SQS → Lambda for all three stages", () => {
    const fanout = arnOf(TYPES.topic, "airlock-fanout");
    const notification = named(TYPES.notification, "airlock-ingest-events");
    expect(notification.inputs.topics).toEqual([
      { topicArn: fanout, events: ["s3:ObjectCreated:*"], filterPrefix: "uploads/" },
      { topicArn: fanout, events: ["s3:ObjectCreated:*"], filterPrefix: "drops/" },
    ]);
    for (const stage of STAGES) {
      const queueArn = arnOf(TYPES.queue, `airlock-${stage}`);
      const subscription = named(TYPES.subscription, `airlock-${stage}-subscription`);
      expect(subscription.inputs).toMatchObject({
        topic: fanout,
        protocol: "sqs",
        endpoint: queueArn,
        rawMessageDelivery: false,
      });
      const mapping = named(TYPES.mapping, `airlock-${stage}-mapping`);
      expect(mapping.inputs).toMatchObject({
        eventSourceArn: queueArn,
        functionName: arnOf(TYPES.fn, `airlock-${stage}`),
        functionResponseTypes: ["ReportBatchItemFailures"],
      });
    }
  });

  it("gives every stage queue a DLQ after the configured receives and a visibility timeout above the function timeout", () => {
    for (const stage of STAGES) {
      const queue = named(TYPES.queue, `airlock-${stage}`);
      const redrive = JSON.parse(String(queue.inputs.redrivePolicy));
      expect(redrive).toEqual({
        deadLetterTargetArn: arnOf(TYPES.queue, `airlock-${stage}-dlq`),
        maxReceiveCount: 3,
      });
      const fn = named(TYPES.fn, `airlock-${stage}`);
      expect(Number(queue.inputs.visibilityTimeoutSeconds)).toBeGreaterThan(Number(fn.inputs.timeout));
    }
  });

  it("lets each stage role reach only its own queue, the table and the buckets it needs", () => {
    for (const stage of STAGES) {
      const statements = statementsOf(named(TYPES.rolePolicy, `airlock-${stage}-policy`).inputs.policy);
      const sqs = statements.filter((s) => s.Action.some((a) => a.startsWith("sqs:")));
      expect(sqs.flatMap((s) => s.Resource)).toEqual([arnOf(TYPES.queue, `airlock-${stage}`)]);
      const s3 = statements
        .filter((s) => s.Action.some((a) => a.startsWith("s3:")))
        .flatMap((s) => s.Resource);
      const buckets = [arnOf(TYPES.bucket, "airlock-clean"), arnOf(TYPES.bucket, "airlock-ingest")];
      expect([...new Set(s3)].sort()).toEqual([...buckets, ...buckets.map((b) => `${b}/*`)].sort());
      // Promotion withdraws a copy by its version id when it is not the judged bytes or its record moved on.
      const promote = statements.find((s) => s.Sid === "Promote");
      expect(promote?.Action).toEqual(expect.arrayContaining(["s3:PutObject", "s3:DeleteObjectVersion"]));
      const dynamo = statements
        .filter((s) => s.Action.some((a) => a.startsWith("dynamodb:")))
        .flatMap((s) => s.Resource);
      expect(dynamo).toEqual([arnOf(TYPES.table, "airlock-files")]);
    }
  });

  it("sets exactly the variables each handler validates at cold start", () => {
    const handlerOf: Record<string, keyof typeof HANDLER_ENV> = {
      "airlock-validate": "validate",
      "airlock-scan": "scan",
      "airlock-metadata": "metadata",
      "airlock-dead-letter": "deadLetter",
      "airlock-sweeper": "sweeper",
      "airlock-ocr": "ocr",
      "airlock-api-handler": "api",
    };
    for (const [name, handler] of Object.entries(handlerOf)) {
      const variables = (named(TYPES.fn, name).inputs.environment as { variables: Record<string, string> })
        .variables;
      const airlockVars = Object.keys(variables).filter((k) => k.startsWith("AIRLOCK_"));
      // The optional variables the dev stack sets: the API's secret parameter, the sweeper's reconciler.
      const optional =
        {
          api: ["AIRLOCK_CURSOR_SECRET_PARAMETER"],
          sweeper: ["AIRLOCK_RECONCILE"],
        }[handler as string] ?? [];
      expect(airlockVars.sort()).toEqual([...HANDLER_ENV[handler], ...optional].sort());
      expect(named(TYPES.fn, name).inputs).toMatchObject({
        runtime: "nodejs24.x",
        architectures: ["arm64"],
        handler: "index.handler",
      });
    }
  });

  it("feeds every dead-letter queue to the dead-letter function and schedules the sweeper", () => {
    for (const stage of STAGES) {
      expect(named(TYPES.mapping, `airlock-${stage}-dlq-mapping`).inputs).toMatchObject({
        eventSourceArn: arnOf(TYPES.queue, `airlock-${stage}-dlq`),
        functionName: arnOf(TYPES.fn, "airlock-dead-letter"),
      });
    }
    expect(
      named("aws:cloudwatch/eventRule:EventRule", "airlock-sweep-schedule").inputs.scheduleExpression,
    ).toBe("rate(5 minutes)");
  });
});

describe("ClamAV: off by default", () => {
  it("runs no clamd service and keeps the scan function out of any VPC", () => {
    expect(resources.filter((r) => r.type.startsWith("aws:ecs/") || r.type.startsWith("aws:lb/"))).toEqual(
      [],
    );
    const scan = named(TYPES.fn, "airlock-scan");
    expect(scan.inputs.vpcConfig).toBeUndefined();
    const variables = (scan.inputs.environment as { variables: Record<string, string> }).variables;
    expect(Object.keys(variables).filter((k) => k.startsWith("AIRLOCK_CLAMD_"))).toEqual([]);
  });
});

describe("Component: Ocr", () => {
  const policyOf = (name: string) => statementsOf(named(TYPES.rolePolicy, name).inputs.policy);

  it("lets Textract publish completions to an encrypted topic through its own role, and nothing else", () => {
    const topic = named(TYPES.topic, "airlock-ocr");
    expect(topic.inputs.kmsMasterKeyId).toBe(arnOf("aws:kms/key:Key", "airlock-key"));
    const role = named("aws:iam/role:Role", "airlock-textract-role");
    const trust = JSON.parse(String(role.inputs.assumeRolePolicy));
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "textract.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
      },
    ]);
    expect(policyOf("airlock-textract-policy").map((s) => [s.Action, s.Resource])).toEqual([
      [["sns:Publish"], [String(topic.state.arn)]],
      [["kms:GenerateDataKey", "kms:Decrypt"], [arnOf("aws:kms/key:Key", "airlock-key")]],
    ]);
  });

  it("delivers completions to an encrypted queue with a DLQ and an alarm, consumed by the continuation", () => {
    expect(named(TYPES.subscription, "airlock-ocr-subscription").inputs).toMatchObject({
      topic: arnOf(TYPES.topic, "airlock-ocr"),
      protocol: "sqs",
      endpoint: arnOf(TYPES.queue, "airlock-ocr-queue"),
    });
    const queue = named(TYPES.queue, "airlock-ocr-queue");
    expect(JSON.parse(String(queue.inputs.redrivePolicy)).deadLetterTargetArn).toBe(
      arnOf(TYPES.queue, "airlock-ocr-dlq"),
    );
    expect(named(TYPES.mapping, "airlock-ocr-mapping").inputs).toMatchObject({
      eventSourceArn: arnOf(TYPES.queue, "airlock-ocr-queue"),
      functionName: arnOf(TYPES.fn, "airlock-ocr"),
      functionResponseTypes: ["ReportBatchItemFailures"],
    });
    expect(ofType(TYPES.alarm).some((a) => a.name.includes("ocr-dlq-not-empty"))).toBe(true);
  });

  it("lets only the metadata stage start Textract work and pass the Textract role", () => {
    const roleArn = arnOf("aws:iam/role:Role", "airlock-textract-role");
    for (const stage of STAGES) {
      const statements = policyOf(`airlock-${stage}-policy`);
      const textract = statements.filter((s) => s.Action.some((a) => a.startsWith("textract:")));
      const passRole = statements.filter((s) => s.Action.includes("iam:PassRole"));
      if (stage === "metadata") {
        expect(textract.flatMap((s) => s.Action).sort()).toEqual([
          "textract:DetectDocumentText",
          "textract:StartDocumentTextDetection",
        ]);
        expect(passRole.flatMap((s) => s.Resource)).toEqual([roleArn]);
      } else {
        expect(textract).toEqual([]);
        expect(passRole).toEqual([]);
      }
    }
    const continuation = policyOf("airlock-ocr-policy");
    expect(
      continuation.filter((s) => s.Action.some((a) => a.startsWith("textract:"))).flatMap((s) => s.Action),
    ).toEqual(["textract:GetDocumentTextDetection"]);
    expect(
      continuation.filter((s) => s.Action.some((a) => a.startsWith("sqs:"))).flatMap((s) => s.Resource),
    ).toEqual([arnOf(TYPES.queue, "airlock-ocr-queue")]);
  });

  it("lets the continuation read quarantine, since it may promote", () => {
    const policy = JSON.stringify(named(TYPES.bucketPolicy, "airlock-ingest-policy").inputs.policy);
    expect(policy).toContain(String(named("aws:iam/role:Role", "airlock-ocr-role").state.arn));
  });

  it("sets the OCR mode from the stack config", async () => {
    const { resources: required } = await runProgram({ ocr: "required" });
    const fn = required.find((r) => r.type === TYPES.fn && r.name === "airlock-metadata");
    const variables = (fn?.inputs.environment as { variables?: Record<string, string> } | undefined)
      ?.variables;
    expect(variables?.AIRLOCK_OCR).toBe("required");
    await expect(runProgram({ ocr: "sometimes" })).rejects.toThrow(
      /ocr: must be required, best-effort or off/,
    );
  }, 60_000);
});

describe("Component: Api", () => {
  it("routes every documented route through the JWT authorizer", () => {
    const routes = ofType(TYPES.route);
    expect(routes.map((r) => r.inputs.routeKey).sort()).toEqual([...ROUTES].sort());
    expect(RULES.find((r) => r.name === "airlock-routes-jwt")?.check(resources)).toEqual([]);
  });

  it("creates a Cognito user pool when no issuer is configured", () => {
    expect(ofType("aws:cognito/userPool:UserPool")).toHaveLength(1);
    const authorizer = named("aws:apigatewayv2/authorizer:Authorizer", "airlock-api-jwt");
    expect(String((authorizer.inputs.jwtConfiguration as { issuer: string }).issuer)).toMatch(
      /^https:\/\/cognito-idp\.us-east-1/,
    );
  });

  it("allows CORS only from the configured origins", () => {
    const api = named("aws:apigatewayv2/api:Api", "airlock-api-http");
    expect((api.inputs.corsConfiguration as { allowOrigins: string[] }).allowOrigins).toEqual([
      "http://localhost:5173",
    ]);
    const cors = named("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "airlock-ingest-cors");
    expect((cors.inputs.corsRules as { allowedOrigins: string[] }[])[0]?.allowedOrigins).toEqual([
      "http://localhost:5173",
    ]);
  });
});

describe("Component: Notifications and Observability", () => {
  it("alarms on every dead-letter queue having any message", () => {
    for (const stage of STAGES) {
      const alarm = named(TYPES.alarm, `airlock-${stage}-dlq-not-empty`);
      expect(alarm.inputs).toMatchObject({
        metricName: "ApproximateNumberOfMessagesVisible",
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        dimensions: { QueueName: named(TYPES.queue, `airlock-${stage}-dlq`).state.name },
      });
    }
  });

  it("alarms on errors and throttles of every function", () => {
    const functions = ofType(TYPES.fn).map((f) => f.state.name);
    for (const metric of ["Errors", "Throttles"]) {
      const alarmed = ofType(TYPES.alarm)
        .filter((a) => a.inputs.metricName === metric)
        .map((a) => (a.inputs.dimensions as { FunctionName: string }).FunctionName);
      expect(alarmed.sort()).toEqual(functions.sort());
    }
  });

  it("grants each drop system PutObject under its own prefix only", () => {
    const statements = statementsOf(named(TYPES.policy, "airlock-drop-billing").inputs.policy);
    expect(statements[0]).toMatchObject({
      Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: [`${arnOf(TYPES.bucket, "airlock-ingest")}/drops/billing/*`],
    });
    // SSE-KMS multipart uploads (the AWS CLI above 8 MB) need kms:Decrypt besides the data key.
    expect(statements[1]).toMatchObject({
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: [arnOf("aws:kms/key:Key", "airlock-key")],
    });
  });
});

describe("Policies: they catch what they are for", () => {
  const mutate = (
    type: string,
    name: string,
    change: (inputs: Record<string, unknown>) => Record<string, unknown>,
  ): StackResource[] =>
    resources.map((r) => (r.type === type && r.name === name ? { ...r, props: change({ ...r.props }) } : r));
  const broken = (rs: StackResource[]) => violations(rs).join("\n");

  it("reports a wildcard action", () => {
    const rs = mutate(TYPES.rolePolicy, "airlock-scan-policy", (i) => ({
      ...i,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::x/*" }],
      }),
    }));
    expect(broken(rs)).toMatch(/airlock-iam-no-wildcards: airlock-scan-policy: wildcard action s3:\*/);
  });

  it("reports a wildcard resource outside the listed exceptions", () => {
    const rs = mutate(TYPES.rolePolicy, "airlock-scan-policy", (i) => ({
      ...i,
      policy: JSON.stringify({
        Statement: [{ Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: "*" }],
      }),
    }));
    expect(broken(rs)).toMatch(/Resource "\*" for dynamodb:GetItem/);
  });

  it("reports a queue without a DLQ, an unencrypted topic, an unauthenticated route, an untraced function", () => {
    let rs = mutate(TYPES.queue, "airlock-scan", (i) => ({ ...i, redrivePolicy: undefined }));
    rs = rs.map((r) =>
      r.type === TYPES.topic && r.name === "airlock-fanout"
        ? { ...r, props: { ...r.props, kmsMasterKeyId: undefined } }
        : r,
    );
    rs = rs.map((r) =>
      r.type === TYPES.route ? { ...r, props: { ...r.props, authorizationType: "NONE" } } : r,
    );
    rs = rs.map((r) =>
      r.type === TYPES.fn && r.name === "airlock-validate"
        ? { ...r, props: { ...r.props, tracingConfig: { mode: "PassThrough" } } }
        : r,
    );
    const text = broken(rs);
    expect(text).toMatch(/queue airlock-scan has no dead-letter queue/);
    expect(text).toMatch(/topic airlock-fanout is not encrypted/);
    expect(text).toMatch(/route POST \/uploads has no JWT authorizer/);
    expect(text).toMatch(/function airlock-validate is not traced/);
  });

  it("reports a public, unencrypted, unversioned or non-TLS bucket", () => {
    let rs = mutate(TYPES.publicAccess, "airlock-clean-public-access", (i) => ({
      ...i,
      restrictPublicBuckets: false,
    }));
    rs = rs.filter((r) => !(r.type === TYPES.versioning && r.name === "airlock-ingest-versioning"));
    rs = rs.filter((r) => !(r.type === TYPES.encryption && r.name === "airlock-clean-encryption"));
    rs = rs.filter((r) => !(r.type === TYPES.bucketPolicy && r.name === "airlock-ingest-policy"));
    const text = broken(rs);
    expect(text).toMatch(/bucket airlock-clean is not private/);
    expect(text).toMatch(/bucket airlock-ingest is not versioned/);
    expect(text).toMatch(/bucket airlock-clean is not encrypted/);
    expect(text).toMatch(/bucket airlock-ingest is not TLS-only/);
  });

  it("reports a queue without an alarm", () => {
    const rs = resources.filter((r) => !(r.type === TYPES.alarm && r.name === "airlock-scan-dlq-not-empty"));
    expect(broken(rs)).toMatch(/queue airlock-scan-dlq has no alarm/);
  });
});

/**
 * Airlock's security and wiring invariants as pure checks over a stack's resources (type, name, inputs).
 * The CrossGuard pack in `index.ts` enforces them on `pulumi preview --policy-pack policy`; the infra tests run
 * the same checks against the program under mocks.
 */

export interface StackResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

export interface Rule {
  name: string;
  description: string;
  check(resources: StackResource[]): string[];
}

/** Actions AWS only authorizes on `Resource: "*"`; anything else with a wildcard resource is a violation. */
export const WILDCARD_RESOURCE_ALLOWED = new Set([
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  // Textract has no resource-level permissions.
  "textract:DetectDocumentText",
  "textract:StartDocumentTextDetection",
  "textract:GetDocumentTextDetection",
]);

const T = {
  bucket: "aws:s3/bucket:Bucket",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  notification: "aws:s3/bucketNotification:BucketNotification",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  queue: "aws:sqs/queue:Queue",
  topic: "aws:sns/topic:Topic",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  route: "aws:apigatewayv2/route:Route",
  fn: "aws:lambda/function:Function",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  table: "aws:dynamodb/table:Table",
} as const;
export const TYPES = T;

const ofType = (resources: StackResource[], type: string) => resources.filter((r) => r.type === type);
const str = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

function parsePolicy(value: unknown): { Statement?: unknown } | undefined {
  if (typeof value === "string") {
    try {
      return JSON.parse(value) as { Statement?: unknown };
    } catch {
      return undefined;
    }
  }
  return value as { Statement?: unknown } | undefined;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export function statementsOf(policy: unknown): PolicyStatement[] {
  const doc = parsePolicy(policy);
  return asList(doc?.Statement).map((raw) => {
    const s = raw as Record<string, unknown>;
    return {
      Sid: s.Sid as string | undefined,
      Effect: String(s.Effect),
      Action: asList(s.Action).map(String),
      Resource: asList(s.Resource).map(String),
      Condition: s.Condition as PolicyStatement["Condition"],
    };
  });
}

/** The bucket a bucket-configuration resource points at (its `bucket` input is the bucket's id). */
const configuredBuckets = (resources: StackResource[], type: string, ok: (r: StackResource) => boolean) =>
  new Set(
    ofType(resources, type)
      .filter(ok)
      .map((r) => str(r.inputs.bucket)),
  );

function everyBucket(
  resources: StackResource[],
  type: string,
  ok: (r: StackResource) => boolean,
  what: string,
) {
  const good = configuredBuckets(resources, type, ok);
  return ofType(resources, T.bucket)
    .filter((b) => !good.has(b.name) && !good.has(str(b.inputs.bucket)))
    .map((b) => `bucket ${b.name} is not ${what}`);
}

export const RULES: Rule[] = [
  {
    name: "airlock-buckets-private",
    description: "Every bucket blocks all public access.",
    check: (rs) =>
      everyBucket(
        rs,
        T.publicAccess,
        (r) =>
          ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
            (k) => r.inputs[k] === true,
          ),
        "private (public access block incomplete)",
      ),
  },
  {
    name: "airlock-buckets-encrypted",
    description: "Every bucket encrypts with SSE-KMS (customer managed key) and a bucket key.",
    check: (rs) =>
      everyBucket(
        rs,
        T.encryption,
        (r) =>
          asList(r.inputs.rules).some((rule) => {
            const x = rule as {
              applyServerSideEncryptionByDefault?: { sseAlgorithm?: string; kmsMasterKeyId?: string };
              bucketKeyEnabled?: boolean;
            };
            return (
              x.applyServerSideEncryptionByDefault?.sseAlgorithm === "aws:kms" &&
              !!x.applyServerSideEncryptionByDefault.kmsMasterKeyId &&
              x.bucketKeyEnabled === true
            );
          }),
        "encrypted with SSE-KMS and a bucket key",
      ),
  },
  {
    name: "airlock-buckets-versioned",
    description: "Every bucket is versioned.",
    check: (rs) =>
      everyBucket(
        rs,
        T.versioning,
        (r) => (r.inputs.versioningConfiguration as { status?: string } | undefined)?.status === "Enabled",
        "versioned",
      ),
  },
  {
    name: "airlock-buckets-tls-only",
    description: "Every bucket policy denies requests without TLS.",
    check: (rs) =>
      everyBucket(
        rs,
        T.bucketPolicy,
        (r) =>
          statementsOf(r.inputs.policy).some(
            (s) => s.Effect === "Deny" && str(s.Condition?.Bool?.["aws:SecureTransport"]) === "false",
          ),
        "TLS-only",
      ),
  },
  {
    name: "airlock-iam-no-wildcards",
    description:
      'No IAM statement allows "*" actions, service-wide actions, or "*" resources (except X-Ray and Textract, which require it).',
    check: (rs) =>
      [...ofType(rs, T.rolePolicy), ...ofType(rs, T.policy)].flatMap((p) =>
        statementsOf(p.inputs.policy)
          .filter((s) => s.Effect === "Allow")
          .flatMap((s) => {
            const problems: string[] = [];
            for (const a of s.Action)
              if (a === "*" || a.endsWith(":*")) problems.push(`${p.name}: wildcard action ${a}`);
            if (
              s.Resource.some((r) => r === "*") &&
              !s.Action.every((a) => WILDCARD_RESOURCE_ALLOWED.has(a))
            ) {
              problems.push(`${p.name}: Resource "*" for ${s.Action.join(", ")}`);
            }
            return problems;
          }),
      ),
  },
  {
    name: "airlock-queues-encrypted-with-dlq",
    description: "Every queue is encrypted, and every queue that is not a dead-letter queue has one.",
    check: (rs) => {
      const queues = ofType(rs, T.queue);
      const dlqArns = new Set(
        queues.flatMap((q) => {
          const policy = parsePolicy(q.inputs.redrivePolicy) as { deadLetterTargetArn?: string } | undefined;
          return policy?.deadLetterTargetArn ? [policy.deadLetterTargetArn] : [];
        }),
      );
      const isDlq = (q: StackResource) => [...dlqArns].some((arn) => arn.endsWith(`:${q.name}`));
      return queues.flatMap((q) => [
        ...(q.inputs.kmsMasterKeyId || q.inputs.sqsManagedSseEnabled
          ? []
          : [`queue ${q.name} is not encrypted`]),
        ...(isDlq(q) || q.inputs.redrivePolicy ? [] : [`queue ${q.name} has no dead-letter queue`]),
      ]);
    },
  },
  {
    name: "airlock-queues-alarmed",
    description: "Every queue has a CloudWatch alarm.",
    check: (rs) => {
      const alarmed = new Set(
        ofType(rs, T.alarm).map((a) =>
          str((a.inputs.dimensions as { QueueName?: string } | undefined)?.QueueName),
        ),
      );
      return ofType(rs, T.queue)
        .filter((q) => !alarmed.has(q.name))
        .map((q) => `queue ${q.name} has no alarm`);
    },
  },
  {
    name: "airlock-routes-jwt",
    description: "Every API route has the JWT authorizer.",
    check: (rs) =>
      ofType(rs, T.route)
        .filter((r) => r.inputs.authorizationType !== "JWT" || !r.inputs.authorizerId)
        .map((r) => `route ${str(r.inputs.routeKey)} has no JWT authorizer`),
  },
  {
    name: "airlock-lambdas-traced-and-logged",
    description: "Every function has active X-Ray tracing and every log group a retention.",
    check: (rs) => [
      ...ofType(rs, T.fn)
        .filter((f) => (f.inputs.tracingConfig as { mode?: string } | undefined)?.mode !== "Active")
        .map((f) => `function ${f.name} is not traced`),
      ...ofType(rs, T.logGroup)
        .filter((g) => !g.inputs.retentionInDays)
        .map((g) => `log group ${g.name} keeps logs forever`),
    ],
  },
  {
    name: "airlock-topics-encrypted",
    description: "Every SNS topic is KMS-encrypted.",
    check: (rs) =>
      ofType(rs, T.topic)
        .filter((t) => !t.inputs.kmsMasterKeyId)
        .map((t) => `topic ${t.name} is not encrypted`),
  },
];

export function violations(resources: StackResource[]): string[] {
  return RULES.flatMap((rule) => rule.check(resources).map((v) => `${rule.name}: ${v}`));
}

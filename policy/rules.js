// @ts-check
/**
 * Airlock's security and wiring invariants as pure checks over a stack's resources. The CrossGuard pack in
 * `index.js` enforces them on `pulumi preview --policy-pack policy`; the infra tests run the same checks against
 * the program under mocks.
 *
 * Plain CommonJS on purpose: Pulumi's policy runner registers ts-node with type checking whatever
 * `PulumiPolicy.yaml` says, so JavaScript is what loads the same way on every machine.
 *
 * Resources are compared by what the engine gives a stack policy: `props` are the resource's outputs (physical
 * names, ARNs, ids), `urn` identifies it, and `propertyDependencies` names, per property, the resources whose
 * outputs it was built from. A bucket's configuration is linked to its bucket through that dependency (known
 * at preview, when the bucket's id is not yet) or, failing that, by the bucket's physical name: never by the
 * logical name, which AWS never sees.
 */

/**
 * @typedef {object} StackResource
 * @property {string} type
 * @property {string} name   the logical name (for messages only)
 * @property {string} [urn]
 * @property {Record<string, unknown>} props   the resource's properties (outputs)
 * @property {Record<string, string[]>} [propertyDependencies]   property name → URNs it depends on
 */

/**
 * @typedef {object} Rule
 * @property {string} name
 * @property {string} description
 * @property {(resources: StackResource[]) => string[]} check
 */

/**
 * @typedef {object} PolicyStatement
 * @property {string} [Sid]
 * @property {string} Effect
 * @property {string[]} Action
 * @property {string[]} Resource
 * @property {unknown} [Principal]
 * @property {Record<string, Record<string, unknown>>} [Condition]
 */

/** Actions AWS only authorizes on `Resource: "*"`; anything else with a wildcard resource is a violation. */
const WILDCARD_RESOURCE_ALLOWED = new Set([
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  // Textract has no resource-level permissions.
  "textract:DetectDocumentText",
  "textract:StartDocumentTextDetection",
  "textract:GetDocumentTextDetection",
]);

const TYPES = {
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
  eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  route: "aws:apigatewayv2/route:Route",
  fn: "aws:lambda/function:Function",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  table: "aws:dynamodb/table:Table",
};

/** Lambda's limit on the total size of a function's environment variables (keys and values). */
const LAMBDA_ENV_MAX_BYTES = 4096;

/** @param {StackResource[]} resources @param {string} type */
const ofType = (resources, type) => resources.filter((r) => r.type === type);
/** @param {unknown} v */
const str = (v) => (typeof v === "string" ? v : JSON.stringify(v));
/** @param {unknown} v @returns {unknown[]} */
const asList = (v) => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** @param {unknown} value @returns {Record<string, unknown> | undefined} */
function parseJson(value) {
  if (typeof value === "string") {
    try {
      return JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return /** @type {Record<string, unknown> | undefined} */ (value);
}

/** @param {unknown} policy @returns {PolicyStatement[]} */
function statementsOf(policy) {
  const doc = parseJson(policy);
  return asList(doc?.Statement).map((raw) => {
    const s = /** @type {Record<string, unknown>} */ (raw);
    return {
      Sid: /** @type {string | undefined} */ (s.Sid),
      Effect: String(s.Effect),
      Action: asList(s.Action).map(String),
      Resource: asList(s.Resource).map(String),
      Principal: s.Principal,
      Condition: /** @type {PolicyStatement["Condition"]} */ (s.Condition),
    };
  });
}

/**
 * Whether `resource`'s property `key` points at `target`: through the property's dependencies, or by value
 * against one of the target's physical identifiers (id, name, ARN, URL).
 * @param {StackResource} resource @param {string} key @param {StackResource} target
 * @param {string[]} targetProps the target's properties the value may equal
 */
function pointsAt(resource, key, target, targetProps) {
  const deps = resource.propertyDependencies?.[key];
  if (deps && target.urn && deps.includes(target.urn)) return true;
  const value = resource.props[key];
  if (typeof value !== "string") return false;
  return targetProps.some((p) => {
    const v = target.props[p];
    return typeof v === "string" && (value === v || value.includes(v));
  });
}

/**
 * @param {StackResource[]} resources @param {string} type @param {(r: StackResource) => boolean} ok
 * @param {string} what
 */
function everyBucket(resources, type, ok, what) {
  const configs = ofType(resources, type).filter(ok);
  return ofType(resources, TYPES.bucket)
    .filter((b) => !configs.some((c) => pointsAt(c, "bucket", b, ["bucket", "id"])))
    .map((b) => `bucket ${b.name} is not ${what}`);
}

/** @param {StackResource} fn */
function environmentBytes(fn) {
  const env = /** @type {{ variables?: Record<string, unknown> } | undefined} */ (fn.props.environment);
  return Object.entries(env?.variables ?? {}).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)),
    0,
  );
}

/** @type {Rule[]} */
const RULES = [
  {
    name: "airlock-buckets-private",
    description: "Every bucket blocks all public access.",
    check: (rs) =>
      everyBucket(
        rs,
        TYPES.publicAccess,
        (r) =>
          ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
            (k) => r.props[k] === true,
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
        TYPES.encryption,
        (r) =>
          asList(r.props.rules).some((rule) => {
            const x =
              /** @type {{ applyServerSideEncryptionByDefault?: { sseAlgorithm?: string; kmsMasterKeyId?: string }; bucketKeyEnabled?: boolean }} */ (
                rule
              );
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
        TYPES.versioning,
        (r) =>
          /** @type {{ status?: string } | undefined} */ (r.props.versioningConfiguration)?.status ===
          "Enabled",
        "versioned",
      ),
  },
  {
    name: "airlock-buckets-tls-only",
    description: "Every bucket policy denies requests without TLS.",
    check: (rs) =>
      everyBucket(
        rs,
        TYPES.bucketPolicy,
        (r) =>
          statementsOf(r.props.policy).some(
            (s) => s.Effect === "Deny" && str(s.Condition?.Bool?.["aws:SecureTransport"]) === "false",
          ),
        "TLS-only",
      ),
  },
  {
    name: "airlock-iam-no-wildcards",
    description:
      'No IAM statement allows "*" actions, service-wide actions, or "*" resources (except X-Ray, EC2 network interface descriptions and Textract, which require it).',
    check: (rs) =>
      [...ofType(rs, TYPES.rolePolicy), ...ofType(rs, TYPES.policy)].flatMap((p) =>
        statementsOf(p.props.policy)
          .filter((s) => s.Effect === "Allow")
          .flatMap((s) => {
            /** @type {string[]} */
            const problems = [];
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
    description:
      "Every queue is encrypted, and every queue that is not a dead-letter queue (of a queue, an SNS subscription or an EventBridge target) has one.",
    check: (rs) => {
      const queues = ofType(rs, TYPES.queue);
      // Dead letters come from a queue's or a subscription's redrive policy, or an EventBridge target's config.
      const sources = [
        ...rs
          .filter((r) => r.type === TYPES.queue || r.type === TYPES.subscription)
          .map((r) => ({
            r,
            key: "redrivePolicy",
            arn: parseJson(r.props.redrivePolicy)?.deadLetterTargetArn,
          })),
        ...ofType(rs, TYPES.eventTarget).map((r) => ({
          r,
          key: "deadLetterConfig",
          arn: /** @type {{ arn?: string } | undefined} */ (r.props.deadLetterConfig)?.arn,
        })),
      ];
      /** @param {StackResource} q */
      const isDlq = (q) =>
        sources.some(
          ({ r, key, arn }) =>
            r.propertyDependencies?.[key]?.includes(q.urn ?? "") ||
            (arn !== undefined && arn === q.props.arn),
        );
      return queues.flatMap((q) => [
        ...(q.props.kmsMasterKeyId || q.props.sqsManagedSseEnabled
          ? []
          : [`queue ${q.name} is not encrypted`]),
        ...(isDlq(q) || q.props.redrivePolicy ? [] : [`queue ${q.name} has no dead-letter queue`]),
      ]);
    },
  },
  {
    name: "airlock-queues-alarmed",
    description: "Every queue has a CloudWatch alarm.",
    check: (rs) => {
      const alarms = ofType(rs, TYPES.alarm);
      return ofType(rs, TYPES.queue)
        .filter(
          (q) =>
            !alarms.some((a) => {
              if (a.propertyDependencies?.dimensions?.includes(q.urn ?? "")) return true;
              const dims = /** @type {{ QueueName?: string } | undefined} */ (a.props.dimensions);
              return dims?.QueueName !== undefined && dims.QueueName === q.props.name;
            }),
        )
        .map((q) => `queue ${q.name} has no alarm`);
    },
  },
  {
    name: "airlock-routes-jwt",
    description: "Every API route has the JWT authorizer.",
    check: (rs) =>
      ofType(rs, TYPES.route)
        .filter((r) => r.props.authorizationType !== "JWT" || !r.props.authorizerId)
        .map((r) => `route ${str(r.props.routeKey)} has no JWT authorizer`),
  },
  {
    name: "airlock-lambdas-traced-and-logged",
    description: "Every function has active X-Ray tracing and every log group a retention.",
    check: (rs) => [
      ...ofType(rs, TYPES.fn)
        .filter(
          (f) => /** @type {{ mode?: string } | undefined} */ (f.props.tracingConfig)?.mode !== "Active",
        )
        .map((f) => `function ${f.name} is not traced`),
      ...ofType(rs, TYPES.logGroup)
        .filter((g) => !g.props.retentionInDays)
        .map((g) => `log group ${g.name} keeps logs forever`),
    ],
  },
  {
    name: "airlock-lambda-environment-fits",
    description: `Every function's environment fits Lambda's ${LAMBDA_ENV_MAX_BYTES}-byte limit (CreateFunction refuses more).`,
    check: (rs) =>
      ofType(rs, TYPES.fn)
        .filter((f) => environmentBytes(f) > LAMBDA_ENV_MAX_BYTES)
        .map((f) => `function ${f.name} has ${environmentBytes(f)} bytes of environment`),
  },
  {
    name: "airlock-queue-consumers-bounded",
    description:
      "Every SQS event source mapping caps its concurrency (a burst must not overwhelm clamd or Textract).",
    check: (rs) =>
      ofType(rs, TYPES.mapping)
        .filter(
          (m) =>
            !(
              /** @type {{ maximumConcurrency?: number } | undefined} */ (m.props.scalingConfig)
                ?.maximumConcurrency
            ),
        )
        .map((m) => `event source mapping ${m.name} has no maximumConcurrency`),
  },
  {
    name: "airlock-topics-encrypted",
    description: "Every SNS topic is KMS-encrypted.",
    check: (rs) =>
      ofType(rs, TYPES.topic)
        .filter((t) => !t.props.kmsMasterKeyId)
        .map((t) => `topic ${t.name} is not encrypted`),
  },
];

/** @param {StackResource[]} resources */
function violations(resources) {
  return RULES.flatMap((rule) => rule.check(resources).map((v) => `${rule.name}: ${v}`));
}

module.exports = {
  LAMBDA_ENV_MAX_BYTES,
  RULES,
  TYPES,
  WILDCARD_RESOURCE_ALLOWED,
  environmentBytes,
  statementsOf,
  violations,
};

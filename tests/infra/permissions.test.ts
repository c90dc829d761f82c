/**
 * Handler ↔ policy simulation: every SDK command the handlers were recorded sending on the local stack
 * (`fixtures/sdk-calls.json`, from tests/integration/sdk-calls.test.ts), plus what Lambda itself does with a
 * function's role (poll its queues, write its logs, read the cursor secret at cold start), mapped to the IAM
 * requests AWS makes for it, and each evaluated with `@cloud-copilot/iam-simulate` against the function's role
 * policy and the bucket, queue, topic and key policy of the resource, as the program under mocks writes them.
 *
 * The mapping is AWS's, not the local emulator's: Airlock's buckets are versioned, so a read, tag or delete that
 * passes a VersionId needs the *Version action too; a copy reads the source version and its tags; SSE-KMS
 * needs the key (data key to write, Decrypt to read, both for multipart); and without s3:ListBucket a missing
 * object is a 403, not the 404 the "object gone" handling waits for.
 */
import { readFileSync } from "node:fs";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { beforeAll, describe, expect, it } from "vitest";
import { statementsOf, TYPES } from "../../policy/rules.js";
import { DECIDERS, type RecordedCall, sweepOnly } from "../support/sdk-recorder.ts";
import { ACCOUNT, REGION, type Recorded, runProgram } from "./harness.ts";

const CALLS = JSON.parse(readFileSync("tests/infra/fixtures/sdk-calls.json", "utf8")) as RecordedCall[];

/** Handler → the logical name of its function. */
const FUNCTIONS: Record<string, string> = {
  validate: "airlock-validate",
  scan: "airlock-scan",
  metadata: "airlock-metadata",
  deadLetter: "airlock-dead-letter",
  sweeper: "airlock-sweeper",
  ocr: "airlock-ocr",
  guardduty: "airlock-guardduty",
  api: "airlock-api-handler",
};

interface IamRequest {
  action: string;
  resource: string;
  /** The resource policy that also decides (bucket, queue, topic or key policy), if any. */
  resourcePolicy?: unknown;
  context?: Record<string, string>;
  why: string;
}

let full: Recorded[];

beforeAll(async () => {
  ({ resources: full } = await runProgram({
    guardduty: true,
    objectLock: true,
    ocr: "required",
    notificationEmails: ["team@example.com"],
  }));
}, 60_000);

function stackView(rs: Recorded[]) {
  const one = (type: string, name: string) => {
    const found = rs.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} ${name}`);
    return found;
  };
  const policyOf = (type: string, name: string) => JSON.parse(String(one(type, name).state.policy));
  const bucket = (role: string) => String(one(TYPES.bucket, `airlock-${role}`).state.bucket);
  const key = one("aws:kms/key:Key", "airlock-key");
  return {
    one,
    bucketName: bucket,
    bucketPolicy: (role: string) => policyOf(TYPES.bucketPolicy, `airlock-${role}-policy`),
    keyArn: String(key.state.arn),
    keyPolicy: JSON.parse(String(key.state.policy)),
    tableArn: String(one(TYPES.table, "airlock-files").state.arn),
    topicArn: (role: string) =>
      String(one(TYPES.topic, role === "notifications" ? "airlock-verdicts" : `airlock-${role}`).state.arn),
    topicPolicy: (role: string) =>
      rs.find((r) => r.type === "aws:sns/topicPolicy:TopicPolicy" && r.name === `airlock-${role}-policy`)
        ?.state.policy,
    role: (handler: string) => {
      const fn = FUNCTIONS[handler] ?? handler;
      return {
        arn: String(one("aws:iam/role:Role", `${fn}-role`).state.arn),
        policy: policyOf(TYPES.rolePolicy, `${fn}-policy`),
        fn: one(TYPES.fn, fn),
      };
    },
  };
}

type View = ReturnType<typeof stackView>;

const SAMPLE_KEYS: Record<string, string> = {
  "uploads/*": "uploads/01j9zq3m4k5n6p7r8s9t0v1w2x/report.pdf",
  "drops/*": "drops/billing/2026/invoice.pdf",
  "text/*": "text/01j9zq3m4k5n6p7r8s9t0v1w2x.txt",
};

/** The IAM requests AWS makes for one recorded SDK call. */
function requestsFor(call: RecordedCall, view: View): IamRequest[] {
  const p = call.params;
  const why = `${call.handler} ${call.command} ${JSON.stringify(p)}`;
  const s3 = (bucketRole: unknown, keyClass?: unknown) => {
    const name = view.bucketName(String(bucketRole));
    return {
      bucket: `arn:aws:s3:::${name}`,
      object: `arn:aws:s3:::${name}/${SAMPLE_KEYS[String(keyClass)] ?? "other/key"}`,
      policy: view.bucketPolicy(String(bucketRole)),
    };
  };
  const kms = (actions: string[], service: string) =>
    actions.map((action) => ({
      action,
      resource: view.keyArn,
      resourcePolicy: view.keyPolicy,
      context: { "kms:ViaService": `${service}.${REGION}.amazonaws.com`, "kms:CallerAccount": ACCOUNT },
      why: `${why} (SSE-KMS)`,
    }));
  const on = (resource: string, resourcePolicy: unknown, ...actions: string[]) =>
    actions.map((action) => ({ action, resource, resourcePolicy, why }));
  const versioned = (plain: string, version: string) => (p.namesVersion ? [plain, version] : [plain]);

  if (call.service === "S3") {
    const t = s3(p.bucket, p.key);
    switch (call.command) {
      case "GetObject":
      case "HeadObject":
        return [
          ...on(t.object, t.policy, ...versioned("s3:GetObject", "s3:GetObjectVersion")),
          // A missing key is a 404 only for a caller allowed to list the bucket.
          ...on(t.bucket, t.policy, "s3:ListBucket"),
          ...(call.command === "GetObject" ? kms(["kms:Decrypt"], "s3") : []),
        ];
      case "PutObject":
        return [
          ...on(t.object, t.policy, "s3:PutObject", ...(p.tagging ? ["s3:PutObjectTagging"] : [])),
          ...kms(["kms:GenerateDataKey"], "s3"),
        ];
      case "PutObjectTagging":
        return on(t.object, t.policy, ...versioned("s3:PutObjectTagging", "s3:PutObjectVersionTagging"));
      case "GetObjectTagging":
        return on(t.object, t.policy, ...versioned("s3:GetObjectTagging", "s3:GetObjectVersionTagging"));
      case "DeleteObject":
        return on(t.object, t.policy, ...versioned("s3:DeleteObject", "s3:DeleteObjectVersion"));
      case "CopyObject":
      case "UploadPartCopy": {
        const source = s3(p.copySourceBucket, p.copySourceKey);
        // The source is the judged version in a versioned bucket: its version, and its tags when copied.
        return [
          ...on(t.object, t.policy, "s3:PutObject", ...(p.TaggingDirective ? ["s3:PutObjectTagging"] : [])),
          ...on(source.object, source.policy, "s3:GetObject", "s3:GetObjectVersion"),
          ...(p.TaggingDirective === "COPY"
            ? on(source.object, source.policy, "s3:GetObjectTagging", "s3:GetObjectVersionTagging")
            : []),
          ...kms(["kms:Decrypt", "kms:GenerateDataKey"], "s3"),
        ];
      }
      case "CreateMultipartUpload":
      case "CompleteMultipartUpload":
      case "UploadPart":
      case "Presign:UploadPart":
        return [
          ...on(t.object, t.policy, "s3:PutObject"),
          ...kms(["kms:GenerateDataKey", "kms:Decrypt"], "s3"),
        ];
      case "AbortMultipartUpload":
        return on(t.object, t.policy, "s3:AbortMultipartUpload");
      case "ListObjectVersions":
        return on(t.bucket, t.policy, "s3:ListBucketVersions");
      case "ListObjectsV2":
        return on(t.bucket, t.policy, "s3:ListBucket");
      case "Presign:PostObject":
      case "Presign:PutObject":
        return [...on(t.object, t.policy, "s3:PutObject"), ...kms(["kms:GenerateDataKey"], "s3")];
      case "Presign:GetObject":
        return [
          ...on(t.object, t.policy, ...versioned("s3:GetObject", "s3:GetObjectVersion")),
          ...kms(["kms:Decrypt"], "s3"),
        ];
    }
  }
  if (call.service === "DynamoDB") {
    const resource = p.IndexName ? `${view.tableArn}/index/${p.IndexName}` : view.tableArn;
    return on(resource, undefined, `dynamodb:${call.command}`);
  }
  if (call.service === "SNS" && (call.command === "Publish" || call.command === "PublishBatch")) {
    const topic = String(p.topic);
    return [
      ...on(view.topicArn(topic), view.topicPolicy(topic), "sns:Publish"),
      ...kms(["kms:GenerateDataKey", "kms:Decrypt"], "sns"),
    ];
  }
  throw new Error(`no IAM mapping for ${why}: add what AWS authorizes it as`);
}

/** What Lambda does with a function's role besides its handler's calls. */
function platformRequests(rs: Recorded[], view: View): { handler: string; request: IamRequest }[] {
  const out: { handler: string; request: IamRequest }[] = [];
  const handlerOf = (fnArn: unknown) =>
    Object.keys(FUNCTIONS).find((h) =>
      rs.some((r) => r.type === TYPES.fn && r.name === FUNCTIONS[h] && r.state.arn === fnArn),
    );
  for (const mapping of rs.filter((r) => r.type === TYPES.mapping)) {
    const handler = handlerOf(mapping.inputs.functionName);
    const queue = rs.find((r) => r.type === TYPES.queue && r.state.arn === mapping.inputs.eventSourceArn);
    if (!handler || !queue) throw new Error(`unmapped event source mapping ${mapping.name}`);
    for (const action of [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ChangeMessageVisibility",
    ])
      out.push({
        handler,
        request: { action, resource: String(queue.state.arn), why: `event source mapping ${mapping.name}` },
      });
    out.push({
      handler,
      request: {
        action: "kms:Decrypt",
        resource: view.keyArn,
        resourcePolicy: view.keyPolicy,
        context: { "kms:ViaService": `sqs.${REGION}.amazonaws.com` },
        why: `event source mapping ${mapping.name} reads an encrypted queue`,
      },
    });
  }
  for (const handler of Object.keys(FUNCTIONS)) {
    if (!rs.some((r) => r.type === TYPES.fn && r.name === FUNCTIONS[handler])) continue;
    const logs = view.one(TYPES.logGroup, `${FUNCTIONS[handler]}-logs`);
    for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"])
      out.push({
        handler,
        request: {
          action,
          resource: `${logs.state.arn}:log-stream:2026/12/01/[$LATEST]0123456789abcdef`,
          why: "function logs",
        },
      });
    out.push({ handler, request: { action: "xray:PutTraceSegments", resource: "*", why: "active tracing" } });
  }
  const parameter = view.one("aws:ssm/parameter:Parameter", "airlock-api-cursor-secret-parameter");
  out.push(
    {
      handler: "api",
      request: {
        action: "ssm:GetParameter",
        resource: String(parameter.state.arn),
        why: "cursor secret at cold start",
      },
    },
    {
      handler: "api",
      request: {
        action: "kms:Decrypt",
        resource: view.keyArn,
        resourcePolicy: view.keyPolicy,
        context: { "kms:ViaService": `ssm.${REGION}.amazonaws.com` },
        why: "cursor secret (SecureString) at cold start",
      },
    },
  );
  return out;
}

async function decide(view: View, handler: string, request: IamRequest): Promise<string> {
  const role = view.role(handler);
  return decideAs(role.arn, role.policy, request);
}

async function decideAs(principal: string, policy: unknown, request: IamRequest): Promise<string> {
  const role = { arn: principal, policy };
  const handler = principal.split("/").pop();
  const result = await runSimulation(
    {
      request: {
        principal: role.arn,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: {
          "aws:SecureTransport": "true",
          "aws:PrincipalArn": role.arn,
          "aws:PrincipalAccount": ACCOUNT,
          ...request.context,
        },
      },
      identityPolicies: [{ name: `${handler}-policy`, policy: role.policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: request.resourcePolicy
        ? typeof request.resourcePolicy === "string"
          ? JSON.parse(request.resourcePolicy)
          : request.resourcePolicy
        : undefined,
    },
    {},
  );
  if (result.resultType === "error") return `error: ${JSON.stringify(result.errors)}`;
  return result.overallResult;
}

/** Every (handler, request) pair of the recorded calls; a decider's call is held against every decider. */
function recordedRequests(rs: Recorded[], view: View) {
  const present = (h: string) => rs.some((r) => r.type === TYPES.fn && r.name === FUNCTIONS[h]);
  return CALLS.flatMap((call) => {
    const handlers =
      DECIDERS.includes(call.handler) && !sweepOnly(call) ? DECIDERS.filter(present) : [call.handler];
    return handlers.flatMap((handler) => requestsFor(call, view).map((request) => ({ handler, request })));
  });
}

describe("Permissions: every recorded handler call is allowed by its role and the resource's policies", () => {
  it("maps the recorded calls (the fixture covers every function that runs locally)", () => {
    const handlers = new Set(CALLS.map((c) => c.handler));
    for (const h of ["api", "validate", "scan", "metadata", "sweeper", "deadLetter", "guardduty"])
      expect(handlers).toContain(h);
    const view = stackView(full);
    expect(recordedRequests(full, view).length).toBeGreaterThan(500);
  });

  it("allows every request, with every option on", async () => {
    const view = stackView(full);
    const denied: string[] = [];
    for (const { handler, request } of [...recordedRequests(full, view), ...platformRequests(full, view)]) {
      const outcome = await decide(view, handler, request);
      if (outcome !== "Allowed")
        denied.push(`${handler}: ${request.action} on ${request.resource} → ${outcome} (${request.why})`);
    }
    expect([...new Set(denied)]).toEqual([]);
  }, 120_000);

  it("puts every object into the clean bucket with a checksum (Object Lock refuses it without one)", () => {
    const puts = CALLS.filter((c) => c.command === "PutObject" && c.params.bucket === "clean");
    expect(puts.length).toBeGreaterThan(0);
    for (const put of puts) expect(put.params.ChecksumAlgorithm, JSON.stringify(put)).toBeDefined();
  });
});

describe("Permissions: a drop system may upload under its own prefix, multipart included, and nothing else", () => {
  it("allows PutObject and the multipart requests under drops/billing/, and denies drops/erp/ and reads", async () => {
    const view = stackView(full);
    const policy = JSON.parse(String(view.one(TYPES.policy, "airlock-drop-billing").state.policy));
    const principal = `arn:aws:iam::${ACCOUNT}:role/billing-uploader`;
    const drop = (command: string, key: string): RecordedCall => ({
      handler: "billing",
      service: "S3",
      command,
      params: { bucket: "ingest", key },
    });
    const ingest = view.bucketName("ingest");
    const own = ["PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"].flatMap((c) =>
      requestsFor(drop(c, "drops/*"), view),
    );
    for (const request of own)
      expect(await decideAs(principal, policy, request), request.why).toBe("Allowed");
    const other = {
      action: "s3:PutObject",
      resource: `arn:aws:s3:::${ingest}/drops/erp/x.csv`,
      resourcePolicy: view.bucketPolicy("ingest"),
      why: "another system's prefix",
    };
    expect(await decideAs(principal, policy, other)).toBe("ImplicitlyDenied");
    const read = {
      action: "s3:GetObject",
      resource: `arn:aws:s3:::${ingest}/drops/billing/2026/invoice.pdf`,
      resourcePolicy: view.bucketPolicy("ingest"),
      why: "reading quarantine",
    };
    expect(
      await decideAs(
        principal,
        { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] },
        read,
      ),
    ).toBe("ExplicitlyDenied");
  });
});

describe("Permission simulation: it denies what AWS would deny", () => {
  it("denies a 404 without s3:ListBucket and a versioned read without s3:GetObjectVersion, and quarantine to outsiders", async () => {
    const view = stackView(full);
    const strip = (handler: string, actions: string[]) => {
      const role = view.role(handler);
      const policy = {
        ...role.policy,
        // Through JSON: statementsOf leaves absent elements undefined, which a policy may not contain.
        Statement: JSON.parse(
          JSON.stringify(
            statementsOf(role.policy)
              .map((s) => ({ ...s, Action: s.Action.filter((a) => !actions.includes(a)) }))
              .filter((s) => s.Action.length > 0),
          ),
        ),
      };
      return { ...view, role: (h: string) => (h === handler ? { ...role, policy } : view.role(h)) };
    };
    const read: RecordedCall = {
      handler: "validate",
      service: "S3",
      command: "HeadObject",
      params: { bucket: "ingest", key: "drops/*", namesVersion: true },
    };
    const requests = requestsFor(read, view);
    const withoutList = strip("validate", ["s3:ListBucket"]);
    const outcomes = await Promise.all(requests.map((r) => decide(withoutList as View, "validate", r)));
    expect(outcomes, JSON.stringify(outcomes)).toContain("ImplicitlyDenied");
    const withoutVersion = strip("validate", ["s3:GetObjectVersion"]);
    expect(
      await decide(
        withoutVersion as View,
        "validate",
        requests.find((r) => r.action === "s3:GetObjectVersion") as IamRequest,
      ),
    ).toBe("ImplicitlyDenied");
    // And the quarantine bucket policy denies a role that is not the pipeline's, whatever its own policy says.
    const api = view.role("api");
    const outsider = {
      ...view,
      role: (h: string) =>
        h === "validate" ? { ...api, policy: view.role("validate").policy } : view.role(h),
    };
    expect(await decide(outsider as View, "validate", requests[0] as IamRequest)).toBe("ExplicitlyDenied");
  });
});

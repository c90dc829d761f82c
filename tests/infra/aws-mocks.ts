/**
 * Pulumi mocks that answer as the AWS provider does on a real `pulumi up`: a resource without an explicit name
 * gets an autoname (its logical name, a dash and seven random hex characters, trimmed to the service's limit),
 * its `id` is what the provider's id is (a bucket's or a role's name, a queue's URL, a topic's ARN, a key's
 * UUID…), and its ARN has the service's real format. Mocks that echo logical names hide the bugs where code
 * compares a logical name with a physical one; these do not. The random parts are derived from the logical
 * name, so a run is reproducible.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
const A = ACCOUNT;
const R = REGION;

/** What makes the random parts of one stack differ from another's. */
let randomness = "";
const digest = (seed: string) => createHash("sha256").update(`${randomness}${seed}`).digest("hex");
/** Lower-case hex derived from the seed. */
const hex = (seed: string, length: number) => {
  let out = "";
  for (let i = 0; out.length < length; i++) out += digest(`${seed}#${i}`);
  return out.slice(0, length);
};
const alnum = (seed: string, length: number) =>
  [...hex(seed, length * 2)]
    .map(
      (_, i, all) =>
        "abcdefghijklmnopqrstuvwxyz0123456789"[parseInt(all.slice(i * 2, i * 2 + 2).join(""), 16) % 36],
    )
    .slice(0, length)
    .join("");
const uuid = (seed: string) => {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** Pulumi's autoname: `<logical name>-<7 hex>`, the logical part trimmed so that the whole fits `max`. */
export function autoname(logical: string, max = 255, lower = false): string {
  const base = lower ? logical.toLowerCase() : logical;
  return `${base.slice(0, max - 8)}-${hex(`autoname:${logical}`, 7)}`;
}

interface Answer {
  id: string;
  state: Record<string, unknown>;
}

type Maker = (logical: string, inputs: Record<string, unknown>) => Answer;

const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const named = (inputs: Record<string, unknown>, logical: string, max: number, key = "name", lower = false) =>
  str(inputs[key]) ??
  (str(inputs[`${key}Prefix`]) ? `${str(inputs[`${key}Prefix`])}${hex(logical, 26)}` : undefined) ??
  autoname(logical, max, lower);

/** Bucket sub-resources: the provider's id is the bucket's name. */
const byBucket: Maker = (_, inputs) => ({ id: String(inputs.bucket), state: {} });

const MAKERS: Record<string, Maker> = {
  "aws:s3/bucket:Bucket": (logical, inputs) => {
    const name = named(inputs, logical, 63, "bucket", true);
    return {
      id: name,
      state: {
        bucket: name,
        arn: `arn:aws:s3:::${name}`,
        bucketDomainName: `${name}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${name}.s3.${R}.amazonaws.com`,
        region: R,
      },
    };
  },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": byBucket,
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": byBucket,
  "aws:s3/bucketVersioning:BucketVersioning": byBucket,
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": byBucket,
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": byBucket,
  "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": byBucket,
  "aws:s3/bucketPolicy:BucketPolicy": byBucket,
  "aws:s3/bucketNotification:BucketNotification": byBucket,
  "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": byBucket,
  "aws:s3/bucketObjectv2:BucketObjectv2": (logical, inputs) => ({
    id: String(inputs.key),
    state: { etag: hex(logical, 32), versionId: alnum(logical, 32) },
  }),
  "aws:kms/key:Key": (logical) => {
    const keyId = uuid(logical);
    return { id: keyId, state: { keyId, arn: `arn:aws:kms:${R}:${A}:key/${keyId}` } };
  },
  "aws:kms/alias:Alias": (logical, inputs) => {
    const name = named(inputs, logical, 256);
    return { id: name, state: { name, arn: `arn:aws:kms:${R}:${A}:${name}` } };
  },
  "aws:dynamodb/table:Table": (logical, inputs) => {
    const name = named(inputs, logical, 255);
    return { id: name, state: { name, arn: `arn:aws:dynamodb:${R}:${A}:table/${name}` } };
  },
  "aws:sns/topic:Topic": (logical, inputs) => {
    const name = named(inputs, logical, 256);
    const arn = `arn:aws:sns:${R}:${A}:${name}`;
    return { id: arn, state: { name, arn } };
  },
  "aws:sns/topicPolicy:TopicPolicy": (_, inputs) => ({ id: String(inputs.arn), state: {} }),
  "aws:sns/topicSubscription:TopicSubscription": (logical, inputs) => {
    const arn = `${String(inputs.topic)}:${uuid(logical)}`;
    return { id: arn, state: { arn } };
  },
  "aws:sqs/queue:Queue": (logical, inputs) => {
    const name = named(inputs, logical, 80);
    const url = `https://sqs.${R}.amazonaws.com/${A}/${name}`;
    return { id: url, state: { name, url, arn: `arn:aws:sqs:${R}:${A}:${name}` } };
  },
  "aws:sqs/queuePolicy:QueuePolicy": (_, inputs) => ({ id: String(inputs.queueUrl), state: {} }),
  "aws:iam/role:Role": (logical, inputs) => {
    const name = named(inputs, logical, 64);
    return {
      id: name,
      state: {
        name,
        arn: `arn:aws:iam::${A}:role/${name}`,
        uniqueId: `AROA${hex(logical, 17).toUpperCase()}`,
      },
    };
  },
  "aws:iam/rolePolicy:RolePolicy": (logical, inputs) => {
    const name = named(inputs, logical, 128);
    return { id: `${String(inputs.role)}:${name}`, state: { name } };
  },
  "aws:iam/policy:Policy": (logical, inputs) => {
    const name = named(inputs, logical, 128);
    const arn = `arn:aws:iam::${A}:policy/${name}`;
    return { id: arn, state: { name, arn, policyId: `ANPA${hex(logical, 17).toUpperCase()}` } };
  },
  "aws:lambda/function:Function": (logical, inputs) => {
    const name = named(inputs, logical, 64);
    const arn = `arn:aws:lambda:${R}:${A}:function:${name}`;
    return {
      id: name,
      state: {
        name,
        arn,
        qualifiedArn: `${arn}:$LATEST`,
        invokeArn: `arn:aws:apigateway:${R}:lambda:path/2015-03-31/functions/${arn}/invocations`,
        version: "$LATEST",
      },
    };
  },
  "aws:lambda/eventSourceMapping:EventSourceMapping": (logical, inputs) => {
    const id = uuid(logical);
    return {
      id,
      state: {
        uuid: id,
        functionArn: inputs.functionName,
        arn: `arn:aws:lambda:${R}:${A}:event-source-mapping:${id}`,
      },
    };
  },
  "aws:lambda/permission:Permission": (logical, inputs) => {
    const statementId = named(inputs, logical, 100, "statementId");
    return { id: statementId, state: { statementId } };
  },
  "aws:cloudwatch/logGroup:LogGroup": (logical, inputs) => {
    const name = named(inputs, logical, 512);
    return { id: name, state: { name, arn: `arn:aws:logs:${R}:${A}:log-group:${name}` } };
  },
  "aws:cloudwatch/logMetricFilter:LogMetricFilter": (logical, inputs) => ({
    id: named(inputs, logical, 512),
    state: { name: named(inputs, logical, 512) },
  }),
  "aws:cloudwatch/metricAlarm:MetricAlarm": (logical, inputs) => {
    const name = named(inputs, logical, 255);
    return { id: name, state: { name, arn: `arn:aws:cloudwatch:${R}:${A}:alarm:${name}` } };
  },
  "aws:cloudwatch/eventRule:EventRule": (logical, inputs) => {
    const name = named(inputs, logical, 64);
    return { id: name, state: { name, arn: `arn:aws:events:${R}:${A}:rule/${name}` } };
  },
  "aws:cloudwatch/eventTarget:EventTarget": (logical, inputs) => {
    const targetId = named(inputs, logical, 64, "targetId");
    return { id: `${String(inputs.rule)}-${targetId}`, state: { targetId } };
  },
  "aws:apigatewayv2/api:Api": (logical) => {
    const id = alnum(logical, 10);
    return {
      id,
      state: {
        apiEndpoint: `https://${id}.execute-api.${R}.amazonaws.com`,
        executionArn: `arn:aws:execute-api:${R}:${A}:${id}`,
        arn: `arn:aws:apigateway:${R}::/apis/${id}`,
      },
    };
  },
  "aws:apigatewayv2/authorizer:Authorizer": (logical) => ({ id: alnum(logical, 6), state: {} }),
  "aws:apigatewayv2/integration:Integration": (logical) => ({ id: alnum(logical, 7), state: {} }),
  "aws:apigatewayv2/route:Route": (logical) => ({ id: alnum(logical, 7), state: {} }),
  "aws:apigatewayv2/stage:Stage": (_, inputs) => ({
    id: String(inputs.name),
    state: {
      invokeUrl: `https://${String(inputs.apiId)}.execute-api.${R}.amazonaws.com/`,
      arn: `arn:aws:apigateway:${R}::/apis/${String(inputs.apiId)}/stages/${String(inputs.name)}`,
    },
  }),
  "aws:cognito/userPool:UserPool": (logical, inputs) => {
    const id = `${R}_${alnum(logical, 9).replace(/^./, (c) => c.toUpperCase())}`;
    return {
      id,
      state: {
        name: named(inputs, logical, 128),
        arn: `arn:aws:cognito-idp:${R}:${A}:userpool/${id}`,
        endpoint: `cognito-idp.${R}.amazonaws.com/${id}`,
      },
    };
  },
  "aws:cognito/userPoolClient:UserPoolClient": (logical) => ({ id: alnum(logical, 26), state: {} }),
  "aws:cognito/userPoolDomain:UserPoolDomain": (_, inputs) => ({ id: String(inputs.domain), state: {} }),
  "random:index/randomPassword:RandomPassword": (logical, inputs) => ({
    id: "none",
    state: { result: alnum(`password:${logical}`, Number(inputs.length ?? 32)) },
  }),
  "random:index/randomString:RandomString": (logical, inputs) => ({
    id: alnum(`string:${logical}`, Number(inputs.length ?? 16)),
    state: { result: alnum(`string:${logical}`, Number(inputs.length ?? 16)) },
  }),
  "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan": (logical) => {
    const id = hex(logical, 20);
    return { id, state: { arn: `arn:aws:guardduty:${R}:${A}:malware-protection-plan/${id}` } };
  },
  "aws:cloudfront/distribution:Distribution": (logical) => {
    const id = `E${alnum(logical, 13).toUpperCase()}`;
    return {
      id,
      state: {
        arn: `arn:aws:cloudfront::${A}:distribution/${id}`,
        domainName: `d${alnum(`domain:${logical}`, 13)}.cloudfront.net`,
        hostedZoneId: "Z2FDTNDATAQYW2",
      },
    };
  },
  "aws:cloudfront/originAccessControl:OriginAccessControl": (logical) => ({
    id: `E${alnum(logical, 13).toUpperCase()}`,
    state: {},
  }),
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": (logical) => ({
    id: uuid(logical),
    state: {},
  }),
  "aws:ec2/securityGroup:SecurityGroup": (logical, inputs) => {
    const id = `sg-${hex(logical, 17)}`;
    return {
      id,
      state: { name: named(inputs, logical, 255), arn: `arn:aws:ec2:${R}:${A}:security-group/${id}` },
    };
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (logical) => ({
    id: `sgr-${hex(logical, 17)}`,
    state: {},
  }),
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (logical) => ({
    id: `sgr-${hex(logical, 17)}`,
    state: {},
  }),
  "aws:ecs/cluster:Cluster": (logical, inputs) => {
    const name = named(inputs, logical, 255);
    const arn = `arn:aws:ecs:${R}:${A}:cluster/${name}`;
    return { id: arn, state: { name, arn } };
  },
  "aws:ecs/taskDefinition:TaskDefinition": (_, inputs) => {
    const family = String(inputs.family);
    return {
      id: family,
      state: { arn: `arn:aws:ecs:${R}:${A}:task-definition/${family}:1`, revision: 1 },
    };
  },
  "aws:ecs/service:Service": (logical, inputs) => {
    const name = named(inputs, logical, 255);
    const cluster = String(inputs.cluster).split("/").pop();
    return { id: `arn:aws:ecs:${R}:${A}:service/${cluster}/${name}`, state: { name } };
  },
  "aws:lb/loadBalancer:LoadBalancer": (logical, inputs) => {
    const name = named(inputs, logical, 32);
    const suffix = `net/${name}/${hex(logical, 16)}`;
    const arn = `arn:aws:elasticloadbalancing:${R}:${A}:loadbalancer/${suffix}`;
    return {
      id: arn,
      state: { name, arn, arnSuffix: suffix, dnsName: `${name}-${hex(logical, 10)}.elb.${R}.amazonaws.com` },
    };
  },
  "aws:lb/targetGroup:TargetGroup": (logical, inputs) => {
    const name = named(inputs, logical, 32);
    const suffix = `targetgroup/${name}/${hex(logical, 16)}`;
    const arn = `arn:aws:elasticloadbalancing:${R}:${A}:${suffix}`;
    return { id: arn, state: { name, arn, arnSuffix: suffix } };
  },
  "aws:lb/listener:Listener": (logical) => {
    const arn = `arn:aws:elasticloadbalancing:${R}:${A}:listener/net/${hex(logical, 8)}/${hex(logical, 16)}`;
    return { id: arn, state: { arn } };
  },
  "aws:ssm/parameter:Parameter": (logical, inputs) => {
    const name = named(inputs, logical, 1011);
    return {
      id: name,
      state: { name, arn: `arn:aws:ssm:${R}:${A}:parameter/${name.replace(/^\//, "")}`, version: 1 },
    };
  },
};

/** What the AWS provider would answer for this resource. */
export function answer(
  type: string,
  logical: string,
  inputs: Record<string, unknown>,
  stack = "dev",
): Answer {
  if (!type.startsWith("aws:") && !type.startsWith("random:")) {
    // A component resource: no provider, no id.
    return { id: "", state: {} };
  }
  const maker = MAKERS[type];
  if (!maker) throw new Error(`the AWS mocks do not know ${type}: add how the provider answers for it`);
  // Autoname suffixes, ids and random values differ from one stack to another, as on AWS; explicit names do not.
  randomness = stack === "dev" ? "" : `${stack}/`;
  const made = maker(logical, inputs);
  return { id: made.id, state: { ...inputs, ...made.state } };
}

/** Provider functions the program calls (`aws.getCallerIdentity`, `aws.getRegion`…). */
export function invoke(token: string): Record<string, unknown> {
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: A, arn: `arn:aws:iam::${A}:user/deployer`, userId: "AIDAEXAMPLEDEPLOYER", id: A };
    case "aws:index/getRegion:getRegion":
      return {
        name: R,
        region: R,
        id: R,
        description: "US East (N. Virginia)",
        endpoint: `ec2.${R}.amazonaws.com`,
      };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws", reverseDnsPrefix: "com.amazonaws" };
    default:
      throw new Error(`the AWS mocks do not know the function ${token}`);
  }
}

export const awsMocks: pulumi.runtime.Mocks = {
  newResource: (args) => {
    const made = answer(args.type, args.name, args.inputs as Record<string, unknown>);
    return { id: made.id, state: made.state };
  },
  call: (args) => invoke(args.token),
};

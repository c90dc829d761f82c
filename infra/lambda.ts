/**
 * One Lambda function: its bundle (an archive built by esbuild, never a closure), its own role, its log group
 * with retention, X-Ray tracing, and exactly the environment its handler validates at cold start.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type EnvName, HANDLER_ENV, type HandlerName, OPTIONAL_HANDLER_ENV } from "../core/runtime/env.ts";
import { type AirlockConfig, functionMemory } from "./config.ts";
import { lambdaRole, type Statement } from "./iam.ts";

export interface FunctionSpec {
  name: string;
  handler: HandlerName;
  code: pulumi.asset.Archive;
  env: Partial<Record<(typeof HANDLER_ENV)[HandlerName][number], pulumi.Input<string>>>;
  statements: Statement[];
  timeoutSeconds?: number;
  /** Variables of optional features the handler reads when set (see OPTIONAL_HANDLER_ENV). */
  optionalEnv?: Partial<Record<EnvName, pulumi.Input<string>>>;
  /** Runs the function in these subnets with these security groups. */
  vpc?: { subnetIds: pulumi.Input<string>[]; securityGroupIds: pulumi.Input<string>[] };
  /** arm64 unless a native module needs x86_64 (the YARA-X binding is published for linux-x64 only). */
  architecture?: "arm64" | "x86_64";
}

/** Lambda refuses a function whose environment variables (names and values) exceed 4 KB. */
export const LAMBDA_ENV_MAX_BYTES = 4096;
/**
 * What an output not known before the first `up` can weigh: the longest name AWS allows for Airlock's
 * autonamed resources (64 characters: Lambda, IAM; Airlock's own are about 40), inside the longest ARN prefix
 * (`arn:aws-us-gov:sns:ap-southeast-7:123456789012:`).
 */
const UNKNOWN_NAME_BOUND = 64;
const UNKNOWN_ARN_BOUND = "arn:aws-us-gov:iam::123456789012:role/".length + 14 + UNKNOWN_NAME_BOUND;

/** An upper bound of the environment's size, computable before any resource exists. */
export function environmentBound(variables: Record<string, pulumi.Input<string>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(variables)) {
    bytes += Buffer.byteLength(name);
    if (typeof value === "string") bytes += Buffer.byteLength(value);
    else bytes += name.endsWith("_ARN") ? UNKNOWN_ARN_BOUND : 2 * UNKNOWN_NAME_BOUND;
  }
  return bytes;
}

export interface AirlockFunction {
  fn: aws.lambda.Function;
  role: aws.iam.Role;
  policy: aws.iam.RolePolicy;
  logGroup: aws.cloudwatch.LogGroup;
}

export function airlockFunction(
  spec: FunctionSpec,
  config: AirlockConfig,
  parent: pulumi.Resource,
): AirlockFunction {
  const logGroup = new aws.cloudwatch.LogGroup(
    `${spec.name}-logs`,
    { retentionInDays: config.logRetentionDays },
    { parent },
  );
  const { role, policy } = lambdaRole(
    spec.name,
    [
      ...spec.statements,
      ...(spec.vpc ? vpcStatements(spec.vpc) : []),
      {
        Sid: "OwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [pulumi.interpolate`${logGroup.arn}:*`],
      },
    ],
    parent,
  );
  const variables: Record<string, pulumi.Input<string>> = {};
  for (const name of HANDLER_ENV[spec.handler]) {
    const value = spec.env[name as keyof typeof spec.env];
    if (value === undefined)
      throw new Error(`${spec.name}: no value for ${name}, which the handler requires`);
    variables[name] = value;
  }
  const optional: readonly string[] =
    (OPTIONAL_HANDLER_ENV as Record<string, readonly string[]>)[spec.handler] ?? [];
  for (const [name, value] of Object.entries(spec.optionalEnv ?? {})) {
    if (!optional.includes(name)) throw new Error(`${spec.name}: the handler does not read ${name}`);
    if (value !== undefined) variables[name] = value;
  }
  const environment: Record<string, pulumi.Input<string>> = {
    ...variables,
    POWERTOOLS_SERVICE_NAME: "airlock",
    POWERTOOLS_LOG_LEVEL: "INFO",
  };
  const bound = environmentBound(environment);
  if (bound > LAMBDA_ENV_MAX_BYTES) {
    throw new Error(
      `${spec.name}: its environment may reach ${bound} bytes, over Lambda's ${LAMBDA_ENV_MAX_BYTES}` +
        (variables.AIRLOCK_SCAN_BLOCKLIST
          ? "; move scanBlocklist into an object and set scanBlocklistObject instead"
          : ""),
    );
  }
  const fn = new aws.lambda.Function(
    spec.name,
    {
      runtime: config.lambdaRuntime,
      architectures: [spec.architecture ?? "arm64"],
      handler: "index.handler",
      code: spec.code,
      role: role.arn,
      memorySize: functionMemory(config)(spec.handler),
      timeout: spec.timeoutSeconds ?? config.lambdaTimeoutSeconds,
      tracingConfig: { mode: "Active" },
      vpcConfig: spec.vpc,
      loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      // No NODE_OPTIONS=--enable-source-maps: the bundles ship without their maps (see build.ts).
      environment: { variables: environment },
    },
    { parent, dependsOn: [policy, logGroup] },
  );
  return { fn, role, policy, logGroup };
}

/** What Lambda needs to attach a function to a VPC: network interfaces in the given subnets and groups only. */
function vpcStatements(vpc: NonNullable<FunctionSpec["vpc"]>): Statement[] {
  const ec2 = (resource: string) => pulumi.interpolate`arn:aws:ec2:*:*:${resource}`;
  return [
    {
      Sid: "VpcNetworkInterfaces",
      Effect: "Allow",
      Action: ["ec2:CreateNetworkInterface"],
      Resource: [
        ec2("network-interface/*"),
        ...vpc.subnetIds.map((id) => pulumi.interpolate`${ec2("subnet/")}${id}`),
        ...vpc.securityGroupIds.map((id) => pulumi.interpolate`${ec2("security-group/")}${id}`),
      ],
    },
    {
      Sid: "VpcNetworkInterfaceLifecycle",
      Effect: "Allow",
      Action: [
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ],
      Resource: [ec2("network-interface/*")],
    },
    {
      // EC2 Describe calls have no resource-level permissions (listed in the policy pack's exceptions).
      Sid: "VpcDescribe",
      Effect: "Allow",
      Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
      Resource: ["*"],
    },
  ];
}

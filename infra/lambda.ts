/**
 * One Lambda function: its bundle (an archive built by esbuild, never a closure), its own role, its log group
 * with retention, X-Ray tracing, and exactly the environment its handler validates at cold start.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { HANDLER_ENV, type HandlerName } from "../shared/config/env.ts";
import type { AirlockConfig } from "./config.ts";
import { lambdaRole, type Statement } from "./iam.ts";

export interface FunctionSpec {
  name: string;
  handler: HandlerName;
  code: pulumi.asset.Archive;
  env: Partial<Record<(typeof HANDLER_ENV)[HandlerName][number], pulumi.Input<string>>>;
  statements: Statement[];
  timeoutSeconds?: number;
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
  const fn = new aws.lambda.Function(
    spec.name,
    {
      runtime: config.lambdaRuntime,
      architectures: ["arm64"],
      handler: "index.handler",
      code: spec.code,
      role: role.arn,
      memorySize: config.lambdaMemoryMb,
      timeout: spec.timeoutSeconds ?? config.lambdaTimeoutSeconds,
      tracingConfig: { mode: "Active" },
      loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      environment: {
        variables: {
          ...variables,
          POWERTOOLS_SERVICE_NAME: "airlock",
          POWERTOOLS_LOG_LEVEL: "INFO",
          NODE_OPTIONS: "--enable-source-maps",
        },
      },
    },
    { parent, dependsOn: [policy, logGroup] },
  );
  return { fn, role, policy, logGroup };
}

/**
 * IAM helpers: every Lambda gets its own role with an inline policy of exactly the statements it needs.
 * Statements that AWS only accepts with `Resource: "*"` are named in one place with the reason.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: pulumi.Input<string>[];
  Condition?: Record<string, Record<string, pulumi.Input<string | string[]>>>;
}

/** Actions that AWS only authorizes on `Resource: "*"`, and why Airlock needs them. */
export const WILDCARD_RESOURCE_EXCEPTIONS: Record<string, string> = {
  "xray:PutTraceSegments": "X-Ray has no resource-level permissions; needed for active tracing",
  "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions; needed for active tracing",
};

export function policyDocument(statements: Statement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

export function lambdaRole(
  name: string,
  statements: Statement[],
  parent: pulumi.Resource,
): { role: aws.iam.Role; policy: aws.iam.RolePolicy } {
  const role = new aws.iam.Role(
    `${name}-role`,
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      }),
    },
    { parent },
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-policy`,
    {
      role: role.id,
      policy: policyDocument([
        ...statements,
        {
          Sid: "Tracing",
          Effect: "Allow",
          Action: Object.keys(WILDCARD_RESOURCE_EXCEPTIONS),
          Resource: ["*"],
        },
      ]),
    },
    { parent },
  );
  return { role, policy };
}

/** A role an AWS service assumes on this account's behalf (and for this account only: confused-deputy guard). */
export function serviceRole(
  name: string,
  service: string,
  accountId: pulumi.Input<string>,
  description: string,
  parent: pulumi.Resource,
): aws.iam.Role {
  return new aws.iam.Role(
    name,
    {
      description,
      assumeRolePolicy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: service },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": accountId } },
          },
        ],
      }),
    },
    { parent },
  );
}

/** The Lambda context the local stack hands each invocation (in process or on a function's own thread). */
import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";

export const LOCAL_ACCOUNT = "000000000000";

export function lambdaContext(functionName: string, timeoutMs: number, region: string): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

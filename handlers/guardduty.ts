/**
 * GuardDuty results (EventBridge → SQS): each "Object Scan Result" completes the scan stage of its file. A
 * message that is not such an event, or whose file is not registered yet, fails on its own (partial batch
 * response): it is retried and, after the queue's receive count, dead-lettered — never dropped.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { DynamoScanPartStore } from "../core/adapters/dynamo-scan-parts.ts";
import { parseGuardDutyEvent } from "../core/domain/scan/guardduty.ts";
import { documentClient, pipelineDeps } from "../core/runtime/clients.ts";
import { HANDLER_ENV, readEnv } from "../core/runtime/env.ts";
import { logger } from "../core/runtime/logger.ts";
import { type GuardDutyDeps, recordGuardDutyResult } from "../core/usecases/pipeline/guardduty.ts";

export function guardDutyBatchHandler(deps: GuardDutyDeps) {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const event = parseGuardDutyEvent(record.body);
    const { fileId, outcome } = await recordGuardDutyResult(event, deps);
    logger.info("GuardDuty result processed", {
      fileId,
      key: event.detail.s3ObjectDetails.objectKey,
      result: event.detail.scanResultDetails.scanResultStatus,
      outcome,
    });
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
}

const env = readEnv(HANDLER_ENV.guardduty);
export const lambdaHandler = guardDutyBatchHandler({
  ...pipelineDeps(env),
  parts: new DynamoScanPartStore(documentClient(), env.AIRLOCK_TABLE_NAME),
});
export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));

/**
 * GuardDuty results (EventBridge → SQS): each "Object Scan Result" completes the scan stage of its file. A
 * message that is not such an event, or whose file is not registered yet, fails on its own (partial batch
 * response): it is retried and, after the queue's receive count, dead-lettered — never dropped.
 */
import { DynamoScanPartStore } from "../core/adapters/dynamo-scan-parts.ts";
import { parseGuardDutyEvent } from "../core/domain/scan/guardduty.ts";
import { createClients, pipelineDeps } from "../core/runtime/clients.ts";
import { HANDLER_ENV, readEnv } from "../core/runtime/env.ts";
import { lambda } from "../core/runtime/lambda.ts";
import { logger } from "../core/runtime/logger.ts";
import { sqsBatchHandler } from "../core/runtime/sqs-batch.ts";
import { type GuardDutyDeps, recordGuardDutyResult } from "../core/usecases/pipeline/guardduty.ts";

export function guardDutyBatchHandler(deps: GuardDutyDeps) {
  return sqsBatchHandler("guardduty results", async (record) => {
    const event = parseGuardDutyEvent(record.body);
    const { fileId, outcome } = await recordGuardDutyResult(event, deps);
    logger.info("GuardDuty result processed", {
      fileId,
      key: event.detail.s3ObjectDetails.objectKey,
      result: event.detail.scanResultDetails.scanResultStatus,
      outcome,
    });
  });
}

const env = readEnv(HANDLER_ENV.guardduty);
const clients = createClients();
export const lambdaHandler = guardDutyBatchHandler({
  ...pipelineDeps(env, clients),
  parts: new DynamoScanPartStore(clients.documents, env.AIRLOCK_TABLE_NAME),
});
export const handler = lambda(lambdaHandler);

/**
 * The SQS side of a stage Lambda: each record of the batch is parsed and run through the stage; failures are
 * reported per record (partial batch response) so that only they are redelivered and, after the queue's
 * receive count, dead-lettered.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { parseStageMessage } from "../domain/events.ts";
import type { StageName } from "../domain/types.ts";
import { type Judge, runStage, type StageDeps } from "../usecases/pipeline/stage.ts";
import { logger } from "./logger.ts";

export function stageBatchHandler(stage: StageName, judge: Judge, deps: StageDeps) {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    let events: ReturnType<typeof parseStageMessage>;
    try {
      events = parseStageMessage(record.body);
    } catch (error) {
      logger.error("Unreadable stage message; it will be dead-lettered", {
        stage,
        messageId: record.messageId,
        error,
      });
      throw error;
    }
    for (const event of events) {
      const { fileId, outcome } = await runStage(stage, event, judge, deps);
      logger.info("Stage processed", { stage, fileId, key: event.version.key, outcome });
    }
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
}

/**
 * The one SQS batch wrapper, for every queue consumer (the stages, the OCR continuation, GuardDuty results, the
 * dead letters). Each record runs through `handle`; a record that throws is reported in the partial batch
 * response, so only it is redelivered and, after the queue's receive count, dead-lettered. A record that
 * returns normally is deleted. A batch where every record failed is answered the same way (all listed), not by
 * throwing, so the receive counts stay per message.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { logger } from "./logger.ts";

export type RecordHandler = (record: SQSRecord) => Promise<void>;

export function sqsBatchHandler(
  consumer: string,
  handle: RecordHandler,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    try {
      await handle(record);
    } catch (error) {
      logger.error("Message failed; the queue will redeliver it", {
        consumer,
        messageId: record.messageId,
        receives: record.attributes.ApproximateReceiveCount,
        error,
      });
      throw error;
    }
  };
  return async (event, context) =>
    // A processor per invocation: it holds the batch's state, and invocations may overlap (the local stack's
    // pollers, Lambda Managed Instances).
    processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
}

/**
 * Dead-letter consumer for the three stage queues. A message lands here after the stage failed it the
 * configured number of times; the file then ends FAILED with the reason, is never promoted, and is notified.
 * A message nobody can read is kept in the table (UNREADABLE#<day>) instead of being dropped.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { MalformedEventError, parseStageMessage } from "../core/domain/events.ts";
import { STAGES, type StageName } from "../core/domain/types.ts";
import { pipelineDeps } from "../core/runtime/clients.ts";
import { HANDLER_ENV, readEnv } from "../core/runtime/env.ts";
import { logger } from "../core/runtime/logger.ts";
import { failStage } from "../core/usecases/pipeline/stage.ts";

const env = readEnv(HANDLER_ENV.deadLetter);
const deps = pipelineDeps(env);

/** Dead-letter queues are named after their stage (`…-validate-dlq…`). */
export function stageOfQueue(queueArn: string): StageName | undefined {
  const name = queueArn.slice(queueArn.lastIndexOf(":") + 1);
  return STAGES.find((stage) => name.includes(`-${stage}-`) || name.startsWith(`${stage}-`));
}

export async function lambdaHandler(event: SQSEvent, _context: Context): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
  for (const record of event.Records) {
    try {
      const stage = stageOfQueue(record.eventSourceARN);
      const receives = record.attributes.ApproximateReceiveCount;
      if (!stage) {
        await deps.records.keepUnreadable(record.eventSourceARN, record.messageId, record.body);
        logger.error("Dead letter from a queue of no known stage; kept as unreadable", {
          queue: record.eventSourceARN,
        });
        continue;
      }
      let events: ReturnType<typeof parseStageMessage>;
      try {
        events = parseStageMessage(record.body);
      } catch (error) {
        if (!(error instanceof MalformedEventError)) throw error;
        await deps.records.keepUnreadable(record.eventSourceARN, record.messageId, record.body);
        logger.error("Unreadable dead letter kept in the table", {
          stage,
          messageId: record.messageId,
          error,
        });
        continue;
      }
      for (const created of events) {
        const { fileId, outcome } = await failStage(
          stage,
          created.version,
          "gave up after repeated attempts",
          deps,
        );
        logger.warn("Stage dead-lettered", { stage, fileId, outcome, receives });
      }
    } catch (error) {
      logger.error("Dead letter could not be processed", { messageId: record.messageId, error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));

/**
 * Dead-letter consumer for the three stage queues. A message lands here after the stage failed it the
 * configured number of times; the file then ends FAILED with the reason, is never promoted, and is notified.
 * A message nobody can read is kept in the table (UNREADABLE#<day>) instead of being dropped.
 */
import { MalformedEventError, parseStageMessage } from "../core/domain/events.ts";
import { STAGES, type StageName } from "../core/domain/types.ts";
import { createClients, pipelineDeps } from "../core/runtime/clients.ts";
import { HANDLER_ENV, readEnv } from "../core/runtime/env.ts";
import { lambda } from "../core/runtime/lambda.ts";
import { logger } from "../core/runtime/logger.ts";
import { sqsBatchHandler } from "../core/runtime/sqs-batch.ts";
import { failStage } from "../core/usecases/pipeline/stage.ts";

const env = readEnv(HANDLER_ENV.deadLetter);
const clients = createClients();
const deps = pipelineDeps(env, clients);

/** Dead-letter queues are named after their stage (`…-validate-dlq…`). */
export function stageOfQueue(queueArn: string): StageName | undefined {
  const name = queueArn.slice(queueArn.lastIndexOf(":") + 1);
  return STAGES.find((stage) => name.includes(`-${stage}-`) || name.startsWith(`${stage}-`));
}

/** Fails the stage of each dead letter; keeps what nobody can read. A record that throws is redelivered. */
export const lambdaHandler = sqsBatchHandler("dead letters", async (record) => {
  const stage = stageOfQueue(record.eventSourceARN);
  const receives = record.attributes.ApproximateReceiveCount;
  if (!stage) {
    await deps.records.keepUnreadable(record.eventSourceARN, record.messageId, record.body);
    logger.error("Dead letter from a queue of no known stage; kept as unreadable", {
      queue: record.eventSourceARN,
    });
    return;
  }
  let events: ReturnType<typeof parseStageMessage>;
  try {
    events = parseStageMessage(record.body);
  } catch (error) {
    if (!(error instanceof MalformedEventError)) throw error;
    await deps.records.keepUnreadable(record.eventSourceARN, record.messageId, record.body);
    logger.error("Unreadable dead letter kept in the table", { stage, messageId: record.messageId, error });
    return;
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
});

export const handler = lambda(lambdaHandler);

/** The SQS side of a stage Lambda: each record is parsed and run through the stage (one SQS batch wrapper). */
import { parseStageMessage } from "../domain/events.ts";
import type { StageName } from "../domain/types.ts";
import { type Judge, runStage, type StageDeps } from "../usecases/pipeline/stage.ts";
import { logger } from "./logger.ts";
import { sqsBatchHandler } from "./sqs-batch.ts";

export function stageBatchHandler(stage: StageName, judge: Judge, deps: StageDeps) {
  return sqsBatchHandler(`${stage} stage`, async (record) => {
    // An unreadable message throws here: it is redelivered and then dead-lettered, where it is kept.
    for (const event of parseStageMessage(record.body)) {
      const { fileId, outcome } = await runStage(stage, event, judge, deps);
      logger.info("Stage processed", { stage, fileId, key: event.version.key, outcome });
    }
  });
}

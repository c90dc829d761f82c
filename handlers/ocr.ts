/**
 * OCR continuation: Textract's job completions (SNS → SQS) complete the metadata stage of their file.
 * Failures are reported per record, retried by the queue and dead-lettered after its receive count.
 */
import { DynamoOcrJobStore } from "../core/adapters/dynamo-staging.ts";
import { TextractOcr } from "../core/adapters/textract-ocr.ts";
import { createClients, pipelineDeps } from "../core/runtime/clients.ts";
import { HANDLER_ENV, readEnv } from "../core/runtime/env.ts";
import { lambda } from "../core/runtime/lambda.ts";
import { logger } from "../core/runtime/logger.ts";
import { sqsBatchHandler } from "../core/runtime/sqs-batch.ts";
import { continueOcr, type OcrDeps, parseOcrCompletion } from "../core/usecases/pipeline/ocr.ts";

export function ocrBatchHandler(deps: OcrDeps) {
  return sqsBatchHandler("ocr continuation", async (record) => {
    const notice = parseOcrCompletion(record.body);
    const outcome = await continueOcr(notice, deps);
    logger.info("OCR job processed", {
      fileId: notice.JobTag,
      jobId: notice.JobId,
      status: notice.Status,
      outcome,
    });
  });
}

const env = readEnv(HANDLER_ENV.ocr);
const clients = createClients();

export const lambdaHandler = ocrBatchHandler({
  ...pipelineDeps(env, clients),
  // Reading a finished job's results needs no notification channel.
  engine: new TextractOcr(clients.textract, {}),
  jobs: new DynamoOcrJobStore(clients.documents, env.AIRLOCK_TABLE_NAME),
  textMaxChars: env.AIRLOCK_TEXT_MAX_CHARS,
});
export const handler = lambda(lambdaHandler);

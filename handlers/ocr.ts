/**
 * OCR continuation: Textract's job completions (SNS → SQS) complete the metadata stage of their file.
 * Failures are reported per record, retried by the queue and dead-lettered after its receive count.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { TextractClient } from "@aws-sdk/client-textract";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { DynamoOcrJobStore } from "../core/adapters/dynamo-staging.ts";
import { TextractOcr } from "../core/adapters/textract-ocr.ts";
import { documentClient, pipelineDeps } from "../core/runtime/clients.ts";
import { HANDLER_ENV, readEnv } from "../core/runtime/env.ts";
import { logger } from "../core/runtime/logger.ts";
import { continueOcr, type OcrDeps, parseOcrCompletion } from "../core/usecases/pipeline/ocr.ts";

export function ocrBatchHandler(deps: OcrDeps) {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const notice = parseOcrCompletion(record.body);
    const outcome = await continueOcr(notice, deps);
    logger.info("OCR job processed", {
      fileId: notice.JobTag,
      jobId: notice.JobId,
      status: notice.Status,
      outcome,
    });
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
}

const env = readEnv(HANDLER_ENV.ocr);

export const lambdaHandler = ocrBatchHandler({
  ...pipelineDeps(env),
  // Reading a finished job's results needs no notification channel.
  engine: new TextractOcr(new TextractClient({}), {}),
  jobs: new DynamoOcrJobStore(documentClient(), env.AIRLOCK_TABLE_NAME),
  textMaxChars: env.AIRLOCK_TEXT_MAX_CHARS,
});
export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));

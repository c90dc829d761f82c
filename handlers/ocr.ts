/**
 * OCR continuation: Textract's job completions (SNS → SQS) complete the metadata stage of their file.
 * Failures are reported per record, retried by the queue and dead-lettered after its receive count.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { TextractClient } from "@aws-sdk/client-textract";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { DynamoOcrJobStore } from "../shared/adapters/dynamo-staging.ts";
import { TextractOcr } from "../shared/adapters/textract-ocr.ts";
import { HANDLER_ENV, readEnv } from "../shared/config/env.ts";
import { continueOcr, type OcrDeps, parseOcrCompletion } from "../shared/pipeline/ocr.ts";
import { documentClient, pipelineDeps } from "../shared/runtime/clients.ts";
import { logger } from "../shared/runtime/logger.ts";

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

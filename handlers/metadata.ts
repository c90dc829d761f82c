/**
 * Metadata stage: one streamed pass for sha256, size, detected type, document facts and extracted text;
 * OCR through Textract when configured (asynchronous jobs are continued by the OCR handler).
 */
import { createClients, ocrDeps, pipelineDeps } from "../core/runtime/clients.ts";
import { HANDLER_ENV, readEnv } from "../core/runtime/env.ts";
import { lambda } from "../core/runtime/lambda.ts";
import { stageBatchHandler } from "../core/runtime/stage-batch.ts";
import { metadataJudge, sizeLimit } from "../core/usecases/pipeline/judges.ts";

const env = readEnv(HANDLER_ENV.metadata);
const clients = createClients();
const deps = pipelineDeps(env, clients);
const { engine, jobs } = ocrDeps(env, process.env, clients);

export const lambdaHandler = stageBatchHandler(
  "metadata",
  metadataJudge(deps.objects, {
    textMaxChars: env.AIRLOCK_TEXT_MAX_CHARS,
    pdfMaxBytes: env.AIRLOCK_TEXT_PDF_MAX_BYTES,
    ocr: env.AIRLOCK_OCR,
    texts: deps.texts,
    engine,
    jobs,
    // An object larger than its upload declared (or the policy allows) is not read at all.
    sizeLimit: sizeLimit(env.AIRLOCK_MAX_SIZE_BYTES, (id) => deps.records.getUploadSession(id)),
  }),
  deps,
);
export const handler = lambda(lambdaHandler);

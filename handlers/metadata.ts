/** Metadata stage: one streamed pass for sha256, size, detected type and document facts. */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { HANDLER_ENV, readEnv } from "../shared/config/env.ts";
import { metadataJudge } from "../shared/pipeline/judges.ts";
import { pipelineDeps } from "../shared/runtime/clients.ts";
import { logger } from "../shared/runtime/logger.ts";
import { stageBatchHandler } from "../shared/runtime/stage-batch.ts";

const env = readEnv(HANDLER_ENV.metadata);
const deps = pipelineDeps(env);

export const lambdaHandler = stageBatchHandler("metadata", metadataJudge(deps.objects), deps);
export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));

/** Validation stage: size bounds, real type from the first bytes, allow-list, declared type agreement. */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { HANDLER_ENV, readEnv } from "../shared/config/env.ts";
import { validateJudge } from "../shared/pipeline/judges.ts";
import { pipelineDeps } from "../shared/runtime/clients.ts";
import { logger } from "../shared/runtime/logger.ts";
import { stageBatchHandler } from "../shared/runtime/stage-batch.ts";

const env = readEnv(HANDLER_ENV.validate);
const deps = pipelineDeps(env);
const policy = { maxSizeBytes: env.AIRLOCK_MAX_SIZE_BYTES, allowedTypes: env.AIRLOCK_ALLOWED_TYPES };

export const lambdaHandler = stageBatchHandler(
  "validate",
  validateJudge(deps.objects, policy, (id) => deps.records.getUploadSession(id)),
  deps,
);
export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));

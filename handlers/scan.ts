/** Scan stage: streams the object once through the built-in engine; an error is never "clean". */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { HANDLER_ENV, readEnv } from "../shared/config/env.ts";
import { scanJudge } from "../shared/pipeline/judges.ts";
import { pipelineDeps } from "../shared/runtime/clients.ts";
import { logger } from "../shared/runtime/logger.ts";
import { stageBatchHandler } from "../shared/runtime/stage-batch.ts";
import { createBuiltinEngine } from "../shared/scan/index.ts";

const env = readEnv(HANDLER_ENV.scan);
const deps = pipelineDeps(env);
const engine = createBuiltinEngine({
  maxDepth: env.AIRLOCK_SCAN_MAX_DEPTH,
  maxEntries: env.AIRLOCK_SCAN_MAX_ENTRIES,
  maxExpandedBytes: env.AIRLOCK_SCAN_MAX_EXPANDED_BYTES,
  maxRatio: env.AIRLOCK_SCAN_MAX_RATIO,
});

export const lambdaHandler = stageBatchHandler("scan", scanJudge(deps.objects, engine), deps);
export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));

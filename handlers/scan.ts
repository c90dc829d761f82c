/**
 * Scan stage: streams the object through the built-in engine and, when `AIRLOCK_CLAMD_ENDPOINT` is set, through
 * clamd; an error of any engine is never "clean".
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { HANDLER_ENV, OPTIONAL_HANDLER_ENV, readEnv, readOptionalEnv } from "../shared/config/env.ts";
import { scanJudge } from "../shared/pipeline/judges.ts";
import { pipelineDeps } from "../shared/runtime/clients.ts";
import { logger } from "../shared/runtime/logger.ts";
import { stageBatchHandler } from "../shared/runtime/stage-batch.ts";
import { CLAMAV_DEFAULTS, createClamavEngine } from "../shared/scan/clamav.ts";
import { createBuiltinEngine, type ScanEngine } from "../shared/scan/index.ts";

const env = readEnv(HANDLER_ENV.scan);
const optional = readOptionalEnv(OPTIONAL_HANDLER_ENV.scan);
const deps = pipelineDeps(env);
const engines: ScanEngine[] = [
  createBuiltinEngine({
    maxDepth: env.AIRLOCK_SCAN_MAX_DEPTH,
    maxEntries: env.AIRLOCK_SCAN_MAX_ENTRIES,
    maxExpandedBytes: env.AIRLOCK_SCAN_MAX_EXPANDED_BYTES,
    maxRatio: env.AIRLOCK_SCAN_MAX_RATIO,
  }),
];
if (optional.AIRLOCK_CLAMD_ENDPOINT)
  engines.push(
    createClamavEngine({
      endpoint: optional.AIRLOCK_CLAMD_ENDPOINT,
      streamMaxBytes: optional.AIRLOCK_CLAMD_STREAM_MAX_BYTES ?? CLAMAV_DEFAULTS.streamMaxBytes,
      timeoutMs: optional.AIRLOCK_CLAMD_TIMEOUT_MS ?? CLAMAV_DEFAULTS.timeoutMs,
    }),
  );

export const lambdaHandler = stageBatchHandler("scan", scanJudge(deps.objects, engines), deps);
export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));

/** Validation stage: size bounds, real type from the first bytes, allow-list, declared type agreement. */
import { createClients, pipelineDeps } from "../core/runtime/clients.ts";
import { HANDLER_ENV, readEnv } from "../core/runtime/env.ts";
import { lambda } from "../core/runtime/lambda.ts";
import { stageBatchHandler } from "../core/runtime/stage-batch.ts";
import { validateJudge } from "../core/usecases/pipeline/judges.ts";

const env = readEnv(HANDLER_ENV.validate);
const clients = createClients();
const deps = pipelineDeps(env, clients);
const policy = { maxSizeBytes: env.AIRLOCK_MAX_SIZE_BYTES, allowedTypes: env.AIRLOCK_ALLOWED_TYPES };

export const lambdaHandler = stageBatchHandler(
  "validate",
  validateJudge(deps.objects, policy, (id) => deps.records.getUploadSession(id)),
  deps,
);
export const handler = lambda(lambdaHandler);

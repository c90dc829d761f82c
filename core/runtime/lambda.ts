/**
 * The Lambda glue every handler shares: the invocation traced (X-Ray; off outside Lambda; responses are not
 * recorded, they can hold keys and signed URLs) and logged with its context.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { tracer } from "./clients.ts";
import { logger } from "./logger.ts";

export function lambda<E, R>(handler: (event: E, context: Context) => Promise<R>) {
  return middy<E, R>(handler)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger));
}

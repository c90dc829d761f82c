/** The HTTP API behind API Gateway's JWT authorizer: uploads, status, list, download and delete. */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { DynamoRecordStore } from "../core/adapters/dynamo-records.ts";
import { DynamoOcrJobStore, DynamoTextStore } from "../core/adapters/dynamo-staging.ts";
import { S3ContentEraser, S3DownloadSigner, S3UploadStorage } from "../core/adapters/s3-uploads.ts";
import { createRoutes } from "../core/http/routes.ts";
import { createClients, cursorSecret } from "../core/runtime/clients.ts";
import { HANDLER_ENV, OPTIONAL_HANDLER_ENV, readEnv, readOptionalEnv } from "../core/runtime/env.ts";
import { logger } from "../core/runtime/logger.ts";

const env = readEnv(HANDLER_ENV.api);
const clients = createClients();
const { documents, s3 } = clients;
const secret = await cursorSecret(readOptionalEnv(OPTIONAL_HANDLER_ENV.api), clients);
export const lambdaHandler = createRoutes({
  records: new DynamoRecordStore(documents, env.AIRLOCK_TABLE_NAME),
  texts: new DynamoTextStore(documents, s3, env.AIRLOCK_TABLE_NAME),
  ocrJobs: new DynamoOcrJobStore(documents, env.AIRLOCK_TABLE_NAME),
  uploads: new S3UploadStorage(s3, env.AIRLOCK_INGEST_BUCKET),
  downloads: new S3DownloadSigner(s3, env.AIRLOCK_CLEAN_BUCKET),
  eraser: new S3ContentEraser(s3),
  cleanBucket: env.AIRLOCK_CLEAN_BUCKET,
  maxSizeBytes: env.AIRLOCK_MAX_SIZE_BYTES,
  allowedTypes: env.AIRLOCK_ALLOWED_TYPES,
  uploadExpirySeconds: env.AIRLOCK_UPLOAD_EXPIRY_SECONDS,
  downloadExpirySeconds: env.AIRLOCK_DOWNLOAD_EXPIRY_SECONDS,
  multipartThresholdBytes: env.AIRLOCK_MULTIPART_THRESHOLD_BYTES,
  cursorSecret: secret,
  logger,
});

export const handler = middy<APIGatewayProxyEventV2WithJWTAuthorizer>(lambdaHandler)
  .use(injectLambdaContext(logger))
  // Unexpected errors are logged and answered with a bare 500; nothing internal reaches the caller.
  .use(
    httpErrorHandler({
      logger: (error) => logger.error("Unhandled API error", { error }),
      fallbackMessage: JSON.stringify({ message: "Internal error" }),
    }),
  );

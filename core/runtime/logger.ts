/** The one structured logger. Handlers log through it with the file id as the correlation key. */
import { Logger } from "@aws-lambda-powertools/logger";

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "airlock" });

/** Scheduled sweeper: re-drives files stuck in PENDING, then fails them if they stay stuck. */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import middy from "@middy/core";
import { HANDLER_ENV, readEnv } from "../shared/config/env.ts";
import { type SweepReport, sweep } from "../shared/pipeline/sweep.ts";
import { pipelineDeps } from "../shared/runtime/clients.ts";
import { logger } from "../shared/runtime/logger.ts";

const env = readEnv(HANDLER_ENV.sweeper);
const deps = pipelineDeps(env);
const sns = new SNSClient({});

export async function lambdaHandler(): Promise<SweepReport> {
  const report = await sweep(
    {
      ...deps,
      redrive: async (message) => {
        await sns.send(new PublishCommand({ TopicArn: env.AIRLOCK_FANOUT_TOPIC_ARN, Message: message }));
      },
    },
    env.AIRLOCK_STUCK_AFTER_SECONDS,
  );
  logger.info("Sweep finished", { redriven: report.redriven.length, failed: report.failed.length });
  return report;
}

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));

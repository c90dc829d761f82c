/**
 * Scheduled sweeper: re-drives files stuck in PENDING, then fails them if they stay stuck; with
 * `AIRLOCK_RESCAN_FAILED_AFTER_SECONDS`, rescans files that FAILED on a scan error.
 */
import { S3Inventory } from "../core/adapters/s3-inventory.ts";
import { createClients, fanoutPublisher, pipelineDeps } from "../core/runtime/clients.ts";
import { HANDLER_ENV, OPTIONAL_HANDLER_ENV, readEnv, readOptionalEnv } from "../core/runtime/env.ts";
import { lambda } from "../core/runtime/lambda.ts";
import { logger } from "../core/runtime/logger.ts";
import { reconcile } from "../core/usecases/pipeline/reconcile.ts";
import { type SweepReport, sweep } from "../core/usecases/pipeline/sweep.ts";

const env = readEnv(HANDLER_ENV.sweeper);
const optional = readOptionalEnv(OPTIONAL_HANDLER_ENV.sweeper);
const rescanFailed = optional.AIRLOCK_RESCAN_FAILED_AFTER_SECONDS
  ? {
      afterSeconds: optional.AIRLOCK_RESCAN_FAILED_AFTER_SECONDS,
      maxAttempts: optional.AIRLOCK_RESCAN_MAX_ATTEMPTS ?? 3,
    }
  : undefined;
const clients = createClients();
const deps = pipelineDeps(env, clients);
const redrive = fanoutPublisher(env.AIRLOCK_FANOUT_TOPIC_ARN, clients);
const inventory = optional.AIRLOCK_RECONCILE === "on" ? new S3Inventory(clients.s3) : undefined;

export async function lambdaHandler(): Promise<SweepReport> {
  const report = await sweep({ ...deps, redrive }, env.AIRLOCK_STUCK_AFTER_SECONDS, new Date(), rescanFailed);
  logger.info("Sweep finished", {
    redriven: report.redriven.length,
    failed: report.failed.length,
    rescanned: report.rescanned.length,
    renotified: report.renotified.length,
    unsettled: report.unsettled,
  });
  if (inventory) {
    // The reconciler leaves alone what is younger than the stuck threshold: the pipeline may be on it.
    const reconciled = await reconcile(
      { ...deps, inventory, ingestBucket: env.AIRLOCK_INGEST_BUCKET, redrive },
      { graceSeconds: env.AIRLOCK_STUCK_AFTER_SECONDS },
    );
    logger.info("Reconcile finished", {
      repaired: reconciled.repaired,
      unresolved: reconciled.unresolved,
      findings: reconciled.findings,
    });
  }
  return report;
}

export const handler = lambda(lambdaHandler);

/** `airlock reconcile`: the buckets against the records, repaired where safe, reported as text or JSON. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoRecordStore } from "../../../core/adapters/dynamo-records.ts";
import { DynamoTextStore } from "../../../core/adapters/dynamo-staging.ts";
import { S3Inventory } from "../../../core/adapters/s3-inventory.ts";
import { S3ObjectStore } from "../../../core/adapters/s3-objects.ts";
import { SnsNotifier } from "../../../core/adapters/sns-notifier.ts";
import { type ReconcileReport, reconcile } from "../../../core/usecases/pipeline/reconcile.ts";
import type { LocalState } from "../../stack.ts";
import { localRedrive, localS3 } from "../clients.ts";
import { loadState } from "../home.ts";
import { print, table } from "../output.ts";

export function reconcileDeps(state: LocalState) {
  const s3 = localS3(state);
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: state.region,
      credentials: state.credentials,
      endpoint: state.endpoints.dynamodb,
    }),
    { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } },
  );
  const records = new DynamoRecordStore(documents, state.tableName);
  const sns = new SNSClient({
    region: state.region,
    credentials: state.credentials,
    endpoint: state.endpoints.sns,
  });
  return {
    records,
    objects: new S3ObjectStore(s3),
    inventory: new S3Inventory(s3),
    notifier: new SnsNotifier(sns, state.notificationsTopicArn),
    texts: new DynamoTextStore(documents, s3, state.tableName),
    cleanBucket: state.cleanBucket,
    ingestBucket: state.ingestBucket,
    redrive: localRedrive(state),
  };
}

export function describeReport(report: ReconcileReport): string {
  const { quarantine, records, clean } = report.scanned;
  const head = `Checked ${quarantine} quarantined objects, ${records} records, ${clean} clean objects: ${report.findings.length} findings, ${report.repaired} repaired, ${report.unresolved} left.`;
  if (report.findings.length === 0) return head;
  return `${head}\n${table(
    ["kind", "action", "key", "detail"],
    report.findings.map((f) => [f.kind, f.action, JSON.stringify(f.key).slice(1, -1), f.detail]),
  )}`;
}

export async function reconcileCommand(options: {
  json?: boolean;
  dryRun?: boolean;
  grace: number;
}): Promise<number> {
  const state = await loadState();
  const report = await reconcile(reconcileDeps(state), {
    repair: !options.dryRun,
    graceSeconds: options.grace,
  });
  print(report, options.json ?? false, () => describeReport(report));
  return report.unresolved === 0 ? 0 : 1;
}

/**
 * Peak memory of the local stack while it judges one very large object: a CSV object (default 5 GiB, built
 * from one repeated 64 MiB block, uploaded in parts so the benchmark never holds it) dropped into the ingest
 * bucket and taken through validation, the scan (built-in engine + SHA-256 on one read) and the metadata stage
 * to its verdict. RSS is sampled for the whole process — emulators included — so the growth over the idle
 * stack is the figure that belongs to Airlock's handlers.
 */

import { createHash } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { describeKey } from "../core/domain/keys.ts";
import { startLocalStack } from "../local/stack.ts";
import { clientsFor } from "../tests/support/local.ts";
import { textBlock } from "./clamd.ts";
import { writeResult } from "./stats.ts";

const MIB = 1024 * 1024;

export async function benchScanRss(options: { bytes: number }) {
  const partBytes = 64 * MIB;
  const block = Buffer.concat(Array.from({ length: partBytes / MIB }, () => textBlock(MIB)));
  const digest = createHash("sha256").update("unlisted").digest("hex");
  const stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    // As in AWS (six times the function timeout): a long scan is not redelivered while it runs.
    visibilityTimeoutSeconds: 900,
    maxSizeBytes: options.bytes + 1,
    blocklist: { entries: digest },
  });
  const io = clientsFor(stack);
  const mb = (n: number) => Math.round(n / MIB);
  (globalThis as { gc?: () => void }).gc?.();
  const idle = process.memoryUsage.rss();
  let peak = idle;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 100);
  try {
    const key = "drops/bench/large.csv";
    const bucket = stack.state.ingestBucket;
    const uploadStarted = performance.now();
    const { UploadId } = await io.s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: "text/csv" }),
    );
    const parts: { PartNumber: number; ETag?: string }[] = [];
    for (let n = 1, sent = 0; sent < options.bytes; n++) {
      const body = block.subarray(0, Math.min(partBytes, options.bytes - sent));
      const out = await io.s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: body }),
      );
      parts.push({ PartNumber: n, ETag: out.ETag });
      sent += body.length;
    }
    const uploadPeak = peak;
    const judgedFrom = performance.now();
    await io.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const record = await io.waitFinal(describeKey(bucket, key).fileId, 60 * 60_000);
    const seconds = (performance.now() - judgedFrom) / 1000;
    const result = {
      bytes: options.bytes,
      status: record.status,
      reasons: record.reasons,
      engines: record.stages.scan?.engines.map((e) => `${e.engine}:${e.status}`),
      uploadSeconds: Math.round((judgedFrom - uploadStarted) / 100) / 10,
      verdictSeconds: Math.round(seconds * 10) / 10,
      mbPerSecond: Math.round(options.bytes / 1e6 / seconds),
      rssMb: {
        idleStack: mb(idle),
        peakWhileUploading: mb(uploadPeak),
        peakWhileJudging: mb(peak),
        growthWhileJudging: mb(peak - Math.max(idle, uploadPeak)),
      },
    };
    await writeResult("scan-rss", result);
    return result;
  } finally {
    clearInterval(sampler);
    await stack.stop();
  }
}

export const SCAN_RSS_BENCH = { bytes: Number(process.env.AIRLOCK_BENCH_BYTES ?? 5 * 1024 * MIB) };

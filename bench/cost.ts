/**
 * `npm run bench -- cost`: what a file costs in AWS. Runs a mix through the local stack in phases (small
 * documents, images, a few large files, held files), meters every AWS request the handlers send with an SDK-level
 * wrapper (bench/sdk-meter.ts), times every handler invocation, and prices it all with bench/prices.ts.
 * Estimates from local request counts and list prices, not a bill: see the README's "Cost" section.
 * COST_SCALE=<n> multiplies the number of files of each phase (default 1: 216 files).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { TABLE_INDEXES } from "../core/adapters/dynamo-table.ts";
import { describeKey } from "../core/domain/keys.ts";
import { type LocalNotification, startLocalStack } from "../local/stack.ts";
import { zip } from "../tests/fixtures/archives.ts";
import { csv, docx, jpeg, json, pdf, png, text, xlsx } from "../tests/fixtures/documents.ts";
import { EICAR, PE } from "../tests/fixtures/malicious.ts";
import { clientsFor } from "../tests/support/local.ts";
import {
  CANDIDATE_SIZES_MB,
  DELIVERY_RESERVE_MS,
  EXTRA_PEAK_MB,
  FULL_VCPU_MB,
  type InvocationSample,
  modeledMs,
  P99_SHARE_MS,
  RUNTIME_BASELINE_MB,
  recommendSize,
  TARGET_P99_MS,
} from "./memory-size.ts";
import { ANCHORS, PRICES, PRICES_DATE } from "./prices.ts";
import {
  install,
  instrument,
  type Meter,
  meteredIndexes,
  newMeter,
  reset,
  settle,
  uninstall,
} from "./sdk-meter.ts";
import { writeResult } from "./stats.ts";

/** Memory size of every function (infra/config.ts `lambdaMemoryMb`, default 1024; infra/lambda.ts uses it). */
const LAMBDA_MEMORY_MB = 1024;
/** Email subscriptions to the verdict topic assumed per notification (SNS bills each email delivery). */
const EMAIL_SUBSCRIBERS = 1;
/** S3 Bucket Keys make KMS calls per bucket key, not per object: assumed 1 KMS call per 100 object requests. */
const KMS_CALLS_PER_OBJECT_REQUEST = 0.01;

interface FileSpec {
  key: string;
  body: Uint8Array;
  type: string;
}

const enc = (s: string) => new TextEncoder().encode(s);

function phases(scale: number): { name: string; files: FileSpec[] }[] {
  const n = (k: number) => Math.max(1, Math.round(k * scale));
  const small: FileSpec[] = Array.from({ length: n(120) }, (_, i) => {
    const kind = i % 6;
    if (kind === 0)
      return {
        key: `r${i}.pdf`,
        body: pdf({ pages: 1 + (i % 3), text: `report ${i}` }),
        type: "application/pdf",
      };
    if (kind === 1) return { key: `t${i}.csv`, body: csv(40 + i, 6), type: "text/csv" };
    if (kind === 2) return { key: `n${i}.txt`, body: text(200 + 10 * i), type: "text/plain" };
    if (kind === 3)
      return {
        key: `d${i}.json`,
        body: json({ id: i, items: Array.from({ length: 20 }, (_, j) => j) }),
        type: "application/json",
      };
    if (kind === 4)
      return {
        key: `w${i}.docx`,
        body: docx(),
        type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      };
    return {
      key: `x${i}.xlsx`,
      body: xlsx(),
      type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };
  });
  const images: FileSpec[] = Array.from({ length: n(60) }, (_, i) =>
    i % 2 === 0
      ? { key: `p${i}.png`, body: png(400 + 40 * i, 300 + 20 * i), type: "image/png" }
      : { key: `j${i}.jpg`, body: jpeg(600 + 40 * i, 400 + 20 * i), type: "image/jpeg" },
  );
  const large: FileSpec[] = Array.from({ length: n(6) }, (_, i) => {
    const mib = [8, 16, 32][i % 3] as number;
    const line = "id,amount,description,notes\n";
    const row = `${i},1234.56,"a line of a large export",padding padding padding\n`;
    return {
      key: `big${i}.csv`,
      body: enc(line + row.repeat(Math.ceil((mib * 1024 * 1024) / row.length))),
      type: "text/csv",
    };
  });
  const held: FileSpec[] = Array.from({ length: n(30) }, (_, i) => {
    const kind = i % 3;
    if (kind === 0) return { key: `eicar${i}.txt`, body: EICAR, type: "text/plain" };
    if (kind === 1) return { key: `tool${i}.pdf`, body: PE, type: "application/pdf" };
    return {
      key: `locked${i}.docx`,
      body: zip([{ name: "word/document.xml", data: enc("<w:document/>"), encrypted: true }]),
      type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    };
  });
  return [
    { name: "small documents", files: small },
    { name: "images", files: images },
    { name: "large files", files: large },
    { name: "held (infected or rejected)", files: held },
  ];
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Requests per file by service, and their price, from one phase's meter. */
function account(m: Meter, files: number, bytes: number, topics: { notifications: string }) {
  const per = (n: number) => n / files;
  let s3Put = 0;
  let s3Get = 0;
  let s3Free = 0;
  const services: Record<string, Record<string, number>> = {};
  for (const [k, count] of m.requests) {
    const [service, ...rest] = k.split(":");
    const label = rest.join(":");
    services[service as string] ??= {};
    (services[service as string] as Record<string, number>)[label] = round(per(count));
    if (service === "S3" && label.startsWith("put:")) s3Put += count;
    if (service === "S3" && label.startsWith("get:")) s3Get += count;
    if (service === "S3" && label.startsWith("free:")) s3Free += count;
  }
  const sum = (prefix: string) =>
    [...m.requests].filter(([k]) => k.startsWith(prefix)).reduce((a, [, c]) => a + c, 0);
  const dynamoRequests = sum("DynamoDB:");
  // The S3 event notification of each drop is published to the fanout topic (by S3, billed as a publish);
  // its deliveries to the three stage queues are free, and the pollers' receives are counted below.
  const snsPublishes = sum("SNS:") + files;
  const notifications = m.snsPublishesByTopic.get(topics.notifications) ?? 0;
  const emails = notifications * EMAIL_SUBSCRIBERS;
  const sqsRequests = sum("SQS:") + m.pollerRequests;
  const kms = (s3Put + s3Get) * KMS_CALLS_PER_OBJECT_REQUEST;
  const textract = sum("Textract:");
  let invocations = 0;
  let gbSeconds = 0;
  const lambda: Record<string, { invocations: number; msPerInvocation: number; gbSeconds: number }> = {};
  for (const [handler, count] of m.invocations) {
    const ms = m.durationMs.get(handler) ?? 0;
    const gbs = (LAMBDA_MEMORY_MB / 1024) * (ms / 1000);
    invocations += count;
    gbSeconds += gbs;
    lambda[handler] = {
      invocations: round(per(count)),
      msPerInvocation: round(ms / count, 1),
      gbSeconds: round(per(gbs), 5),
    };
  }
  // The upload itself: one PutObject per dropped file (by the system that drops it, on its own bill).
  const uploads = files;
  const usd = {
    s3Upload: uploads * PRICES.s3PutClass.usd,
    s3Requests: s3Put * PRICES.s3PutClass.usd + s3Get * PRICES.s3GetClass.usd,
    s3TagsMonth: m.tagsWritten * PRICES.s3Tag.usd,
    dynamodb: m.wru * PRICES.dynamoWru.usd + m.rru * PRICES.dynamoRru.usd,
    sqs: sqsRequests * PRICES.sqsRequest.usd,
    sns: snsPublishes * PRICES.snsPublish.usd + emails * PRICES.snsEmail.usd,
    kms: kms * PRICES.kmsRequest.usd,
    textract: 0,
    lambda: invocations * PRICES.lambdaRequest.usd + gbSeconds * PRICES.lambdaArmGbSecond.usd,
  };
  const total = Object.values(usd).reduce((a, b) => a + b, 0);
  const avgBytes = bytes / files;
  const gb = avgBytes / 1024 ** 3;
  const clamav = ANCHORS.lambdaClamav.seconds.map(
    (s) => ANCHORS.lambdaClamav.memoryGb * s * PRICES.lambdaX86GbSecond.usd + PRICES.lambdaRequest.usd,
  );
  const million = (usdPerFile: number) => Math.round(usdPerFile * 1_000_000);
  return {
    files,
    averageBytes: Math.round(avgBytes),
    requestsPerFile: {
      s3: {
        putClass: round(per(s3Put)),
        getClass: round(per(s3Get)),
        free: round(per(s3Free)),
        tagsWritten: round(per(m.tagsWritten)),
        byCommand: services.S3 ?? {},
      },
      dynamodb: {
        requests: round(per(dynamoRequests)),
        wru: round(per(m.wru)),
        ofWhichIndexes: round(per(m.gsiWru)),
        rru: round(per(m.rru)),
        byCommand: services.DynamoDB ?? {},
      },
      sqs: {
        requests: round(per(sqsRequests)),
        byHandlers: round(per(sum("SQS:"))),
        byEventSourcePollers: round(per(m.pollerRequests)),
      },
      sns: { publishes: round(per(snsPublishes)), ofWhichS3Events: 1, emailDeliveries: round(per(emails)) },
      kms: { estimated: round(per(kms), 4) },
      textract: { requests: round(per(textract)), pages: 0 },
      lambda: {
        invocations: round(per(invocations)),
        gbSeconds: round(per(gbSeconds), 5),
        byFunction: lambda,
      },
      /** Every billed request a file causes: the handlers', the pollers', the S3 event, the invocations. */
      total: round(
        per(s3Put + s3Get + s3Free + dynamoRequests + sqsRequests + snsPublishes + textract + invocations),
      ),
      /** What the handlers send themselves (the figure the SDK-call count of issue 17 is about). */
      handlersOnly: round(per([...m.requests.values()].reduce((a, c) => a + c, 0))),
    },
    uploadPutsPerFile: 1,
    /** What each function sends, per file: where the requests come from (and what a cut would save). */
    commandsPerFileByHandler: Object.fromEntries(
      [...m.byHandler].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, round(per(v))]),
    ),
    usdPerMillionFiles: {
      ...Object.fromEntries(Object.entries(usd).map(([k, v]) => [k, million(v / files)])),
      total: million(total / files),
    },
    anchorsUsdPerMillionFiles: {
      guardDuty: million(gb * ANCHORS.guardDuty.perGb + ANCHORS.guardDuty.perThousandObjects / 1000),
      trend: million(ANCHORS.trend.perScan),
      lambdaClamav: clamav.map(million),
    },
  };
}

interface MeteredResult {
  phases: Record<string, ReturnType<typeof account>>;
  mix: ReturnType<typeof account>;
  [field: string]: unknown;
}

export async function benchCost(options: { scale: number }) {
  const waiting = new Map<string, () => void>();
  const stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    instrument,
    onNotification: (n: LocalNotification) => waiting.get(n.attributes.fileId ?? "")?.(),
  });
  const { state } = stack;
  install({
    dynamodb: new DynamoDBClient({
      region: state.region,
      credentials: state.credentials,
      endpoint: state.endpoints.dynamodb,
    }),
    stageQueues: Object.values(state.queues).flatMap((q) => [q.url, q.dlqUrl]),
    // The indexes as the table has them (infra/storage.ts and the local stack build it from this definition).
    gsis: meteredIndexes(TABLE_INDEXES),
  });
  const io = clientsFor(stack);
  const results: Record<string, ReturnType<typeof account>> = {};
  const all = newMeter();
  const merge = (into: Meter, from: Meter) => {
    for (const [k, v] of from.requests) into.requests.set(k, (into.requests.get(k) ?? 0) + v);
    for (const [k, v] of from.invocations) into.invocations.set(k, (into.invocations.get(k) ?? 0) + v);
    for (const [k, v] of from.durationMs) into.durationMs.set(k, (into.durationMs.get(k) ?? 0) + v);
    for (const [k, v] of from.snsPublishesByTopic)
      into.snsPublishesByTopic.set(k, (into.snsPublishesByTopic.get(k) ?? 0) + v);
    into.wru += from.wru;
    into.gsiWru += from.gsiWru;
    into.rru += from.rru;
    into.tagsWritten += from.tagsWritten;
    into.pollerRequests += from.pollerRequests;
    for (const [k, v] of from.byHandler) into.byHandler.set(k, (into.byHandler.get(k) ?? 0) + v);
  };
  let allFiles = 0;
  let allBytes = 0;
  let metered: MeteredResult | undefined;
  const verdicts: Record<string, number> = {};
  try {
    // Warm up (module loading, first connections) outside the measurement.
    for (let i = 0; i < 5; i++) {
      const key = `drops/cost/warmup-${i}.txt`;
      const done = new Promise<void>((ok) => waiting.set(describeKey(state.ingestBucket, key).fileId, ok));
      await io.drop(key, `warm up ${i}\n`, "text/plain");
      await done;
    }
    await stack.idle(60_000);
    await settle();
    for (const phase of phases(options.scale)) {
      const meter = reset();
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < phase.files.length) {
            const file = phase.files[next++] as FileSpec;
            const key = `drops/cost/${file.key}`;
            const { fileId } = describeKey(state.ingestBucket, key);
            const done = new Promise<void>((ok) => waiting.set(fileId, ok));
            await io.drop(key, file.body, file.type);
            await done;
            const record = await io.records.get(fileId);
            verdicts[record?.status ?? "none"] = (verdicts[record?.status ?? "none"] ?? 0) + 1;
          }
        }),
      );
      await stack.idle(120_000);
      await settle();
      const bytes = phase.files.reduce((n, f) => n + f.body.length, 0);
      results[phase.name] = account(meter, phase.files.length, bytes, {
        notifications: state.notificationsTopicArn,
      });
      console.error(
        `cost: ${phase.name}: ${phase.files.length} files in ${Math.round(performance.now() - started)} ms`,
      );
      merge(all, meter);
      allFiles += phase.files.length;
      allBytes += bytes;
    }
    const result = {
      pricesDate: PRICES_DATE,
      assumptions: {
        lambdaMemoryMb: LAMBDA_MEMORY_MB,
        lambdaArchitecture: "arm64",
        emailSubscribers: EMAIL_SUBSCRIBERS,
        kmsCallsPerObjectRequest: KMS_CALLS_PER_OBJECT_REQUEST,
        durations:
          "wall-clock handler time on the local stack (emulators on the same 2-core machine): an upper bound of the Lambda billed duration",
        dynamodb:
          "units computed from item sizes (dynalite reports no consumed capacity), GSI entries included at their projected size",
        sqs: "handler requests plus the event source mapping's non-empty receives and batch deletes; idle long polls excluded",
        sns: "one S3 event publish per file, handler publishes, one email delivery per verdict notification",
        textract: `no Textract locally: ${PRICES.textractPage.usd} USD a page when OCR is on`,
      },
      verdicts,
      phases: results,
      mix: account(all, allFiles, allBytes, { notifications: state.notificationsTopicArn }),
    };
    metered = result;
  } finally {
    uninstall();
    await stack.stop();
  }
  if (!metered) throw new Error("cost: the metered run gave no result");
  const memorySizes = await measureSizes(options.scale);
  const result = { ...metered, memorySizes };
  await writeResult("cost", result);
  printSummary(result.phases, result.mix);
  printSizes(memorySizes);
  return result;
}

/** The small-file classes: the ones the drop → verdict target is about. */
const SIZED_PHASES = new Set(["small documents", "images", "held (infected or rejected)"]);

/**
 * The memory-size recommendation per function (bench/memory-size.ts): the same mix again, one file at a time, on
 * a stack where each function runs on its own thread, so that each invocation's CPU time is its own.
 */
async function measureSizes(scale: number) {
  const samples = new Map<string, InvocationSample[]>();
  const large = new Map<string, InvocationSample[]>();
  let phase = "warm-up";
  const waiting = new Map<string, () => void>();
  // The functions run with the X-Ray SDK in automatic mode, as in Lambda with active tracing (infra/lambda.ts):
  // its context tracking of every promise is part of their CPU there (the segments themselves are not sent
  // locally, so tracing's cost is a lower bound).
  const xrayMode = process.env.AWS_XRAY_MANUAL_MODE;
  process.env.AWS_XRAY_MANUAL_MODE = "";
  const stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    functionThreads: true,
    onInvocation: (functionName, timing) => {
      if (!timing.ok) return;
      const into = SIZED_PHASES.has(phase) ? samples : phase === "large files" ? large : undefined;
      if (!into) return;
      const list = into.get(functionName) ?? [];
      list.push(timing);
      into.set(functionName, list);
    },
    onNotification: (n: LocalNotification) => waiting.get(n.attributes.fileId ?? "")?.(),
  });
  if (xrayMode === undefined) delete process.env.AWS_XRAY_MANUAL_MODE;
  else process.env.AWS_XRAY_MANUAL_MODE = xrayMode;
  const io = clientsFor(stack);
  const dropAndWait = async (key: string, body: Uint8Array | string, type: string) => {
    const done = new Promise<void>((ok) =>
      waiting.set(describeKey(stack.state.ingestBucket, key).fileId, ok),
    );
    await io.drop(key, body, type);
    await done;
  };
  const started = performance.now();
  try {
    // Warm up each function's instance (its cold start is not what is sized).
    for (let i = 0; i < 10; i++)
      await dropAndWait(`drops/sizing/warmup-${i}.txt`, `warm up ${i}\n`, "text/plain");
    await stack.idle(60_000);
    for (const p of phases(scale)) {
      phase = p.name;
      for (const file of p.files) await dropAndWait(`drops/sizing/${file.key}`, file.body, file.type);
      await stack.idle(120_000);
    }
  } finally {
    await stack.stop();
  }
  console.error(`cost: memory sizes measured in ${Math.round(performance.now() - started)} ms`);
  const functions = Object.fromEntries(
    [...samples]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, list]) => {
        const r = recommendSize(list, {
          p99ShareMs: P99_SHARE_MS[name] ?? TARGET_P99_MS,
          usdPerGbSecond: PRICES.lambdaArmGbSecond.usd,
          usdPerRequest: PRICES.lambdaRequest.usd,
          extraPeakMb: EXTRA_PEAK_MB[name]?.mb ?? 0,
        });
        const big = large.get(name) ?? [];
        const at = r.recommendedMb ?? LAMBDA_MEMORY_MB;
        const largeFiles = big.length
          ? {
              invocations: big.length,
              measuredMaxMs: round(Math.max(...big.map((s) => s.wallMs)), 1),
              modeledMaxMsAtRecommended: round(Math.max(...big.map((s) => modeledMs(s, at))), 1),
              modeledMaxMsAtDefault: round(Math.max(...big.map((s) => modeledMs(s, LAMBDA_MEMORY_MB))), 1),
            }
          : undefined;
        return [name, { ...r, ...(largeFiles ? { largeFiles } : {}) }];
      }),
  );
  return {
    model: `duration(size) = wait + cpu × ${FULL_VCPU_MB} / min(size, ${FULL_VCPU_MB}); cpu = the function thread's CPU time during the invocation, wait = the rest of its wall-clock time (bench/memory-size.ts)`,
    assumptions: [
      `a core of this machine is as fast as a Lambda vCPU (${FULL_VCPU_MB} MB = 1 vCPU); below that a size gets its fraction of one`,
      "waits are the local emulators' over loopback: AWS's latencies are longer and add the same at every size",
      `p99 target ${TARGET_P99_MS} ms drop → verdict; the stages run side by side, each may take ${TARGET_P99_MS - DELIVERY_RESERVE_MS} ms at p99, ${DELIVERY_RESERVE_MS} ms kept for event delivery and notification`,
      "sized on the small-file classes, one file at a time (batches of one); large files are shown, not sized (no size makes a 32 MiB scan take under a second)",
      `memory floor: the V8 heap measured after each invocation, plus ${RUNTIME_BASELINE_MB} MB of runtime, plus what other paths hold (${Object.entries(
        EXTRA_PEAK_MB,
      )
        .map(([name, extra]) => `${name}: ${extra.why}`)
        .join("; ")})`,
      "the functions ran with the X-Ray SDK in automatic mode, as with active tracing in Lambda (segments not sent: a lower bound of tracing's CPU)",
    ],
    defaultMb: LAMBDA_MEMORY_MB,
    candidatesMb: CANDIDATE_SIZES_MB,
    functions,
  };
}

function printSizes(sizes: Awaited<ReturnType<typeof measureSizes>>): void {
  console.error(
    `\nmemory size per function (${sizes.model})\nfunction | invocations | measured p50/p99 ms | CPU share | p99 share ms | recommended MB | modeled p99 ms there | GB-s per million invocations | USD per million | at ${sizes.defaultMb} MB: p99 ms, GB-s per million`,
  );
  for (const [name, r] of Object.entries(sizes.functions)) {
    const atDefault = r.sizes.find((s) => s.memoryMb === sizes.defaultMb);
    console.error(
      [
        name,
        r.invocations,
        `${r.measured.p50Ms}/${r.measured.p99Ms}`,
        r.measured.cpuShare,
        r.p99ShareMs,
        r.recommendedMb ?? "none fits",
        r.atRecommended?.p99Ms ?? "-",
        r.atRecommended?.gbSecondsPerMillion ?? "-",
        r.atRecommended?.usdPerMillion ?? "-",
        `${atDefault?.p99Ms}, ${atDefault?.gbSecondsPerMillion}`,
      ].join(" | "),
    );
  }
}

function printSummary(
  phasesResult: Record<string, ReturnType<typeof account>>,
  mix: ReturnType<typeof account>,
): void {
  const rows = [...Object.entries(phasesResult), ["whole mix", mix] as const];
  console.error(
    "\nclass | files | avg KB | S3 put/get | DynamoDB req (WRU/RRU) | SQS | SNS | Lambda inv (GB-s) | handler req | USD / million | GuardDuty | Trend | Lambda-ClamAV",
  );
  for (const [name, r] of rows) {
    const q = r.requestsPerFile;
    const a = r.anchorsUsdPerMillionFiles;
    console.error(
      [
        name,
        r.files,
        Math.round(r.averageBytes / 1024),
        `${q.s3.putClass}/${q.s3.getClass}`,
        `${q.dynamodb.requests} (${q.dynamodb.wru}/${q.dynamodb.rru})`,
        q.sqs.requests,
        q.sns.publishes,
        `${q.lambda.invocations} (${q.lambda.gbSeconds})`,
        q.handlersOnly,
        r.usdPerMillionFiles.total,
        a.guardDuty,
        a.trend,
        a.lambdaClamav.join("–"),
      ].join(" | "),
    );
  }
}

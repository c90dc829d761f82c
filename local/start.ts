/**
 * `npm start`: the whole pipeline on this machine. Writes the endpoints and names to `.airlock/local.json` for
 * the CLI, prints each notification, and keeps the outbox in `.airlock/outbox.jsonl`.
 *
 * In memory by default; `AIRLOCK_DATA_DIR=<dir>` (or `--data-dir <dir>`) keeps S3, DynamoDB and SNS/SQS state
 * in that directory and restores it at the next start, so the process can be killed (even with SIGKILL) and
 * started again. The outbox file is then appended to, not emptied, at start.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { createClamavEngine } from "../core/adapters/clamav.ts";
import { parseFaults } from "../core/runtime/faults.ts";
import { buildWeb } from "../web/build.ts";
import { busyPorts, portBase, portsInUseMessage } from "./health.ts";
import { startLocalStack } from "./stack.ts";

const STATE_DIR = resolve(process.env.AIRLOCK_STATE_DIR ?? ".airlock");
const flag = process.argv.indexOf("--data-dir");
if (flag >= 0 && !process.argv[flag + 1]) {
  console.error("--data-dir needs a directory: npm start -- --data-dir <dir>");
  process.exit(2);
}
const dataDirSetting = flag >= 0 ? process.argv[flag + 1] : process.env.AIRLOCK_DATA_DIR;
const dataDir = dataDirSetting ? resolve(dataDirSetting) : undefined;
const outboxFile = resolve(STATE_DIR, "outbox.jsonl");
const chosen = portBase(process.env.AIRLOCK_PORT_BASE);
if ("problem" in chosen) {
  console.error(chosen.problem);
  process.exit(2);
}
const { base } = chosen;
const ports = { sqs: base, s3: base + 1, dynamodb: base + 2, api: base + 3, console: base + 4 };
const busy = await busyPorts(ports);
if (busy.length > 0) {
  console.error(portsInUseMessage(busy, base));
  process.exit(1);
}

// ClamAV is optional: AIRLOCK_CLAMD_ENDPOINT (with AIRLOCK_CLAMD_STREAM_MAX_BYTES, AIRLOCK_CLAMD_TIMEOUT_MS).
const optionalNumber = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
const clamd = process.env.AIRLOCK_CLAMD_ENDPOINT
  ? {
      endpoint: process.env.AIRLOCK_CLAMD_ENDPOINT,
      streamMaxBytes: optionalNumber("AIRLOCK_CLAMD_STREAM_MAX_BYTES"),
      timeoutMs: optionalNumber("AIRLOCK_CLAMD_TIMEOUT_MS"),
    }
  : undefined;

// Fault injection, off by default: AIRLOCK_FAULTS="aws=0.05,crash=0.02,seed=42".
let faults: ReturnType<typeof parseFaults>;
try {
  faults = parseFaults(process.env.AIRLOCK_FAULTS);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}

await mkdir(STATE_DIR, { recursive: true });
// Kept data keeps its notifications: the outbox then grows across restarts.
if (dataDir) await mkdir(dataDir, { recursive: true });
else await writeFile(outboxFile, "");

// A stack that cannot start (a data directory in use by another one, …) says why, without a stack trace.
const stack = await startLocalStack({
  ports: { sqs: ports.sqs, s3: ports.s3, dynamodb: ports.dynamodb, api: ports.api },
  console: { dir: await buildWeb(), port: ports.console },
  stateFile: resolve(STATE_DIR, "local.json"),
  dataDir,
  clamd,
  faults,
  reconcile: true,
  // Timings, for chaos runs (local/chaos.ts) that want a restarted stack to catch up within minutes.
  visibilityTimeoutSeconds: optionalNumber("AIRLOCK_VISIBILITY_TIMEOUT_SECONDS"),
  maxReceiveCount: optionalNumber("AIRLOCK_MAX_RECEIVE_COUNT"),
  stuckAfterSeconds: optionalNumber("AIRLOCK_STUCK_AFTER_SECONDS"),
  sweepIntervalMs: optionalNumber("AIRLOCK_SWEEP_INTERVAL_MS"),
  blocklist: {
    entries: process.env.AIRLOCK_SCAN_BLOCKLIST,
    object: process.env.AIRLOCK_SCAN_BLOCKLIST_OBJECT,
  },
  // YARA rules inline, or from a local file (read here: the stack hands its text to the scan handler).
  yara: {
    rules:
      process.env.AIRLOCK_YARA_RULES ??
      (process.env.AIRLOCK_YARA_RULES_FILE
        ? await readFile(process.env.AIRLOCK_YARA_RULES_FILE, "utf8")
        : undefined),
    object: process.env.AIRLOCK_YARA_RULES_OBJECT,
    maxBytes: optionalNumber("AIRLOCK_YARA_MAX_BYTES"),
    timeoutMs: optionalNumber("AIRLOCK_YARA_TIMEOUT_MS"),
  },
  onNotification(notification) {
    appendFileSync(outboxFile, `${JSON.stringify(notification)}\n`);
    process.stdout.write(`\n[notification] ${notification.subject}\n${notification.message}`);
  },
}).catch((error: unknown) => {
  console.error(`The local stack could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

const { state } = stack;
// What the fault injector did, kept in `.airlock/faults.json` (rewritten each second, and at stop).
const faultsFile = resolve(STATE_DIR, "faults.json");
const saveFaults = () => {
  if (stack.faults) writeFileSync(faultsFile, `${JSON.stringify(stack.faults)}\n`);
};
if (stack.faults) setInterval(saveFaults, 1_000).unref();
console.log(`S3        ${state.endpoints.s3}  (buckets ${state.ingestBucket}, ${state.cleanBucket})`);
console.log(`DynamoDB  ${state.endpoints.dynamodb}  (table ${state.tableName})`);
console.log(`SNS/SQS   ${state.endpoints.sqs}`);
console.log(
  dataDir
    ? `Data      ${dataDir}  (kept across restarts)`
    : "Data      in memory (AIRLOCK_DATA_DIR keeps it)",
);
if (faults)
  console.log(
    `Faults    aws=${faults.aws} crash=${faults.crash} seed=${faults.seed} (handlers' SDK calls only)`,
  );
if (clamd) {
  const engine = createClamavEngine({ endpoint: clamd.endpoint, streamMaxBytes: clamd.streamMaxBytes ?? 1 });
  const version = await engine
    .ping()
    .then(() => engine.version())
    .catch((error: unknown) => {
      console.warn(`ClamAV    ${clamd.endpoint} does not answer (${String(error)}): every scan will FAIL`);
      return undefined;
    });
  if (version) console.log(`ClamAV    ${clamd.endpoint}  (${version})`);
}
console.log(`API       ${state.api.url}  (token: npm run airlock -- token --sub <user>)`);
console.log(`Health    ${state.api.url}/_airlock/health`);
console.log(`Console   ${state.console?.url}  (open it in a browser; sign in with any user name)`);
console.log(`Airlock local stack ready — try: npm run airlock -- drop <file>  (or --help)`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log("Stopping the local stack…");
  await stack.stop();
  saveFaults();
  await rm(resolve(STATE_DIR, "local.json"), { force: true });
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

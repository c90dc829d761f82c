/**
 * Scan stage: streams the object once through the built-in engine and, when configured, clamd
 * (`AIRLOCK_CLAMD_ENDPOINT`), the SHA-256 blocklist (`AIRLOCK_SCAN_BLOCKLIST`, `AIRLOCK_SCAN_BLOCKLIST_OBJECT`) and
 * YARA rules (`AIRLOCK_YARA_RULES`, `AIRLOCK_YARA_RULES_OBJECT`); an error of any engine is never "clean".
 */

import { CLAMAV_DEFAULTS, createClamavEngine } from "../core/adapters/clamav.ts";
import { DynamoScanCache, DynamoScanPartStore } from "../core/adapters/dynamo-scan-parts.ts";
import { createBlocklistEngine, parseBlocklist } from "../core/domain/scan/blocklist.ts";
import { createBuiltinEngine, type ScanEngine } from "../core/domain/scan/index.ts";
import { compileYaraRules, createYaraEngine } from "../core/domain/scan/yara.ts";
import { createClients, pipelineDeps, readConfigurationObject } from "../core/runtime/clients.ts";
import { HANDLER_ENV, OPTIONAL_HANDLER_ENV, readEnv, readOptionalEnv } from "../core/runtime/env.ts";
import { lambda } from "../core/runtime/lambda.ts";
import { stageBatchHandler } from "../core/runtime/stage-batch.ts";
import { scanJudge, sizeLimit } from "../core/usecases/pipeline/judges.ts";

const env = readEnv(HANDLER_ENV.scan);
const optional = readOptionalEnv(OPTIONAL_HANDLER_ENV.scan);
const clients = createClients();
const deps = pipelineDeps(env, clients);
const engines: ScanEngine[] = [
  createBuiltinEngine({
    maxDepth: env.AIRLOCK_SCAN_MAX_DEPTH,
    maxEntries: env.AIRLOCK_SCAN_MAX_ENTRIES,
    maxExpandedBytes: env.AIRLOCK_SCAN_MAX_EXPANDED_BYTES,
    maxRatio: env.AIRLOCK_SCAN_MAX_RATIO,
    maxTrailingBytes: optional.AIRLOCK_SCAN_MAX_TRAILING_BYTES,
  }),
];
if (optional.AIRLOCK_CLAMD_ENDPOINT)
  engines.push(
    createClamavEngine({
      endpoint: optional.AIRLOCK_CLAMD_ENDPOINT,
      streamMaxBytes: optional.AIRLOCK_CLAMD_STREAM_MAX_BYTES ?? CLAMAV_DEFAULTS.streamMaxBytes,
      timeoutMs: optional.AIRLOCK_CLAMD_TIMEOUT_MS ?? CLAMAV_DEFAULTS.timeoutMs,
    }),
  );

// The blocklist: digests from the configuration and, when configured, an S3 object read at cold start (a cold
// start that cannot read it fails, so no file is scanned against a list it was meant to meet).
const listed = [optional.AIRLOCK_SCAN_BLOCKLIST ?? ""];
if (optional.AIRLOCK_SCAN_BLOCKLIST_OBJECT)
  listed.push(await readConfigurationObject(optional.AIRLOCK_SCAN_BLOCKLIST_OBJECT, clients));
if (listed.some((text) => text.trim() !== ""))
  engines.push(createBlocklistEngine(parseBlocklist(listed.join("\n"))));

// YARA rules, compiled once per cold start; rules that do not compile fail the cold start, naming the error.
const yaraSources = [optional.AIRLOCK_YARA_RULES ?? ""];
if (optional.AIRLOCK_YARA_RULES_OBJECT)
  yaraSources.push(await readConfigurationObject(optional.AIRLOCK_YARA_RULES_OBJECT, clients));
if (yaraSources.some((text) => text.trim() !== ""))
  engines.push(
    createYaraEngine(compileYaraRules(yaraSources.join("\n")), {
      maxBytes: optional.AIRLOCK_YARA_MAX_BYTES,
      timeoutMs: optional.AIRLOCK_YARA_TIMEOUT_MS,
    }),
  );

// With GuardDuty Malware Protection on, its answer (handlers/guardduty.ts) is the other half of every scan.
const guardDuty =
  optional.AIRLOCK_GUARDDUTY === "on"
    ? new DynamoScanPartStore(clients.documents, env.AIRLOCK_TABLE_NAME)
    : undefined;

// Verdicts by SHA-256 (objects S3 keeps a full-object SHA-256 checksum of): the same bytes are not scanned twice.
const cache = new DynamoScanCache(clients.documents, env.AIRLOCK_TABLE_NAME);

export const lambdaHandler = stageBatchHandler(
  "scan",
  scanJudge(deps.objects, engines, {
    guardDuty,
    cache,
    // An object larger than its upload declared (or the policy allows) is not read at all.
    sizeLimit: sizeLimit(env.AIRLOCK_MAX_SIZE_BYTES, (id) => deps.records.getUploadSession(id)),
  }),
  deps,
);
export const handler = lambda(lambdaHandler);

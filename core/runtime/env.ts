/**
 * The one place that reads the environment. Every Lambda validates the variables it needs at cold start and
 * throws naming the missing or malformed one. `infra/` sets exactly these variables; the local stack sets the same.
 */
import { z } from "zod";
import { ConfigurationError } from "./errors.ts";

const csv = z
  .string()
  .min(1)
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );
const positiveInt = z.coerce.number().int().positive();

/** Every variable any handler reads, with its parser. */
export const ENV_SCHEMA = {
  AIRLOCK_TABLE_NAME: z.string().min(1),
  AIRLOCK_INGEST_BUCKET: z.string().min(1),
  AIRLOCK_CLEAN_BUCKET: z.string().min(1),
  AIRLOCK_NOTIFICATIONS_TOPIC_ARN: z.string().min(1),
  AIRLOCK_FANOUT_TOPIC_ARN: z.string().min(1),
  AIRLOCK_MAX_SIZE_BYTES: positiveInt,
  AIRLOCK_ALLOWED_TYPES: csv,
  AIRLOCK_SCAN_MAX_DEPTH: positiveInt,
  AIRLOCK_SCAN_MAX_ENTRIES: positiveInt,
  AIRLOCK_SCAN_MAX_EXPANDED_BYTES: positiveInt,
  AIRLOCK_SCAN_MAX_RATIO: positiveInt,
  AIRLOCK_STUCK_AFTER_SECONDS: positiveInt,
  AIRLOCK_UPLOAD_EXPIRY_SECONDS: positiveInt,
  AIRLOCK_DOWNLOAD_EXPIRY_SECONDS: positiveInt,
  AIRLOCK_MULTIPART_THRESHOLD_BYTES: positiveInt,
  AIRLOCK_CURSOR_SECRET: z.string().min(32),
  /** The SSM SecureString holding AIRLOCK_CURSOR_SECRET (in AWS), read once at cold start. */
  AIRLOCK_CURSOR_SECRET_PARAMETER: z.string().regex(/^\/[\w./-]+$/, "expected an SSM parameter name"),
  AIRLOCK_CLAMD_ENDPOINT: z
    .string()
    .regex(/^(tcp:\/\/.+|unix:\/\/\/.+|\/.+)$/, "expected tcp://host:port or a Unix socket path"),
  AIRLOCK_CLAMD_STREAM_MAX_BYTES: positiveInt,
  AIRLOCK_CLAMD_TIMEOUT_MS: positiveInt,
  /** `on`: the scan stage waits for GuardDuty Malware Protection's result besides its own engines. */
  AIRLOCK_GUARDDUTY: z.enum(["on", "off"]),
  /** Seconds a file stays FAILED (scan error) before the sweeper rescans it; unset: no scheduled rescans. */
  AIRLOCK_RESCAN_FAILED_AFTER_SECONDS: positiveInt,
  /** `on`: each sweep also runs the reconciler (buckets against records). */
  AIRLOCK_RECONCILE: z.enum(["on", "off"]),
  /** Scheduled rescans per file (default 3). */
  AIRLOCK_RESCAN_MAX_ATTEMPTS: positiveInt,
  /** SHA-256 digests (comma-separated, each optionally followed by a space and a name). */
  AIRLOCK_SCAN_BLOCKLIST: z.string().min(1),
  /** `s3://bucket/key` of a blocklist object, read once per cold start. */
  AIRLOCK_SCAN_BLOCKLIST_OBJECT: z.string().regex(/^s3:\/\/[^/]+\/.+$/, "expected s3://bucket/key"),
  /** YARA rules (YARA-X syntax) the yara engine compiles at cold start. */
  AIRLOCK_YARA_RULES: z.string().min(1),
  /** `s3://bucket/key` of a YARA rules file, read and compiled once per cold start (after the inline rules). */
  AIRLOCK_YARA_RULES_OBJECT: z.string().regex(/^s3:\/\/[^/]+\/.+$/, "expected s3://bucket/key"),
  /** Largest object the yara engine scans (it holds the object in memory); larger ones are held. */
  AIRLOCK_YARA_MAX_BYTES: positiveInt,
  /** Longest a YARA scan of one object may take; past it the result is a timeout error, never clean. */
  AIRLOCK_YARA_TIMEOUT_MS: positiveInt,
  /** Bytes allowed after a format's end (image end marker, last %%EOF, tar end blocks), padding aside. */
  AIRLOCK_SCAN_MAX_TRAILING_BYTES: z.coerce.number().int().nonnegative(),
  AIRLOCK_OCR: z.enum(["required", "best-effort", "off"]),
  AIRLOCK_OCR_TOPIC_ARN: z.string().min(1),
  AIRLOCK_OCR_ROLE_ARN: z.string().min(1),
  AIRLOCK_TEXT_MAX_CHARS: positiveInt,
  AIRLOCK_TEXT_PDF_MAX_BYTES: positiveInt,
} as const;

export type EnvName = keyof typeof ENV_SCHEMA;
export type Env<K extends EnvName> = { [P in K]: z.output<(typeof ENV_SCHEMA)[P]> };

const POLICY = ["AIRLOCK_MAX_SIZE_BYTES", "AIRLOCK_ALLOWED_TYPES"] as const;
const SCAN_LIMITS = [
  "AIRLOCK_SCAN_MAX_DEPTH",
  "AIRLOCK_SCAN_MAX_ENTRIES",
  "AIRLOCK_SCAN_MAX_EXPANDED_BYTES",
  "AIRLOCK_SCAN_MAX_RATIO",
] as const;
/** Text extraction and OCR (the metadata stage and its Textract continuation). */
const TEXT = ["AIRLOCK_OCR", "AIRLOCK_TEXT_MAX_CHARS", "AIRLOCK_TEXT_PDF_MAX_BYTES"] as const;
/** What every stage needs to record results and decide the verdict (promote, tag, notify). */
const DECIDE = [
  "AIRLOCK_TABLE_NAME",
  "AIRLOCK_INGEST_BUCKET",
  "AIRLOCK_CLEAN_BUCKET",
  "AIRLOCK_NOTIFICATIONS_TOPIC_ARN",
] as const;

/** The variables each Lambda validates at cold start; infra sets exactly these. */
export const HANDLER_ENV = {
  validate: [...DECIDE, ...POLICY],
  // The size limit: scan and metadata do not read an object larger than it (core/usecases/pipeline/limits.ts).
  scan: [...DECIDE, ...SCAN_LIMITS, "AIRLOCK_MAX_SIZE_BYTES"],
  metadata: [...DECIDE, ...TEXT, "AIRLOCK_OCR_TOPIC_ARN", "AIRLOCK_OCR_ROLE_ARN", "AIRLOCK_MAX_SIZE_BYTES"],
  ocr: [...DECIDE, ...TEXT],
  guardduty: [...DECIDE],
  deadLetter: [...DECIDE],
  sweeper: [...DECIDE, "AIRLOCK_FANOUT_TOPIC_ARN", "AIRLOCK_STUCK_AFTER_SECONDS"],
  api: [
    "AIRLOCK_TABLE_NAME",
    "AIRLOCK_INGEST_BUCKET",
    "AIRLOCK_CLEAN_BUCKET",
    ...POLICY,
    "AIRLOCK_UPLOAD_EXPIRY_SECONDS",
    "AIRLOCK_DOWNLOAD_EXPIRY_SECONDS",
    "AIRLOCK_MULTIPART_THRESHOLD_BYTES",
  ],
} as const satisfies Record<string, readonly EnvName[]>;

/** Variables of optional features, read only when set; infra sets them only when the feature is on. */
export const OPTIONAL_HANDLER_ENV = {
  scan: [
    "AIRLOCK_CLAMD_ENDPOINT",
    "AIRLOCK_CLAMD_STREAM_MAX_BYTES",
    "AIRLOCK_CLAMD_TIMEOUT_MS",
    "AIRLOCK_SCAN_BLOCKLIST",
    "AIRLOCK_SCAN_BLOCKLIST_OBJECT",
    "AIRLOCK_GUARDDUTY",
    "AIRLOCK_YARA_RULES",
    "AIRLOCK_YARA_RULES_OBJECT",
    "AIRLOCK_YARA_MAX_BYTES",
    "AIRLOCK_YARA_TIMEOUT_MS",
    "AIRLOCK_SCAN_MAX_TRAILING_BYTES",
  ],
  sweeper: ["AIRLOCK_RESCAN_FAILED_AFTER_SECONDS", "AIRLOCK_RESCAN_MAX_ATTEMPTS", "AIRLOCK_RECONCILE"],
  /** One of the two: the secret itself (local stack), or the SSM parameter that holds it (AWS). */
  api: ["AIRLOCK_CURSOR_SECRET", "AIRLOCK_CURSOR_SECRET_PARAMETER"],
} as const satisfies Partial<Record<keyof typeof HANDLER_ENV, readonly EnvName[]>>;

export type HandlerName = keyof typeof HANDLER_ENV;
export type HandlerEnv<H extends HandlerName> = Env<(typeof HANDLER_ENV)[H][number]>;

export { ConfigurationError } from "./errors.ts";

/** Parses the named variables from `source`, throwing one error that names every missing or malformed one. */
export function readEnv<K extends EnvName>(
  names: readonly K[],
  source: Record<string, string | undefined> = process.env,
): Env<K> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of names) {
    const raw = source[name];
    if (raw === undefined || raw === "") {
      problems.push(`${name} is not set`);
      continue;
    }
    const parsed = ENV_SCHEMA[name].safeParse(raw);
    if (parsed.success) out[name] = parsed.data;
    else problems.push(`${name} is malformed (${parsed.error.issues[0]?.message ?? "invalid"})`);
  }
  if (problems.length > 0) throw new ConfigurationError(`Invalid configuration: ${problems.join("; ")}`);
  return out as Env<K>;
}

/** Parses the named variables that are set (an unset or empty one is left out); throws on a malformed one. */
export function readOptionalEnv<K extends EnvName>(
  names: readonly K[],
  source: Record<string, string | undefined> = process.env,
): Partial<Env<K>> {
  const present = names.filter((name) => source[name] !== undefined && source[name] !== "");
  return readEnv(present, source);
}

/** Defaults shared by `Pulumi.yaml`, the local stack and tests. */
export const DEFAULT_POLICY = {
  maxSizeBytes: 100 * 1024 * 1024,
  allowedTypes: ["pdf", "png", "jpg", "gif", "webp", "txt", "csv", "json", "docx", "xlsx", "pptx", "zip"],
  scan: { maxDepth: 5, maxEntries: 10_000, maxExpandedBytes: 1024 * 1024 * 1024, maxRatio: 100 },
  text: { ocr: "off", maxChars: 1_000_000, pdfMaxBytes: 50 * 1024 * 1024 },
} as const;

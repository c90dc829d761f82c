/**
 * Typed stack configuration: every key `Pulumi.yaml` declares, read once, with the same defaults.
 */

import * as pulumi from "@pulumi/pulumi";
import { parseBlocklist } from "../core/domain/scan/blocklist.ts";
import { DEFAULT_MAX_TRAILING_BYTES } from "../core/domain/scan/engine.ts";
import { validateYaraRules, YARA_DEFAULTS } from "../core/domain/scan/yara.ts";
import type { OcrMode } from "../core/domain/types.ts";
import { DEFAULT_POLICY, HANDLER_ENV, type HandlerName } from "../core/runtime/env.ts";

export interface AirlockConfig {
  allowedTypes: string[];
  maxSizeBytes: number;
  notificationEmails: string[];
  alertEmails: string[];
  alarmEmail?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  corsOrigins: string[];
  heldRetentionDays: number;
  cleanInfrequentAccessDays: number;
  cleanGlacierIrDays: number;
  /** Days a replaced or deleted version of a verified file is kept in the clean bucket. */
  cleanNoncurrentDays: number;
  objectLock: boolean;
  lambdaRuntime: string;
  lambdaMemoryMb: number;
  /** Memory of single functions, by handler (`validate=256`), over `lambdaMemoryMb`; see functionMemory(). */
  functionMemoryMb: string[];
  lambdaTimeoutSeconds: number;
  maxReceiveCount: number;
  /** Most concurrent invocations of each queue consumer (Lambda's SQS scaling cap, 2 to 1000). */
  maxConcurrency: number;
  scanEngines: string[];
  scanMaxDepth: number;
  scanMaxEntries: number;
  scanMaxExpandedBytes: number;
  scanMaxRatio: number;
  ocr: OcrMode;
  textMaxChars: number;
  textPdfMaxBytes: number;
  logRetentionDays: number;
  stuckAfterSeconds: number;
  uploadExpirySeconds: number;
  downloadExpirySeconds: number;
  multipartThresholdBytes: number;
  dropSystems: string[];
  /** Deploy the web console (S3 + CloudFront). */
  console: boolean;
  /** The console's own host name and its ACM certificate (us-east-1): TLS 1.2+ instead of CloudFront's default. */
  consoleDomain?: string;
  consoleCertificateArn?: string;
  /** GuardDuty Malware Protection for S3 on the ingest bucket, as an engine the scan waits for. */
  guardduty: boolean;
  /** Minutes a file stays FAILED on a scan error before the sweeper rescans it (0: never). */
  rescanFailedAfterMinutes: number;
  /** Scheduled rescans per file. */
  rescanMaxAttempts: number;
  /** SHA-256 digests (each optionally followed by a space and a name) the blocklist engine holds as INFECTED. */
  scanBlocklist: string[];
  /** `s3://bucket/key` of a blocklist object the scan function reads at cold start. */
  scanBlocklistObject?: string;
  /** YARA rules (inline) the scan function's yara engine compiles at cold start; checked at preview. */
  yaraRules?: string;
  /** `s3://bucket/key` of a YARA rules file the scan function reads and compiles at cold start. */
  yaraRulesObject?: string;
  /** Largest object the yara engine scans (it holds the object in memory). */
  yaraMaxBytes: number;
  /** Longest YARA scan of one object; past it the scan is a timeout error. */
  yaraTimeoutMs: number;
  /** Bytes allowed after a format's end (image end marker, last %%EOF, tar end blocks), padding aside. */
  scanMaxTrailingBytes: number;
  /** An existing clamd (`tcp://host:port`); the scan function then also runs the ClamAV engine. */
  clamdEndpoint?: string;
  /** Run clamd + freshclam for Airlock (ECS Fargate behind an internal NLB in `scanVpcId`). */
  clamav: boolean;
  clamavImage: string;
  clamavDesiredCount: number;
  clamavCpu: number;
  clamavMemoryMb: number;
  /** clamd's StreamMaxLength, and the largest object the ClamAV engine sends. */
  clamdStreamMaxBytes: number;
  clamdTimeoutMs: number;
  /** The VPC, subnets and extra security groups of the scan function (needed to reach clamd). */
  scanVpcId?: string;
  scanSubnetIds: string[];
  scanSecurityGroupIds: string[];
}

/**
 * Regions where Amazon Textract has an endpoint (AWS's "Amazon Textract endpoints and quotas" page). With `ocr`
 * on, a stack elsewhere would fail every OCR call at run time; it is refused at preview instead.
 */
export const TEXTRACT_REGIONS = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "ap-south-1",
  "ap-northeast-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ca-central-1",
  "eu-central-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "us-gov-east-1",
  "us-gov-west-1",
] as const;

/** The stack's region as the AWS provider will use it: `aws:region`, else the standard variables. */
export function stackRegion(awsConfig = new pulumi.Config("aws")): string | undefined {
  return awsConfig.get("region") ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
}

export function loadConfig(config = new pulumi.Config(), region = stackRegion()): AirlockConfig {
  const list = (key: string, fallback: readonly string[] = []) =>
    config.getObject<string[]>(key) ?? [...fallback];
  const optional = (key: string) => {
    const value = config.get(key);
    return value && value.length > 0 ? value : undefined;
  };
  const cfg: AirlockConfig = {
    allowedTypes: list("allowedTypes", DEFAULT_POLICY.allowedTypes),
    maxSizeBytes: config.getNumber("maxSizeBytes") ?? DEFAULT_POLICY.maxSizeBytes,
    notificationEmails: list("notificationEmails"),
    alertEmails: list("alertEmails"),
    alarmEmail: optional("alarmEmail"),
    jwtIssuer: optional("jwtIssuer"),
    jwtAudience: optional("jwtAudience"),
    corsOrigins: list("corsOrigins"),
    heldRetentionDays: config.getNumber("heldRetentionDays") ?? 30,
    cleanInfrequentAccessDays: config.getNumber("cleanInfrequentAccessDays") ?? 30,
    cleanGlacierIrDays: config.getNumber("cleanGlacierIrDays") ?? 90,
    cleanNoncurrentDays: config.getNumber("cleanNoncurrentDays") ?? 30,
    objectLock: config.getBoolean("objectLock") ?? false,
    lambdaRuntime: config.get("lambdaRuntime") ?? "nodejs24.x",
    lambdaMemoryMb: config.getNumber("lambdaMemoryMb") ?? 1024,
    functionMemoryMb: list("functionMemoryMb"),
    lambdaTimeoutSeconds: config.getNumber("lambdaTimeoutSeconds") ?? 120,
    maxReceiveCount: config.getNumber("maxReceiveCount") ?? 3,
    maxConcurrency: config.getNumber("maxConcurrency") ?? 5,
    scanEngines: list("scanEngines", ["builtin"]),
    scanMaxDepth: config.getNumber("scanMaxDepth") ?? DEFAULT_POLICY.scan.maxDepth,
    scanMaxEntries: config.getNumber("scanMaxEntries") ?? DEFAULT_POLICY.scan.maxEntries,
    scanMaxExpandedBytes: config.getNumber("scanMaxExpandedBytes") ?? DEFAULT_POLICY.scan.maxExpandedBytes,
    scanMaxRatio: config.getNumber("scanMaxRatio") ?? DEFAULT_POLICY.scan.maxRatio,
    ocr: (config.get("ocr") ?? DEFAULT_POLICY.text.ocr) as OcrMode,
    textMaxChars: config.getNumber("textMaxChars") ?? DEFAULT_POLICY.text.maxChars,
    textPdfMaxBytes: config.getNumber("textPdfMaxBytes") ?? DEFAULT_POLICY.text.pdfMaxBytes,
    logRetentionDays: config.getNumber("logRetentionDays") ?? 30,
    stuckAfterSeconds: config.getNumber("stuckAfterSeconds") ?? 900,
    uploadExpirySeconds: config.getNumber("uploadExpirySeconds") ?? 300,
    downloadExpirySeconds: config.getNumber("downloadExpirySeconds") ?? 60,
    multipartThresholdBytes: config.getNumber("multipartThresholdBytes") ?? 64 * 1024 * 1024,
    dropSystems: list("dropSystems"),
    console: config.getBoolean("console") ?? false,
    consoleDomain: optional("consoleDomain"),
    consoleCertificateArn: optional("consoleCertificateArn"),
    guardduty: config.getBoolean("guardduty") ?? false,
    rescanFailedAfterMinutes: config.getNumber("rescanFailedAfterMinutes") ?? 0,
    rescanMaxAttempts: config.getNumber("rescanMaxAttempts") ?? 3,
    scanBlocklist: list("scanBlocklist"),
    scanBlocklistObject: optional("scanBlocklistObject"),
    yaraRules: optional("yaraRules"),
    yaraRulesObject: optional("yaraRulesObject"),
    yaraMaxBytes: config.getNumber("yaraMaxBytes") ?? YARA_DEFAULTS.maxBytes,
    yaraTimeoutMs: config.getNumber("yaraTimeoutMs") ?? YARA_DEFAULTS.timeoutMs,
    scanMaxTrailingBytes: config.getNumber("scanMaxTrailingBytes") ?? DEFAULT_MAX_TRAILING_BYTES,
    clamdEndpoint: optional("clamdEndpoint"),
    clamav: config.getBoolean("clamav") ?? false,
    clamavImage: config.get("clamavImage") ?? "clamav/clamav:1.4",
    clamavDesiredCount: config.getNumber("clamavDesiredCount") ?? 1,
    clamavCpu: config.getNumber("clamavCpu") ?? 1024,
    clamavMemoryMb: config.getNumber("clamavMemoryMb") ?? 4096,
    clamdStreamMaxBytes: config.getNumber("clamdStreamMaxBytes") ?? DEFAULT_POLICY.maxSizeBytes,
    clamdTimeoutMs: config.getNumber("clamdTimeoutMs") ?? 60_000,
    scanVpcId: optional("scanVpcId"),
    scanSubnetIds: list("scanSubnetIds"),
    scanSecurityGroupIds: list("scanSecurityGroupIds"),
  };
  checkClamav(cfg);
  checkYara(cfg);
  functionMemory(cfg); // refuses a malformed entry at preview time, naming it
  parseBlocklist(cfg.scanBlocklist.join("\n")); // refuses a malformed entry at preview time, naming it
  if (cfg.scanBlocklistObject && !/^s3:\/\/[^/]+\/.+$/.test(cfg.scanBlocklistObject))
    throw new Error(
      `scanBlocklistObject must be s3://bucket/key, not ${JSON.stringify(cfg.scanBlocklistObject)}`,
    );
  const unknownEngines = cfg.scanEngines.filter((e) => e !== "builtin" && e !== "clamav");
  if (unknownEngines.length > 0)
    throw new Error(
      `scanEngines: only "builtin" and "clamav" are available, not ${unknownEngines.join(", ")}`,
    );
  if (!["required", "best-effort", "off"].includes(cfg.ocr))
    throw new Error(`ocr: must be required, best-effort or off, not ${JSON.stringify(cfg.ocr)}`);
  if (cfg.ocr !== "off" && region && !(TEXTRACT_REGIONS as readonly string[]).includes(region))
    throw new Error(
      `ocr: ${cfg.ocr}, but Amazon Textract has no endpoint in ${region} (it has in ${TEXTRACT_REGIONS.join(", ")}); set ocr: off or deploy to one of those regions`,
    );
  if (!Number.isInteger(cfg.maxConcurrency) || cfg.maxConcurrency < 2 || cfg.maxConcurrency > 1000)
    throw new Error(`maxConcurrency: Lambda accepts 2 to 1000, not ${cfg.maxConcurrency}`);
  if (!Number.isInteger(cfg.cleanNoncurrentDays) || cfg.cleanNoncurrentDays < 1)
    throw new Error(`cleanNoncurrentDays: at least 1 day, not ${cfg.cleanNoncurrentDays}`);
  if ((cfg.consoleDomain === undefined) !== (cfg.consoleCertificateArn === undefined))
    throw new Error(
      "consoleDomain and consoleCertificateArn: set both (an ACM certificate in us-east-1 for the name) or neither",
    );
  if (
    cfg.consoleCertificateArn &&
    !/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[\w-]+$/.test(cfg.consoleCertificateArn)
  )
    throw new Error("consoleCertificateArn: CloudFront needs an ACM certificate ARN in us-east-1");
  for (const system of cfg.dropSystems) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(system))
      throw new Error(`dropSystems: invalid system name ${JSON.stringify(system)}`);
  }
  return cfg;
}

/** Lambda's memory range (MB). */
const LAMBDA_MEMORY_MB = { min: 128, max: 10_240 } as const;

/**
 * The memory of each function: `lambdaMemoryMb`, except where `functionMemoryMb` names the handler
 * (`validate=256`, `scan=256`, `metadata=384`). An unknown handler, a size outside Lambda's range or a handler
 * named twice is refused, naming the entry.
 */
export function functionMemory(cfg: Pick<AirlockConfig, "lambdaMemoryMb" | "functionMemoryMb">) {
  const check = (what: string, mb: number) => {
    if (!Number.isInteger(mb) || mb < LAMBDA_MEMORY_MB.min || mb > LAMBDA_MEMORY_MB.max)
      throw new Error(
        `${what}: Lambda takes ${LAMBDA_MEMORY_MB.min} to ${LAMBDA_MEMORY_MB.max} MB in whole MB, not ${mb}`,
      );
  };
  check("lambdaMemoryMb", cfg.lambdaMemoryMb);
  const sizes = new Map<HandlerName, number>();
  for (const entry of cfg.functionMemoryMb) {
    const match = /^([A-Za-z]+)=(\d+)$/.exec(String(entry).trim());
    const name = match?.[1];
    if (!match || !name || !Object.hasOwn(HANDLER_ENV, name))
      throw new Error(
        `functionMemoryMb: ${JSON.stringify(entry)} is not <function>=<MB> with a function of ${Object.keys(HANDLER_ENV).join(", ")}`,
      );
    const handler = name as HandlerName; // one of HANDLER_ENV's keys, as just checked
    if (sizes.has(handler)) throw new Error(`functionMemoryMb: ${handler} is named twice`);
    check(`functionMemoryMb ${handler}`, Number(match[2]));
    sizes.set(handler, Number(match[2]));
  }
  return (handler: HandlerName): number => sizes.get(handler) ?? cfg.lambdaMemoryMb;
}

/** Lambda's limit on all of a function's environment variables together; inline rules must leave room. */
const YARA_INLINE_MAX_BYTES = 3 * 1024;

/** Inline YARA rules are compiled here, at preview, so rules that do not compile never reach a function. */
function checkYara(cfg: AirlockConfig): void {
  if (cfg.yaraRulesObject && !/^s3:\/\/[^/]+\/.+$/.test(cfg.yaraRulesObject))
    throw new Error(`yaraRulesObject must be s3://bucket/key, not ${JSON.stringify(cfg.yaraRulesObject)}`);
  if (cfg.yaraRules !== undefined) {
    if (Buffer.byteLength(cfg.yaraRules) > YARA_INLINE_MAX_BYTES)
      throw new Error(
        `yaraRules is ${Buffer.byteLength(cfg.yaraRules)} bytes; Lambda environments hold 4 KiB: put larger rule sets in yaraRulesObject`,
      );
    const errors = validateYaraRules(cfg.yaraRules);
    if (errors.length > 0) throw new Error(`yaraRules do not compile: ${errors.join("; ")}`);
  }
  if ((cfg.yaraRules || cfg.yaraRulesObject) && cfg.yaraTimeoutMs >= cfg.lambdaTimeoutSeconds * 1000)
    throw new Error("yaraTimeoutMs must be shorter than lambdaTimeoutSeconds");
}

/** ClamAV is on with an existing `clamdEndpoint` or the `clamav` service; both need the scan function in a VPC. */
function checkClamav(cfg: AirlockConfig): void {
  const on = cfg.clamav || cfg.clamdEndpoint !== undefined;
  if (cfg.clamav && cfg.clamdEndpoint)
    throw new Error("clamav and clamdEndpoint: choose one (the clamav service provides its own endpoint)");
  if (cfg.scanEngines.includes("clamav") && !on)
    throw new Error('scanEngines lists "clamav": set clamdEndpoint or clamav: true');
  if (on && !cfg.scanEngines.includes("clamav")) cfg.scanEngines.push("clamav");
  if (cfg.clamdEndpoint && !/^tcp:\/\/[^\s/:]+(:\d{1,5})?$/.test(cfg.clamdEndpoint))
    throw new Error(`clamdEndpoint must be tcp://host:port, not ${JSON.stringify(cfg.clamdEndpoint)}`);
  if (cfg.clamav && (!cfg.scanVpcId || cfg.scanSubnetIds.length === 0))
    throw new Error("clamav: set scanVpcId and scanSubnetIds (private subnets with a route to the internet)");
  if (cfg.clamdEndpoint && cfg.scanSubnetIds.length > 0 && cfg.scanSecurityGroupIds.length === 0)
    throw new Error("clamdEndpoint with scanSubnetIds: set scanSecurityGroupIds (a group your clamd admits)");
  if (on && cfg.clamdTimeoutMs >= cfg.lambdaTimeoutSeconds * 1000)
    throw new Error("clamdTimeoutMs must be shorter than lambdaTimeoutSeconds");
}

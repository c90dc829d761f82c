/**
 * The vocabulary of Airlock's domain: stages, their results, verdicts and the file record.
 * Pure types, shared by handlers, adapters, the local stack, the CLI and the infra program.
 */

export const STAGES = ["validate", "scan", "metadata"] as const;
export type StageName = (typeof STAGES)[number];

export const FINAL_STATUSES = ["VERIFIED", "REJECTED", "INFECTED", "FAILED"] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export type FileStatus = "PENDING" | FinalStatus | "DELETED";

export type Source = "api" | "drop";

/** Why an engine or stage could not reach a judgement. Content reasons reject; operational ones fail. */
export type ErrorReason =
  | "limit-exceeded"
  | "encrypted"
  | "corrupt"
  | "unsupported"
  | "timeout"
  | "engine-unavailable"
  | "internal";

export const CONTENT_ERROR_REASONS: readonly ErrorReason[] = [
  "limit-exceeded",
  "encrypted",
  "corrupt",
  "unsupported",
];

/** A detected file type. `id` is the policy name used in allow-lists (e.g. `pdf`, `png`, `docx`, `txt`). */
export interface DetectedType {
  id: string;
  mime: string;
  ext: string;
}

export interface ValidateResult {
  stage: "validate";
  status: "passed" | "rejected" | "error";
  reasons: string[];
  detectedType?: DetectedType;
  size: number;
  /** The SHA-256 the uploader declared when it asked for the upload; the verdict compares it with the bytes. */
  declaredSha256?: string;
  at: string;
}

export interface Finding {
  /** Stable signature name, e.g. `Airlock.Eicar`, `Airlock.Executable.PE`, `Airlock.Archive.Bomb`. */
  name: string;
  /** Where it was found: `""` for the object itself, `a.zip/b.exe` for nested entries. */
  path: string;
}

export type EngineResult =
  | { engine: string; status: "clean"; signatureVersion?: string }
  | { engine: string; status: "infected"; findings: Finding[]; signatureVersion?: string }
  | { engine: string; status: "error"; reason: ErrorReason; detail: string };

export interface ScanResult {
  stage: "scan";
  status: "clean" | "infected" | "error";
  engines: EngineResult[];
  reasons: string[];
  /** The engines' answers came from the verdict cache (same SHA-256, engines and signature versions). */
  cached?: boolean;
  at: string;
}

/** Image facts; GPS values are never copied, only whether they are present. */
export interface ImageFacts {
  width?: number;
  height?: number;
  /** EXIF orientation 1–8 when present. */
  orientation?: number;
  exif: boolean;
  gps: boolean;
}

export interface PdfFacts {
  pages: number;
  title?: string;
  author?: string;
  createdAt?: string;
  /** Whether any page has extractable text (undefined when the document could not be opened). */
  textLayer?: boolean;
  encrypted: boolean;
  /** false when the PDF parser could not open the document at all (not for a password): it is then not promoted. */
  readable?: boolean;
}

export interface OfficeFacts {
  /** Pages (docx, as last saved), sheets (xlsx) or slides (pptx), from the package itself. */
  pages?: number;
  sheets?: number;
  slides?: number;
  title?: string;
  author?: string;
  createdAt?: string;
}

export interface TextFacts {
  /** `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be`. */
  encoding?: string;
  lines: number;
  words: number;
  csv?: { columns: number; header: string[] };
}

export interface ArchiveFacts {
  entries: number;
  /** The sum of the entries' declared uncompressed sizes (entries whose size is only in a trailing descriptor count as 0). */
  expandedBytes: number;
}

/** What was extracted as text (built in, or by OCR): the full text goes to the clean bucket once VERIFIED. */
export interface ExtractedText {
  source: "text" | "pdf" | "office" | "ocr";
  characters: number;
  words: number;
  /** ISO 639-3 code from `franc-min`, when the text is long enough to guess (`und` otherwise). */
  language?: string;
  /** The first characters (at most 500). */
  preview: string;
  /** The text was cut at the configured character cap. */
  truncated: boolean;
}

export type OcrMode = "required" | "best-effort" | "off";

export interface OcrFacts {
  engine: "textract";
  mode: OcrMode;
  status: "done" | "pending" | "skipped" | "failed";
  /** Why it was skipped or failed. */
  reason?: string;
  jobId?: string;
  pages?: number;
  words?: number;
  at: string;
}

export interface Facts {
  sha256: string;
  size: number;
  detectedType?: DetectedType;
  /** The S3 checksum of the object when it has a full-object SHA-256 one, and whether it matched. */
  s3Checksum?: { algorithm: "SHA256"; matches: boolean };
  image?: ImageFacts;
  pdf?: PdfFacts;
  office?: OfficeFacts;
  text?: TextFacts;
  archive?: ArchiveFacts;
  extracted?: ExtractedText;
  ocr?: OcrFacts;
  /** Parsers that could not read the content; facts are then partial, never a reason to promote. */
  warnings?: string[];
}

export interface MetadataResult {
  stage: "metadata";
  status: "ok" | "error";
  facts?: Facts;
  reasons: string[];
  at: string;
}

export type StageResult = ValidateResult | ScanResult | MetadataResult;

/** The identity of one object version: all stage writes are conditional on it. */
export interface ObjectVersion {
  bucket: string;
  key: string;
  /** S3 version id when versioning is on; otherwise undefined. */
  versionId?: string;
  eTag?: string;
  /** S3 event sequencer (hex), used to order events on the same key. */
  sequencer: string;
  size: number;
}

/** One copy in the clean bucket, named exactly: its version id where the bucket has them, else its ETag. */
export interface CleanCopy {
  key: string;
  versionId?: string;
  eTag?: string;
}

/**
 * What a promotion put into the clean bucket for one object version (`sequencer`): the file and its extracted
 * text. It stays on the record when a newer drop of the key takes the record over, until it has been withdrawn.
 */
export interface PromotedCopies extends CleanCopy {
  sequencer: string;
  text?: CleanCopy;
}

export interface FileRecord {
  fileId: string;
  key: string;
  bucket: string;
  source: Source;
  owner?: string;
  status: FileStatus;
  reasons: string[];
  version: ObjectVersion;
  declaredType?: string;
  stages: Partial<{ validate: ValidateResult; scan: ScanResult; metadata: MetadataResult }>;
  sha256?: string;
  size: number;
  detectedType?: DetectedType;
  cleanKey?: string;
  /** Exactly what the promotion of `version` (or of a version it superseded) put into the clean bucket. */
  cleanCopy?: PromotedCopies;
  /** The extracted text in the clean bucket (`text/<fileId>.txt`), once VERIFIED. */
  textKey?: string;
  /** The last error of a stage attempt that threw, kept so a dead-lettered message can say why. */
  stageFailures?: Partial<Record<StageName, string>>;
  /** How many times an operator (or the sweeper) re-opened the file for a new scan. */
  rescans?: number;
  createdAt: string;
  updatedAt: string;
  decidedAt?: string;
  promotedAt?: string;
  /** When the owner deleted the file; the record is then an audit stub. */
  deletedAt?: string;
  notifiedAt?: string;
  notificationId?: string;
}

/** What an API upload was presigned for; an object that lands differently is rejected by validation. */
export interface UploadSession {
  fileId: string;
  owner: string;
  key: string;
  filename: string;
  contentType: string;
  size: number;
  sha256?: string;
  multipartUploadId?: string;
  /** Epoch seconds after which the presigned upload is void (also the table's TTL attribute). */
  expiresAt: number;
  createdAt: string;
}

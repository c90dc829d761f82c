/** The environment every handler validates at cold start, with test values. */
export const TEST_ENV: Record<string, string> = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  AIRLOCK_TABLE_NAME: "airlock-files",
  AIRLOCK_INGEST_BUCKET: "ingest",
  AIRLOCK_CLEAN_BUCKET: "clean",
  AIRLOCK_NOTIFICATIONS_TOPIC_ARN: "arn:aws:sns:us-east-1:111122223333:notify",
  AIRLOCK_FANOUT_TOPIC_ARN: "arn:aws:sns:us-east-1:111122223333:fanout",
  AIRLOCK_MAX_SIZE_BYTES: "1048576",
  AIRLOCK_ALLOWED_TYPES: "pdf,png,txt,csv,json,zip",
  AIRLOCK_SCAN_MAX_DEPTH: "3",
  AIRLOCK_SCAN_MAX_ENTRIES: "100",
  AIRLOCK_SCAN_MAX_EXPANDED_BYTES: "10485760",
  AIRLOCK_SCAN_MAX_RATIO: "100",
  AIRLOCK_STUCK_AFTER_SECONDS: "300",
  AIRLOCK_UPLOAD_EXPIRY_SECONDS: "300",
  AIRLOCK_DOWNLOAD_EXPIRY_SECONDS: "60",
  AIRLOCK_MULTIPART_THRESHOLD_BYTES: "5242880",
  AIRLOCK_OCR: "best-effort",
  AIRLOCK_OCR_TOPIC_ARN: "arn:aws:sns:us-east-1:111122223333:ocr",
  AIRLOCK_OCR_ROLE_ARN: "arn:aws:iam::111122223333:role/textract",
  AIRLOCK_TEXT_MAX_CHARS: "100000",
  AIRLOCK_TEXT_PDF_MAX_BYTES: "1048576",
  POWERTOOLS_LOG_LEVEL: "SILENT",
};

export function setTestEnv(overrides: Record<string, string | undefined> = {}): void {
  for (const [name, value] of Object.entries({ ...TEST_ENV, ...overrides })) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

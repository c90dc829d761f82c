/**
 * us-east-1 list prices (on-demand, no free tier, no Savings Plans) used by `npm run bench -- cost`.
 * Checked 2026-12-01. Sources are the AWS pricing pages named per figure; where a figure could not be confirmed
 * against a stored copy of that page it says so (`confirmed: false`) and is the figure those pages have shown
 * for years. Update the figures here, nowhere else.
 */
export interface Price {
  usd: number;
  per: string;
  source: string;
  confirmed: boolean;
  note?: string;
}

export const PRICES_DATE = "2026-12-01";

export const PRICES = {
  s3PutClass: {
    usd: 0.005 / 1000,
    per: "PUT, COPY, POST or LIST request (S3 Standard; also PutObjectTagging, multipart calls)",
    source: "https://aws.amazon.com/s3/pricing/ (Requests & data retrievals)",
    confirmed: true,
  },
  s3GetClass: {
    usd: 0.0004 / 1000,
    per: "GET, HEAD or other request (S3 Standard; also GetObjectTagging)",
    source: "https://aws.amazon.com/s3/pricing/",
    confirmed: false,
    note: "DELETE and abort requests are free",
  },
  s3Tag: {
    usd: 0.01 / 10_000,
    per: "object tag per month (S3 object tagging, storage management)",
    source: "https://aws.amazon.com/s3/pricing/ (Management & insights)",
    confirmed: false,
  },
  s3StorageGbMonth: {
    usd: 0.023,
    per: "GB-month of S3 Standard storage (first 50 TB)",
    source: "https://aws.amazon.com/s3/pricing/",
    confirmed: false,
    note: "not in the per-file request cost: what is kept, and for how long, is the operator's choice",
  },
  dynamoWru: {
    usd: 0.625 / 1_000_000,
    per: "write request unit (on-demand; 1 KB, 2 for transactional)",
    source: "https://aws.amazon.com/dynamodb/pricing/on-demand/ (reduced 50% on 2024-11-01)",
    confirmed: true,
  },
  dynamoRru: {
    usd: 0.125 / 1_000_000,
    per: "read request unit (on-demand; 4 KB strongly consistent, 8 KB eventually consistent)",
    source: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    confirmed: true,
  },
  sqsRequest: {
    usd: 0.4 / 1_000_000,
    per: "standard-queue request, per 64 KB chunk of payload",
    source: "https://aws.amazon.com/sqs/pricing/",
    confirmed: false,
  },
  snsPublish: {
    usd: 0.5 / 1_000_000,
    per: "publish, per 64 KB chunk (standard topic)",
    source: "https://aws.amazon.com/sns/pricing/",
    confirmed: false,
    note: "deliveries to SQS and Lambda are free",
  },
  snsEmail: {
    usd: 2.0 / 100_000,
    per: "email delivery (email or email-json subscription)",
    source: "https://aws.amazon.com/sns/pricing/",
    confirmed: false,
  },
  kmsRequest: {
    usd: 0.03 / 10_000,
    per: "KMS API request (symmetric key)",
    source: "https://aws.amazon.com/kms/pricing/",
    confirmed: false,
  },
  lambdaRequest: {
    usd: 0.2 / 1_000_000,
    per: "Lambda invocation",
    source: "https://aws.amazon.com/lambda/pricing/",
    confirmed: true,
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    per: "GB-second, arm64 (first 7.5 billion GB-s a month)",
    source: "https://aws.amazon.com/lambda/pricing/",
    confirmed: true,
  },
  lambdaX86GbSecond: {
    usd: 0.0000166667,
    per: "GB-second, x86_64 (first 6 billion GB-s a month): what the Lambda-ClamAV anchor runs on",
    source: "https://aws.amazon.com/lambda/pricing/",
    confirmed: true,
  },
  textractPage: {
    usd: 1.5 / 1000,
    per: "page, DetectDocumentText (first million pages a month)",
    source: "https://aws.amazon.com/textract/pricing/",
    confirmed: false,
  },
} satisfies Record<string, Price>;

/** The published prices of the alternatives Airlock is compared with (as quoted in issue 17). */
export const ANCHORS = {
  guardDuty: {
    perGb: 0.09,
    perThousandObjects: 0.215,
    source: "https://aws.amazon.com/guardduty/pricing/ (Malware Protection for S3)",
  },
  trend: { perScan: 0.013, source: "Trend Vision One File Security, AWS Marketplace listing" },
  lambdaClamav: {
    memoryGb: 10,
    seconds: [15, 30] as const,
    source: "typical bucket-antivirus-function setups (10 GB function, 15–30 s a file, x86_64)",
  },
  clamavFargateMonthly: {
    usd: 59,
    source: "this README: one ClamAV task (1 vCPU, 4 GB, arm64) plus its NLB, a month",
  },
} as const;

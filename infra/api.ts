/**
 * The HTTP API: API Gateway (HTTP, payload 2.0) with a JWT authorizer on every route — the configured issuer and
 * audience, or a Cognito user pool created for the stack — and one Lambda behind all routes.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { AirlockConfig } from "./config.ts";
import { type AirlockFunction, airlockFunction } from "./lambda.ts";
import type { Storage } from "./storage.ts";

export { API_ROUTES as ROUTES } from "../core/http/routes.ts";

import { UPLOADS_PREFIX } from "../core/domain/keys.ts";
import { API_ROUTES as ROUTES } from "../core/http/routes.ts";

export interface ApiArgs {
  config: AirlockConfig;
  storage: Storage;
  code: pulumi.asset.Archive;
  region: pulumi.Input<string>;
  /** The web console, when deployed: its origin is allowed by CORS and is an OAuth redirect URI. */
  console?: { origin: pulumi.Input<string>; url: pulumi.Input<string>; hostedUiPrefix: pulumi.Input<string> };
}

export class Api extends pulumi.ComponentResource {
  readonly api: aws.apigatewayv2.Api;
  readonly url: pulumi.Output<string>;
  readonly lambda: AirlockFunction;
  readonly issuer: pulumi.Output<string>;
  readonly audience: pulumi.Output<string>;
  /** The Cognito hosted UI's endpoints, when the stack owns the user pool and serves the console. */
  readonly hostedUi?: { authorizationEndpoint: pulumi.Output<string>; tokenEndpoint: pulumi.Output<string> };

  constructor(name: string, args: ApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:api:Api", name, {}, opts);
    const { config, storage } = args;
    const origins: pulumi.Input<string>[] = [
      ...config.corsOrigins,
      ...(args.console ? [args.console.origin] : []),
    ];

    if (config.jwtIssuer && config.jwtAudience) {
      this.issuer = pulumi.output(config.jwtIssuer);
      this.audience = pulumi.output(config.jwtAudience);
    } else {
      const pool = new aws.cognito.UserPool(
        `${name}-users`,
        {
          passwordPolicy: {
            minimumLength: 12,
            requireLowercase: true,
            requireNumbers: true,
            requireSymbols: false,
            requireUppercase: true,
          },
          mfaConfiguration: "OPTIONAL",
          softwareTokenMfaConfiguration: { enabled: true },
          autoVerifiedAttributes: ["email"],
          usernameAttributes: ["email"],
          // Accounts are created by an administrator (aws cognito-idp admin-create-user): otherwise anyone who
          // reads the app client id from the console's config.json could sign up and upload.
          adminCreateUserConfig: { allowAdminCreateUserOnly: true },
        },
        { parent: this },
      );
      const client = new aws.cognito.UserPoolClient(
        `${name}-client`,
        {
          userPoolId: pool.id,
          generateSecret: false,
          allowedOauthFlowsUserPoolClient: true,
          allowedOauthFlows: ["code"],
          allowedOauthScopes: ["openid", "email"],
          supportedIdentityProviders: ["COGNITO"],
          callbackUrls: [
            ...(config.corsOrigins.length > 0 ? config.corsOrigins : ["http://localhost:5173/"]),
            ...(args.console ? [args.console.url] : []),
          ],
          explicitAuthFlows: ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        },
        { parent: this },
      );
      this.issuer = pulumi.interpolate`https://cognito-idp.${args.region}.amazonaws.com/${pool.id}`;
      this.audience = client.id;
      if (args.console) {
        // The hosted UI the console sends people to (authorization code with PKCE).
        const domain = new aws.cognito.UserPoolDomain(
          `${name}-domain`,
          { domain: args.console.hostedUiPrefix, userPoolId: pool.id },
          { parent: this },
        );
        const base = pulumi.interpolate`https://${domain.domain}.auth.${args.region}.amazoncognito.com/oauth2`;
        this.hostedUi = {
          authorizationEndpoint: pulumi.interpolate`${base}/authorize`,
          tokenEndpoint: pulumi.interpolate`${base}/token`,
        };
      }
    }

    // Signs list cursors so that they cannot be forged or replayed by another owner. It is kept as an SSM
    // SecureString (encrypted with the stack key) that the function reads once at cold start, not in its
    // environment, where anyone allowed lambda:GetFunctionConfiguration could read it.
    const cursorSecret = new random.RandomPassword(
      `${name}-cursor-secret`,
      { length: 48, special: false },
      { parent: this },
    );
    const cursorParameter = new aws.ssm.Parameter(
      `${name}-cursor-secret-parameter`,
      {
        name: `/${pulumi.getProject()}/${pulumi.getStack()}/api/cursor-secret`,
        description: "Airlock: the HMAC key of the API's list cursors",
        type: "SecureString",
        keyId: storage.key.arn,
        value: cursorSecret.result,
      },
      { parent: this },
    );
    this.lambda = airlockFunction(
      {
        name: `${name}-handler`,
        handler: "api",
        code: args.code,
        env: {
          AIRLOCK_TABLE_NAME: storage.table.name,
          AIRLOCK_INGEST_BUCKET: storage.ingestBucket.bucket,
          AIRLOCK_CLEAN_BUCKET: storage.cleanBucket.bucket,
          AIRLOCK_MAX_SIZE_BYTES: String(config.maxSizeBytes),
          AIRLOCK_ALLOWED_TYPES: config.allowedTypes.join(","),
          AIRLOCK_UPLOAD_EXPIRY_SECONDS: String(config.uploadExpirySeconds),
          AIRLOCK_DOWNLOAD_EXPIRY_SECONDS: String(config.downloadExpirySeconds),
          AIRLOCK_MULTIPART_THRESHOLD_BYTES: String(config.multipartThresholdBytes),
        },
        optionalEnv: { AIRLOCK_CURSOR_SECRET_PARAMETER: cursorParameter.name },
        statements: [
          {
            Sid: "FileRecords",
            Effect: "Allow",
            // DeleteItem: a deleted file's staged text and OCR job, and re-opening a refused multipart completion.
            // BatchGetItem: the records of a listing page (the owner index holds keys only).
            Action: [
              "dynamodb:GetItem",
              "dynamodb:BatchGetItem",
              "dynamodb:PutItem",
              "dynamodb:UpdateItem",
              "dynamodb:DeleteItem",
              "dynamodb:Query",
            ],
            Resource: [storage.table.arn],
          },
          {
            // Items are read and written on the table; only Query is authorized on an index.
            Sid: "FilesOfAnOwner",
            Effect: "Allow",
            Action: ["dynamodb:Query"],
            Resource: [pulumi.interpolate`${storage.table.arn}/index/byOwner`],
          },
          {
            Sid: "PresignUploads",
            Effect: "Allow",
            Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            Resource: [pulumi.interpolate`${storage.ingestBucket.arn}/${UPLOADS_PREFIX}*`],
          },
          {
            Sid: "PresignDownloads",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:GetObjectVersion"],
            Resource: [pulumi.interpolate`${storage.cleanBucket.arn}/*`],
          },
          {
            // A deleted file goes with every version of it and of its text in the clean bucket.
            Sid: "DeleteFiles",
            Effect: "Allow",
            Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
            Resource: [
              pulumi.interpolate`${storage.ingestBucket.arn}/*`,
              pulumi.interpolate`${storage.cleanBucket.arn}/*`,
            ],
          },
          {
            // ListBucket: a missing object is a 404, not a 403; ListBucketVersions: the versions to delete.
            Sid: "FindObjects",
            Effect: "Allow",
            Action: ["s3:ListBucket", "s3:ListBucketVersions"],
            Resource: [storage.ingestBucket.arn, storage.cleanBucket.arn],
          },
          {
            Sid: "DataKey",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: [storage.key.arn],
          },
          {
            Sid: "CursorSecret",
            Effect: "Allow",
            Action: ["ssm:GetParameter"],
            Resource: [cursorParameter.arn],
          },
        ],
      },
      config,
      this,
    );

    this.api = new aws.apigatewayv2.Api(
      `${name}-http`,
      {
        protocolType: "HTTP",
        corsConfiguration:
          origins.length > 0
            ? {
                allowOrigins: origins,
                allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
                allowHeaders: ["authorization", "content-type"],
                maxAge: 600,
              }
            : undefined,
      },
      { parent: this },
    );
    const authorizer = new aws.apigatewayv2.Authorizer(
      `${name}-jwt`,
      {
        apiId: this.api.id,
        authorizerType: "JWT",
        identitySources: ["$request.header.Authorization"],
        jwtConfiguration: { issuer: this.issuer, audiences: [this.audience] },
      },
      { parent: this },
    );
    const integration = new aws.apigatewayv2.Integration(
      `${name}-integration`,
      {
        apiId: this.api.id,
        integrationType: "AWS_PROXY",
        integrationUri: this.lambda.fn.invokeArn,
        payloadFormatVersion: "2.0",
      },
      { parent: this },
    );
    for (const route of ROUTES) {
      new aws.apigatewayv2.Route(
        `${name}-${route.toLowerCase().replace(/[^a-z]+/g, "-")}`,
        {
          apiId: this.api.id,
          routeKey: route,
          target: pulumi.interpolate`integrations/${integration.id}`,
          authorizationType: "JWT",
          authorizerId: authorizer.id,
        },
        { parent: this },
      );
    }
    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      { retentionInDays: config.logRetentionDays },
      { parent: this },
    );
    const stage = new aws.apigatewayv2.Stage(
      `${name}-stage`,
      {
        apiId: this.api.id,
        name: "$default",
        autoDeploy: true,
        accessLogSettings: {
          destinationArn: accessLogs.arn,
          format: JSON.stringify({
            requestId: "$context.requestId",
            routeKey: "$context.routeKey",
            status: "$context.status",
            sub: "$context.authorizer.claims.sub",
            latencyMs: "$context.responseLatency",
          }),
        },
        defaultRouteSettings: { throttlingBurstLimit: 200, throttlingRateLimit: 100 },
      },
      { parent: this },
    );
    new aws.lambda.Permission(
      `${name}-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: this.lambda.fn.name,
        principal: "apigateway.amazonaws.com",
        sourceArn: pulumi.interpolate`${this.api.executionArn}/*/*`,
      },
      { parent: this },
    );
    this.url = stage.invokeUrl;
    this.registerOutputs({ url: this.url, issuer: this.issuer, audience: this.audience });
  }
}

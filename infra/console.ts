/**
 * The optional web console (`airlock:console: true`): the built static files in a private, KMS-encrypted
 * bucket that only the CloudFront distribution may read (origin access control, SigV4), served with a response
 * headers policy: CSP, HSTS, nosniff, frame-ancestors 'none' (and X-Frame-Options DENY), no referrer.
 * `config.json` tells the page where the API is and how to sign in (OIDC authorization code with PKCE): it is
 * written by `ConsoleConfig`, once the API exists (the API's CORS and OAuth callbacks name the console's origin).
 */
import { readdirSync } from "node:fs";
import { extname, join } from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { consoleCsp } from "../web/csp.ts";
import type { AirlockConfig } from "./config.ts";
import { configureBucket, guardBucket } from "./storage.ts";

/** AWS managed cache policy "CachingOptimized". */
const CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
};

export interface ConsoleArgs {
  config: AirlockConfig;
  accountId: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** The built console (`web/build.ts`). */
  siteDir: string;
  ingestBucket: aws.s3.Bucket;
  cleanBucket: aws.s3.Bucket;
}

/** What the page needs to sign in: the API's URL and its OIDC client. */
export interface ConsoleAuth {
  apiUrl: pulumi.Input<string>;
  issuer: pulumi.Input<string>;
  clientId: pulumi.Input<string>;
  authorizationEndpoint?: pulumi.Input<string>;
  tokenEndpoint?: pulumi.Input<string>;
}

export class Console extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly distribution: aws.cloudfront.Distribution;
  /** `https://<id>.cloudfront.net`: a browser origin for CORS, and the OAuth redirect URI with a slash. */
  readonly origin: pulumi.Output<string>;
  readonly url: pulumi.Output<string>;
  /** The Cognito hosted UI domain prefix, used when the stack creates its own user pool. */
  readonly hostedUiPrefix: pulumi.Output<string>;
  /** The site bucket's encryption: every object is written after it. */
  readonly siteEncryption: aws.s3.BucketServerSideEncryptionConfiguration;

  constructor(name: string, args: ConsoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:console:Console", name, {}, opts);
    const { config, region } = args;

    this.bucket = new aws.s3.Bucket(`${name}-site`, {}, { parent: this });
    guardBucket(`${name}-site`, this.bucket, this);

    const suffix = new random.RandomString(
      `${name}-auth-domain`,
      { length: 10, special: false, upper: false },
      { parent: this },
    );
    this.hostedUiPrefix = pulumi.interpolate`airlock-${suffix.result}`;
    // The token endpoint the page calls: the hosted UI's when the stack owns the user pool, else the issuer's.
    const identityOrigins =
      config.jwtIssuer && config.jwtAudience
        ? [pulumi.output(new URL(config.jwtIssuer).origin)]
        : [pulumi.interpolate`https://${this.hostedUiPrefix}.auth.${region}.amazoncognito.com`];
    const bucketOrigins = (bucket: aws.s3.Bucket) => [
      pulumi.interpolate`https://${bucket.bucket}.s3.${region}.amazonaws.com`,
      pulumi.interpolate`https://${bucket.bucket}.s3.amazonaws.com`,
    ];
    const csp = pulumi
      .all([
        pulumi.all(bucketOrigins(args.ingestBucket)),
        pulumi.all(bucketOrigins(args.cleanBucket)),
        pulumi.all(identityOrigins),
        pulumi.output(region),
      ])
      .apply(([ingest, clean, identity, r]) =>
        consoleCsp({
          // The API's id is not known before the distribution (the API's CORS names the distribution).
          connect: [`https://*.execute-api.${r}.amazonaws.com`, ...ingest, ...identity],
          previews: clean,
        }),
      );

    const headers = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-headers`,
      {
        comment: "Airlock console: CSP, HSTS, nosniff, no framing, no referrer",
        securityHeadersConfig: {
          contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
          strictTransportSecurity: {
            accessControlMaxAgeSec: 63_072_000,
            includeSubdomains: true,
            preload: true,
            override: true,
          },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: "DENY", override: true },
          referrerPolicy: { referrerPolicy: "no-referrer", override: true },
        },
      },
      { parent: this },
    );
    const oac = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      {
        description: "Airlock console: CloudFront reads the site bucket",
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      { parent: this },
    );
    this.distribution = new aws.cloudfront.Distribution(
      `${name}-cdn`,
      {
        enabled: true,
        comment: "Airlock console",
        defaultRootObject: "index.html",
        httpVersion: "http2and3",
        priceClass: "PriceClass_100",
        origins: [
          {
            originId: "site",
            domainName: this.bucket.bucketRegionalDomainName,
            originAccessControlId: oac.id,
          },
        ],
        defaultCacheBehavior: {
          targetOriginId: "site",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
          compress: true,
          cachePolicyId: CACHING_OPTIMIZED,
          responseHeadersPolicyId: headers.id,
        },
        restrictions: { geoRestriction: { restrictionType: "none" } },
        // With CloudFront's default *.cloudfront.net certificate the minimum protocol cannot be chosen (it stays
        // TLSv1 whatever is asked): TLS 1.2+ needs the console's own name and an ACM certificate for it.
        ...(config.consoleDomain && config.consoleCertificateArn
          ? {
              aliases: [config.consoleDomain],
              viewerCertificate: {
                acmCertificateArn: config.consoleCertificateArn,
                sslSupportMethod: "sni-only",
                minimumProtocolVersion: "TLSv1.2_2021",
              },
            }
          : { viewerCertificate: { cloudfrontDefaultCertificate: true } }),
      },
      { parent: this },
    );
    this.origin = config.consoleDomain
      ? pulumi.output(`https://${config.consoleDomain}`)
      : pulumi.interpolate`https://${this.distribution.domainName}`;
    this.url = pulumi.interpolate`${this.origin}/`;

    // A key of its own: its policy lets exactly this distribution decrypt, which the stack key cannot name
    // (the distribution is created after storage).
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "Airlock console site",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AccountAdministers",
              Effect: "Allow",
              Principal: { AWS: pulumi.interpolate`arn:aws:iam::${args.accountId}:root` },
              Action: "kms:*",
              Resource: "*",
            },
            {
              Sid: "DistributionDecrypts",
              Effect: "Allow",
              Principal: { Service: "cloudfront.amazonaws.com" },
              Action: ["kms:Decrypt"],
              Resource: "*",
              Condition: { StringEquals: { "AWS:SourceArn": this.distribution.arn } },
            },
          ],
        }),
      },
      { parent: this },
    );
    const encryption = configureBucket(
      this.bucket,
      (after) =>
        new aws.s3.BucketServerSideEncryptionConfiguration(
          `${name}-site-encryption`,
          {
            bucket: this.bucket.id,
            rules: [
              {
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
                bucketKeyEnabled: true,
              },
            ],
          },
          { parent: this, ...after },
        ),
    );
    configureBucket(
      this.bucket,
      (after) =>
        new aws.s3.BucketPolicy(
          `${name}-site-policy`,
          {
            bucket: this.bucket.id,
            policy: pulumi.jsonStringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Sid: "TlsOnly",
                  Effect: "Deny",
                  Principal: "*",
                  Action: "s3:*",
                  Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/*`],
                  Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
                {
                  Sid: "DistributionReads",
                  Effect: "Allow",
                  Principal: { Service: "cloudfront.amazonaws.com" },
                  Action: ["s3:GetObject"],
                  Resource: [pulumi.interpolate`${this.bucket.arn}/*`],
                  Condition: { StringEquals: { "AWS:SourceArn": this.distribution.arn } },
                },
              ],
            }),
          },
          { parent: this, ...after },
        ),
    );

    // Source maps stay on the machine that built the console: published, every visitor's browser could load
    // megabytes of them and read the sources.
    for (const file of readdirSync(args.siteDir).filter((f) => extname(f) !== ".map")) {
      new aws.s3.BucketObjectv2(
        `${name}-file-${file}`,
        {
          bucket: this.bucket.id,
          key: file,
          source: new pulumi.asset.FileAsset(join(args.siteDir, file)),
          contentType: CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
          // The page and its config must be fresh after a deploy; the bundle is small enough to revalidate.
          cacheControl: "no-cache",
        },
        { parent: this, dependsOn: [encryption] },
      );
    }
    this.siteEncryption = encryption;
    this.registerOutputs({ url: this.url });
  }
}

export interface ConsoleConfigArgs {
  console: Console;
  auth: ConsoleAuth;
}

/**
 * The console's `config.json`: the API and the OIDC client the page signs in with. A component of its own,
 * created after both the console and the API: the API's CORS and OAuth callbacks name the console's origin,
 * and this file names the API. The object was the console's child before: the alias keeps it in place.
 */
export class ConsoleConfig extends pulumi.ComponentResource {
  readonly object: aws.s3.BucketObjectv2;

  constructor(name: string, args: ConsoleConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:console:ConsoleConfig", name, {}, opts);
    const { auth } = args;
    const body = pulumi
      .all([auth.apiUrl, auth.issuer, auth.clientId, auth.authorizationEndpoint, auth.tokenEndpoint])
      .apply(([apiUrl, issuer, clientId, authorizationEndpoint, tokenEndpoint]) =>
        JSON.stringify({
          apiUrl,
          auth: {
            mode: "oidc",
            issuer,
            clientId,
            scope: "openid email",
            ...(authorizationEndpoint ? { authorizationEndpoint } : {}),
            ...(tokenEndpoint ? { tokenEndpoint } : {}),
          },
        }),
      );
    this.object = new aws.s3.BucketObjectv2(
      `${name}-config`,
      {
        bucket: args.console.bucket.id,
        key: "config.json",
        content: body,
        contentType: "application/json",
        cacheControl: "no-cache",
      },
      { parent: this, dependsOn: [args.console.siteEncryption], aliases: [{ parent: args.console }] },
    );
    this.registerOutputs({});
  }
}

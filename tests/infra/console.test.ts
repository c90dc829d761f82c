/**
 * The optional console component under Pulumi mocks (`airlock:console: true`): a private bucket only the
 * distribution reads, the security headers, the console's origin in CORS and the OAuth callbacks, config.json.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { statementsOf, TYPES, violations } from "../../policy/rules.js";
import { type Recorded, runProgram } from "./harness.ts";

let resources: Recorded[];
let outputs: Record<string, unknown>;

beforeAll(async () => {
  ({ resources, outputs } = await runProgram({ console: true }));
}, 60_000);

const named = (type: string, name: string) => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};
const distribution = () => named("aws:cloudfront/distribution:Distribution", "airlock-console-cdn");
let ORIGIN: string;
beforeAll(() => {
  ORIGIN = `https://${distribution().state.domainName}`;
});

describe("Component: Console", () => {
  it("is one more component and breaks none of Airlock's policies", () => {
    expect(resources.filter((r) => r.type === "airlock:console:Console")).toHaveLength(1);
    expect(violations(resources)).toEqual([]);
    expect(outputs.consoleUrl).toBe(`${ORIGIN}/`);
  });

  it("keeps the site bucket private: only this distribution reads it, over TLS", () => {
    const access = named(TYPES.publicAccess, "airlock-console-site-public-access");
    expect(access.inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const policy = named(TYPES.bucketPolicy, "airlock-console-site-policy");
    const allows = statementsOf(policy.inputs.policy).filter((s) => s.Effect === "Allow");
    expect(allows).toHaveLength(1);
    expect(allows[0]?.Action).toEqual(["s3:GetObject"]);
    const raw = JSON.parse(String(policy.inputs.policy)) as { Statement: Record<string, unknown>[] };
    const read = raw.Statement.find((s) => s.Sid === "DistributionReads");
    expect(read?.Principal).toEqual({ Service: "cloudfront.amazonaws.com" });
    expect(read?.Condition).toEqual({
      StringEquals: { "AWS:SourceArn": distribution().state.arn },
    });
  });

  it("serves through origin access control, HTTPS only, with the headers policy", () => {
    const cdn = named("aws:cloudfront/distribution:Distribution", "airlock-console-cdn");
    const origin = (cdn.inputs.origins as { originAccessControlId?: string }[])[0];
    expect(origin?.originAccessControlId).toBeTruthy();
    const oac = named("aws:cloudfront/originAccessControl:OriginAccessControl", "airlock-console-oac");
    expect(oac.inputs).toMatchObject({ signingBehavior: "always", signingProtocol: "sigv4" });
    expect(cdn.inputs.defaultCacheBehavior).toMatchObject({
      viewerProtocolPolicy: "redirect-to-https",
      allowedMethods: ["GET", "HEAD"],
      responseHeadersPolicyId: expect.any(String),
    });
  });

  it("sends CSP, HSTS, nosniff, no framing and no referrer", () => {
    const policy = named(
      "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
      "airlock-console-headers",
    );
    const headers = policy.inputs.securityHeadersConfig as Record<string, Record<string, unknown>>;
    const csp = String(headers.contentSecurityPolicy?.contentSecurityPolicy);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toMatch(
      /connect-src 'self' https:\/\/\*\.execute-api\.us-east-1\.amazonaws\.com https:\/\/[^ ]*ingest[^ ]*\.s3\./,
    );
    expect(csp).toMatch(/https:\/\/airlock-[a-z0-9-]+\.auth\.us-east-1\.amazoncognito\.com/);
    expect(csp).toMatch(/frame-src https:\/\/[^ ]*clean[^ ]*\.s3\./);
    expect(headers.strictTransportSecurity).toMatchObject({ includeSubdomains: true, override: true });
    expect(Number(headers.strictTransportSecurity?.accessControlMaxAgeSec)).toBeGreaterThanOrEqual(
      31_536_000,
    );
    expect(headers.contentTypeOptions).toMatchObject({ override: true });
    expect(headers.frameOptions).toMatchObject({ frameOption: "DENY" });
    expect(headers.referrerPolicy).toMatchObject({ referrerPolicy: "no-referrer" });
  });

  it("lets only this distribution decrypt the site's objects", () => {
    const key = named("aws:kms/key:Key", "airlock-console-key");
    expect(key.inputs.enableKeyRotation).toBe(true);
    const statements = JSON.parse(String(key.inputs.policy)).Statement as Record<string, unknown>[];
    const cloudfront = statements.find((s) => s.Sid === "DistributionDecrypts");
    expect(cloudfront?.Action).toEqual(["kms:Decrypt"]);
    expect(cloudfront?.Condition).toEqual({ StringEquals: { "AWS:SourceArn": distribution().state.arn } });
  });

  it("adds the console's origin to the API and ingest bucket CORS and to the OAuth callbacks", () => {
    const api = named("aws:apigatewayv2/api:Api", "airlock-api-http");
    expect((api.inputs.corsConfiguration as { allowOrigins: string[] }).allowOrigins).toEqual([
      "http://localhost:5173",
      ORIGIN,
    ]);
    const cors = named("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "airlock-ingest-cors");
    expect((cors.inputs.corsRules as { allowedOrigins: string[] }[])[0]?.allowedOrigins).toEqual([
      "http://localhost:5173",
      ORIGIN,
    ]);
    const client = named("aws:cognito/userPoolClient:UserPoolClient", "airlock-api-client");
    expect(client.inputs.callbackUrls).toContain(`${ORIGIN}/`);
    expect(client.inputs.allowedOauthFlows).toEqual(["code"]);
    expect(named("aws:cognito/userPoolDomain:UserPoolDomain", "airlock-api-domain").inputs.domain).toMatch(
      /^airlock-/,
    );
  });

  it("uploads the built page and a config.json for the hosted UI sign-in", () => {
    const objects = resources.filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2");
    const byKey = Object.fromEntries(objects.map((o) => [String(o.inputs.key), o.inputs]));
    expect(byKey["index.html"]?.contentType).toBe("text/html; charset=utf-8");
    expect(byKey["app.js"]?.contentType).toBe("text/javascript; charset=utf-8");
    expect(byKey["styles.css"]?.contentType).toBe("text/css; charset=utf-8");
    const config = JSON.parse(String(byKey["config.json"]?.content));
    expect(config).toEqual({
      apiUrl: expect.stringContaining("execute-api"),
      auth: {
        mode: "oidc",
        issuer: expect.stringMatching(/^https:\/\/cognito-idp\.us-east-1\.amazonaws\.com\//),
        clientId: expect.any(String),
        scope: "openid email",
        authorizationEndpoint: expect.stringMatching(
          /^https:\/\/airlock-[a-z0-9-]+\.auth\.us-east-1\.amazoncognito\.com\/oauth2\/authorize$/,
        ),
        tokenEndpoint: expect.stringMatching(/\.amazoncognito\.com\/oauth2\/token$/),
      },
    });
  });
});

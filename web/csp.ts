/**
 * The console's Content-Security-Policy, shared by the local server and the CloudFront response headers
 * policy: the page's own code and styles only, network calls to the API, the ingest bucket and the identity
 * provider, previews from the clean bucket, no plugins, no framing of the console itself.
 */
export interface CspSources {
  /** fetch / XMLHttpRequest targets: the API, the ingest bucket, the identity provider's token endpoint. */
  connect: string[];
  /** Where previews come from: the clean bucket's presigned URLs. */
  previews: string[];
}

export function consoleCsp(sources: CspSources): string {
  const list = (values: string[]) => [...new Set(values)].join(" ");
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ${list(sources.connect)}`,
    `img-src 'self' ${list(sources.previews)}`,
    `frame-src ${list(sources.previews)}`,
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

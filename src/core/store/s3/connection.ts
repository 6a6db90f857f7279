/** How to reach an S3-compatible server, and where the keys for it are kept. */

export interface S3Connection {
  /** e.g. https://obs.cn-north-4.myhuaweicloud.com, http://127.0.0.1:9000; empty for AWS. */
  endpoint?: string;
  region?: string;
  /** Path-style URLs (endpoint/bucket/key), which most non-AWS servers need. */
  forcePathStyle?: boolean;
  /** When absent, the standard AWS chain (environment, ~/.aws profile…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * Where a connection's keys are kept (VS Code SecretStorage): bound to the endpoint and bucket they
 * were given for, not to the connection's name, so a setting that gives a known name another
 * endpoint finds no keys (and the user is asked) instead of sending them there. The endpoint is
 * compared as a URL (scheme and host lower case, default port and trailing slash dropped, no user
 * info); no endpoint is AWS S3.
 */
export function objectStorageSecretKey(c: { endpoint?: string; bucket?: string }): string {
  let where = 'aws';
  if (c.endpoint) {
    try {
      const u = new URL(c.endpoint.trim());
      where = `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
    } catch {
      where = c.endpoint.trim();
    }
  }
  return `modelRegistry.objectStorage/v2/${encodeURIComponent(where)}/${encodeURIComponent(c.bucket ?? '')}`;
}

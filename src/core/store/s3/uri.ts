import { RegistryError } from '../../errors';

/** "s3://bucket/some/prefix" → bucket and prefix. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new RegistryError(`not an s3:// address: ${uri} (write s3://BUCKET/PREFIX)`);
  return { bucket: m[1], prefix: m[2] };
}

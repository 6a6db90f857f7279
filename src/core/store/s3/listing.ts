/** Listing the objects of a bucket under a prefix. */
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Sdk } from '../../util/lazyModules';
import { storageError } from './client';

export interface S3Object {
  key: string;
  size: number;
  etag?: string;
  /** Last-Modified, ms since the epoch. */
  modifiedMs?: number;
}

/** Every object under the prefix (all pages); "folder" markers (keys ending in /) are skipped. */
export async function listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  signal?: AbortSignal,
): Promise<S3Object[]> {
  const out: S3Object[] = [];
  let token: string | undefined;
  do {
    const page = await client
      .send(new (s3Sdk().ListObjectsV2Command)({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), {
        abortSignal: signal,
      })
      .catch((e) => {
        throw storageError(`s3://${bucket}/${prefix}`, e);
      });
    out.push(...objectsOf(page.Contents));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Folders (common prefixes) and objects one level below a prefix: what a browser shows. */
export async function browse(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ folders: string[]; objects: S3Object[] }> {
  const page = await client
    .send(new (s3Sdk().ListObjectsV2Command)({ Bucket: bucket, Prefix: prefix, Delimiter: '/' }))
    .catch((e) => {
      throw storageError(`s3://${bucket}/${prefix}`, e);
    });
  return {
    folders: (page.CommonPrefixes ?? []).flatMap((p) => (p.Prefix ? [p.Prefix] : [])),
    objects: objectsOf(page.Contents),
  };
}

/** A listing page's objects; "folder" markers (keys ending in /) are not objects. */
function objectsOf(
  contents: { Key?: string; Size?: number; ETag?: string; LastModified?: Date }[] | undefined,
): S3Object[] {
  return (contents ?? []).flatMap((o) =>
    o.Key && !o.Key.endsWith('/')
      ? [{ key: o.Key, size: o.Size ?? 0, etag: o.ETag, modifiedMs: o.LastModified?.getTime() }]
      : [],
  );
}

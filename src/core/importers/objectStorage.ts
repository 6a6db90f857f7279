/**
 * Import from S3-compatible object storage (AWS S3, Huawei OBS, MinIO, Swift s3api…). Every object
 * under a prefix is streamed straight into the store, hashed on the way; big objects come in ranges
 * fetched in parallel and hashed in order; a range that fails is fetched again (resume), and a
 * download that cannot complete fails cleanly before any version exists. The stored objects are then
 * linked under their names into a staging folder, where the usual detection (formats, metric logs,
 * parameters) runs, and the version is registered with source `object-storage`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Sdk } from '../util/lazyModules';
import { forEachLimit } from '../util/parallel';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { CancelledError, InputError } from '../errors';
import { Registry } from '../registry/registry';
import { VersionRecord } from '../registry/types';
import { s3Client, storageError } from '../store/s3/client';
import { S3Connection } from '../store/s3/connection';
import { listObjects, S3Object } from '../store/s3/listing';
import { parseS3Uri } from '../store/s3/uri';
import { redactUrl } from '../util/redact';
import { ImportProgress, importTrainingOutput } from './trainingOutput';

export interface ObjectStorageImportOptions {
  model?: string;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /** Objects larger than this are fetched as parallel ranges of this size (default 16 MiB). */
  partSize?: number;
  /** Ranges in flight per object (default 4). */
  parallel?: number;
  /** Attempts per range before giving up (default 4). */
  attempts?: number;
}

/** The bytes of bytes [start, end] of an object, retried (a dropped connection resumes at this range). */
async function fetchRange(
  client: S3Client,
  bucket: string,
  key: string,
  start: number,
  end: number,
  attempts: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new CancelledError();
    try {
      const r = await client.send(
        new (s3Sdk().GetObjectCommand)({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}` }),
        { abortSignal: signal },
      );
      const bytes = Buffer.from(await r.Body!.transformToByteArray());
      if (bytes.length !== end - start + 1) throw new Error(`short read: ${bytes.length} of ${end - start + 1} bytes`);
      return bytes;
    } catch (e) {
      if (signal?.aborted) throw new CancelledError();
      if (attempt >= attempts) throw storageError(`s3://${bucket}/${key}`, e);
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}

/** An object's bytes in order; ranges beyond the first are fetched `parallel` at a time ahead of the reader. */
async function* objectBytes(
  client: S3Client,
  bucket: string,
  o: S3Object,
  opts: Required<Pick<ObjectStorageImportOptions, 'partSize' | 'parallel' | 'attempts'>> & { signal?: AbortSignal },
): AsyncGenerator<Buffer> {
  const ranges: [number, number][] = [];
  for (let start = 0; start < o.size; start += opts.partSize)
    ranges.push([start, Math.min(o.size, start + opts.partSize) - 1]);
  const inFlight: Promise<Buffer>[] = [];
  let next = 0;
  const fill = () => {
    while (next < ranges.length && inFlight.length < opts.parallel) {
      const [s, e] = ranges[next++];
      const p = fetchRange(client, bucket, o.key, s, e, opts.attempts, opts.signal);
      p.catch(() => undefined); // awaited in order below; a failure surfaces there
      inFlight.push(p);
    }
  };
  fill();
  while (inFlight.length) {
    const bytes = await inFlight.shift()!;
    fill();
    yield bytes;
  }
}

/** A key below the prefix as a safe relative path ('/'-separated, no '..', not absolute). */
function relativeKey(prefix: string, key: string): string {
  const rel = key.slice(prefix.length).replace(/^\/+/, '');
  const parts = rel.split('/');
  if (!rel || parts.some((p) => p === '..' || p === '.' || p === '') || rel.includes('\\'))
    throw new InputError(key, 'an object name that is not a safe relative path below the prefix');
  return rel;
}

const OBJECTS_AT_ONCE = 4;

export async function importFromObjectStorage(
  registry: Registry,
  conn: S3Connection,
  uri: string,
  opts: ObjectStorageImportOptions = {},
): Promise<VersionRecord> {
  const { bucket, prefix } = parseS3Uri(uri);
  const client = s3Client(conn);
  const staging = `${registry.store.tempPath()}-s3`;
  // The endpoint as recorded (source, object cache): without any user:password@ or signed query in it.
  const endpoint = conn.endpoint ? redactUrl(conn.endpoint) : undefined;
  try {
    const objects = await listObjects(client, bucket, prefix, opts.signal);
    if (objects.length === 0) throw new InputError(uri, 'no objects under this prefix');
    // A prefix naming one object imports that object; otherwise the objects below the "folder".
    const single = objects.length === 1 && objects[0].key === prefix;
    const base = single
      ? prefix.slice(0, prefix.lastIndexOf('/') + 1)
      : prefix.endsWith('/') || prefix === ''
        ? prefix
        : prefix + '/';
    const total = objects.reduce((s, o) => s + o.size, 0);
    let done = 0;
    const ropts = {
      partSize: opts.partSize ?? 16 << 20,
      parallel: opts.parallel ?? 4,
      attempts: opts.attempts ?? 4,
      signal: opts.signal,
    };
    // Every name checked before any byte is fetched.
    const rels = new Map(objects.map((o) => [o, relativeKey(base, o.key)]));
    const download = { objects: objects.length, reusedObjects: 0, bytesDownloaded: 0 };
    // Several objects at once (a model folder is often many small files); big ones also in parallel ranges.
    await forEachLimit(objects, OBJECTS_AT_ONCE, async (o) => {
      const rel = rels.get(o)!;
      const location = `${endpoint ?? 'aws'}|${bucket}|${o.key}`;
      opts.onProgress?.({ phase: 'downloading', bytesDone: done, bytesTotal: total, file: rel });
      // The same key with the same ETag and size holds what it held when we last fetched it.
      const known = o.etag ? await registry.knownRemoteObject({ location, etag: o.etag, size: o.size }) : undefined;
      let sha256 = known && (await registry.store.reuse(known)) ? known : undefined;
      if (sha256) {
        download.reusedObjects++;
        opts.onProgress?.({ phase: 'downloading', bytesDone: (done += o.size), bytesTotal: total, file: rel });
      } else {
        const stored = await registry.store.ingestStream(objectBytes(client, bucket, o, ropts), {
          signal: opts.signal,
          onBytes: (n) =>
            opts.onProgress?.({ phase: 'downloading', bytesDone: (done += n), bytesTotal: total, file: rel }),
        });
        if (stored.size !== o.size)
          throw new InputError(`s3://${bucket}/${o.key}`, `got ${stored.size} bytes, the listing says ${o.size}`);
        sha256 = stored.sha256;
        download.bytesDownloaded += stored.size;
        if (o.etag) await registry.rememberRemoteObject({ location, etag: o.etag, size: o.size }, sha256);
      }
      // Linked under its name for detection; the import then finds the object already stored.
      await registry.store.linkTo(sha256, path.join(staging, 'out', ...rel.split('/')));
    });
    const name = opts.model ?? defaultName(single ? prefix : base, bucket, single);
    const input = single ? path.join(staging, 'out', rels.get(objects[0])!) : path.join(staging, 'out');
    return await importTrainingOutput(registry, input, {
      model: name,
      signal: opts.signal,
      onProgress: opts.onProgress,
      source: { kind: 'object-storage', uri: `s3://${bucket}/${prefix}${endpoint ? ` (${endpoint})` : ''}` },
      details: { download },
    });
  } finally {
    client.destroy();
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/** The prefix's last segment (an object's name without its extension), or the bucket, as a model name. */
function defaultName(prefix: string, bucket: string, isObject: boolean): string {
  let last = prefix.replace(/\/+$/, '').split('/').pop() || bucket;
  if (isObject) last = last.replace(/\.[^.]+$/, '');
  return last.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'model';
}

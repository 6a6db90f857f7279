/**
 * Content-addressed objects in an S3 bucket (the team registry's store): key `objects/ab/cdef…` by
 * SHA-256, as in LocalStore. Puts are skipped when the object is already there (HEAD), big objects
 * go up as multipart uploads, and a download is checked against its name (the hash) on arrival.
 * A team registry keeps its objects here (registry/team.ts).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'crypto';
import { createReadStream } from 'fs';
import { readFile, stat } from 'fs/promises';
import { Readable } from 'stream';
import { CancelledError, InputError } from '../../errors';
import { s3Sdk, s3Storage } from '../../util/lazyModules';
import { s3Client, storageError } from './client';
import { S3Connection } from './connection';
import { listObjects } from './listing';
import { parseS3Uri } from './uri';

const SHA256 = /^[0-9a-f]{64}$/;
/** Objects from this size up go as multipart uploads of parts this big, several at once. */
const PART_SIZE = 8 << 20;

export class S3Store {
  /** What the last list() saw of each object: gc asks for ages and sizes without a HEAD each. */
  private readonly listed = new Map<string, { modifiedMs: number; size: number }>();

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    /** Key prefix inside the bucket, e.g. "team-registry/". */
    readonly prefix = '',
  ) {}

  /** The store at "s3://bucket/prefix" on a connection. */
  static open(uri: string, connection: S3Connection): S3Store {
    const { bucket, prefix } = parseS3Uri(uri);
    return new S3Store(s3Client(connection), bucket, prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix);
  }

  get location(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  close(): void {
    this.client.destroy();
  }

  key(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256 digest: ${sha256}`);
    return `${this.prefix}objects/${sha256.slice(0, 2)}/${sha256.slice(2)}`;
  }

  /** The object's address, for messages. */
  private where(sha256: string): string {
    return `s3://${this.bucket}/${this.key(sha256)}`;
  }

  async has(sha256: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.head(sha256, signal)) !== undefined;
  }

  async *list(): AsyncGenerator<string> {
    const prefix = `${this.prefix}objects/`;
    for (const o of await listObjects(this.client, this.bucket, prefix)) {
      const sha = o.key.slice(prefix.length).replace('/', '');
      if (!SHA256.test(sha)) continue;
      this.listed.set(sha, { modifiedMs: o.modifiedMs ?? Date.now(), size: o.size });
      yield sha;
    }
  }

  async modifiedMs(sha256: string): Promise<number | undefined> {
    return this.listed.get(sha256)?.modifiedMs ?? (await this.head(sha256))?.modifiedMs;
  }

  async remove(sha256: string): Promise<number> {
    const size = this.listed.get(sha256)?.size ?? (await this.head(sha256))?.size ?? 0;
    await this.client
      .send(new (s3Sdk().DeleteObjectCommand)({ Bucket: this.bucket, Key: this.key(sha256) }))
      .catch((e) => {
        throw storageError(this.where(sha256), e);
      });
    this.listed.delete(sha256);
    return size;
  }

  /** The object's age and size, or undefined when it is not there. */
  private async head(sha256: string, signal?: AbortSignal): Promise<{ modifiedMs: number; size: number } | undefined> {
    try {
      const r = await this.client.send(
        new (s3Sdk().HeadObjectCommand)({ Bucket: this.bucket, Key: this.key(sha256) }),
        { abortSignal: signal },
      );
      return { modifiedMs: r.LastModified?.getTime() ?? Date.now(), size: r.ContentLength ?? 0 };
    } catch (e) {
      if (
        e instanceof s3Sdk().NotFound ||
        (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      )
        return undefined;
      throw storageError(this.where(sha256), e);
    }
  }

  /** Uploads a local file as the object `sha256` unless it is there already; returns whether bytes were sent. */
  async put(
    sha256: string,
    file: string,
    opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
  ): Promise<boolean> {
    if (await this.has(sha256, opts.signal)) return false;
    const size = (await stat(file)).size;
    if (size < PART_SIZE) {
      // One request; the multipart machinery costs more than the bytes for the many small files of a model folder.
      const body = await readFile(file);
      await this.client
        .send(
          new (s3Sdk().PutObjectCommand)({
            Bucket: this.bucket,
            Key: this.key(sha256),
            Body: body,
            ContentLength: size,
          }),
          { abortSignal: opts.signal },
        )
        .catch((e) => {
          throw opts.signal?.aborted ? new CancelledError() : storageError(this.where(sha256), e);
        });
      opts.onBytes?.(size);
      return true;
    }
    const upload = new (s3Storage().Upload)({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.key(sha256), Body: createReadStream(file) },
      partSize: PART_SIZE,
      queueSize: 4,
      leavePartsOnError: false, // a failed multipart upload is aborted, so no half object stays
      abortController: opts.signal ? abortControllerFor(opts.signal) : undefined,
    });
    let last = 0;
    upload.on('httpUploadProgress', (p) => {
      if (p.loaded === undefined) return;
      opts.onBytes?.(p.loaded - last);
      last = p.loaded;
    });
    try {
      await upload.done();
    } catch (e) {
      if (opts.signal?.aborted) throw new CancelledError();
      throw storageError(this.where(sha256), e);
    }
    return true;
  }

  /**
   * The object's bytes, checked against its hash at the end (a corrupt or truncated download throws).
   * `verify: false` skips that when the consumer hashes the bytes anyway (pull into a LocalStore).
   */
  async *get(sha256: string, signal?: AbortSignal, verify = true): AsyncGenerator<Buffer> {
    const where = this.where(sha256);
    const hash = createHash('sha256');
    try {
      const r = await this.client.send(new (s3Sdk().GetObjectCommand)({ Bucket: this.bucket, Key: this.key(sha256) }), {
        abortSignal: signal,
      });
      for await (const chunk of r.Body as Readable) {
        if (verify) hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (e) {
      throw signal?.aborted ? new CancelledError() : storageError(where, e);
    }
    if (verify && hash.digest('hex') !== sha256)
      throw new InputError(where, 'the object does not match its SHA-256 (corrupt or altered in the bucket)');
  }
}

/** The SDK's Upload wants an AbortController; follow an AbortSignal with one. */
function abortControllerFor(signal: AbortSignal): AbortController {
  const c = new AbortController();
  if (signal.aborted) c.abort();
  else signal.addEventListener('abort', () => c.abort(), { once: true });
  return c;
}

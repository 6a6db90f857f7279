import { createHash, randomBytes } from 'crypto';
import { createReadStream, promises as fsp } from 'fs';
import * as path from 'path';
import { CancelledError, RegistryError } from '../errors';

export interface IngestResult {
  sha256: string;
  size: number;
  /** False when identical content was already stored (nothing was written). */
  written: boolean;
}

export interface IngestOptions {
  signal?: AbortSignal;
  /** Called with the number of bytes read since the last call. */
  onBytes?: (n: number) => void;
  /**
   * Hash the file before copying it. Worth it only when a stored object of the same size exists:
   * a duplicate then costs one read and no write; a new file would cost two reads.
   */
  hashFirst?: boolean;
}

const CHUNK = 1 << 20; // 1 MiB reads: SHA-256 in Node runs ~50% faster than with the default 64 KiB.
const SHA256 = /^[0-9a-f]{64}$/;
/** What tempPath() names (plus the suffixes callers add for work folders: -work, -eval, -s3…): gc removes nothing else. */
const TEMP_NAME = /^(\d+)-[0-9a-f]{12}(-[a-z0-9]+)?$/;
/** A note in the temp folder naming a temp file this process made outside the store (an export's partial tar). */
const OUTSIDE_NOTE = /-outside$/;
/**
 * Written beside the store's folders: the registry's id and the folders it made (or was given empty).
 * gc works only in those: a `tmp/` the user had there is never swept.
 */
export const OWNER_MARKER = '.modelreg-registry';

/** Which registry the store belongs to, so it uses only folders that registry made. */
export interface StoreOwner {
  /** The registry's id (from its database). */
  id: string;
  /** Take over existing objects/ and tmp/ without a marker: a registry made before markers existed. */
  adopt: boolean;
}

/** Content-addressed objects in a folder: objects/ab/cdef… named by SHA-256 of their bytes. */
export class LocalStore {
  private objects: string;
  private tmp: string;

  constructor(readonly root: string) {
    this.objects = path.join(root, 'objects');
    this.tmp = path.join(root, 'tmp');
  }

  get objectsDir(): string {
    return this.objects;
  }

  /** Where temp files go (tempPath), and what gc sweeps. */
  get tempDir(): string {
    return this.tmp;
  }

  /**
   * Creates (or finds) the objects and temp folders. With an owner, a folder counts as the store's only
   * when its marker names it, or it made it, or it is empty: a `tmp/` or `objects/` the user already
   * had in that place is left alone, and the store uses `tmp-<id>` / `objects-<id>` instead.
   */
  async init(owner?: StoreOwner): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
    if (!owner) {
      await fsp.mkdir(this.objects, { recursive: true });
      await fsp.mkdir(this.tmp, { recursive: true });
      return;
    }
    const markerFile = path.join(this.root, OWNER_MARKER);
    const marker = await fsp
      .readFile(markerFile, 'utf8')
      .then((t) => JSON.parse(t) as { registry?: unknown; objects?: unknown; tmp?: unknown })
      .catch(() => undefined);
    const mine = marker?.registry === owner.id ? marker : undefined;
    const claim = async (name: 'objects' | 'tmp'): Promise<string> => {
      const known = mine?.[name];
      if (typeof known === 'string' && (known === name || known === `${name}-${owner.id.slice(0, 8)}`)) {
        await fsp.mkdir(path.join(this.root, known), { recursive: true });
        return known;
      }
      return claimFolder(this.root, name, owner);
    };
    const objects = await claim('objects');
    const tmp = await claim('tmp');
    if (mine?.objects !== objects || mine?.tmp !== tmp)
      await fsp.writeFile(markerFile, JSON.stringify({ registry: owner.id, objects, tmp }) + '\n');
    this.objects = path.join(this.root, objects);
    this.tmp = path.join(this.root, tmp);
  }

  objectPath(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256 digest: ${sha256}`);
    return path.join(this.objectsDir, sha256.slice(0, 2), sha256.slice(2));
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await fsp.access(this.objectPath(sha256));
      return true;
    } catch {
      return false;
    }
  }

  /** True when the object is stored; refreshes its mtime, which tells a concurrent gc it is in use again. */
  async reuse(sha256: string): Promise<boolean> {
    const now = new Date();
    // Another user's object cannot be touched (EPERM) but is still there to reuse.
    return fsp.utimes(this.objectPath(sha256), now, now).then(
      () => true,
      () => this.has(sha256),
    );
  }

  /** Stores a file's content; reads the source once (twice only for hashFirst on a new file). */
  async ingestFile(src: string, opts: IngestOptions = {}): Promise<IngestResult> {
    if (opts.hashFirst) {
      const { sha256, size } = await hashFile(src, opts);
      if (await this.reuse(sha256)) return { sha256, size, written: false };
      return this.copyIn(src, { ...opts, onBytes: undefined }); // progress already counted these bytes
    }
    return this.copyIn(src, opts);
  }

  /** One pass: read, hash and write a temp file together; fsync; rename into place unless already stored. */
  private async copyIn(src: string, opts: IngestOptions): Promise<IngestResult> {
    const tmp = this.tempPath();
    try {
      const { sha256, size } = await copyHashing(src, tmp, opts);
      return await this.place(tmp, sha256, size);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
  }

  /** Stores bytes from a stream (an archive entry, a download), hashing them on the way. */
  async ingestStream(
    source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>,
    opts: Omit<IngestOptions, 'hashFirst'> = {},
  ): Promise<IngestResult> {
    const tmp = this.tempPath();
    try {
      const out = await fsp.open(tmp, 'wx');
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const chunk of source) {
          if (opts.signal?.aborted) throw new CancelledError();
          hash.update(chunk);
          await writeAll(out, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          size += chunk.byteLength;
          opts.onBytes?.(chunk.byteLength);
        }
        await out.sync();
      } finally {
        await out.close();
      }
      return await this.place(tmp, hash.digest('hex'), size);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw abortToCancel(e);
    }
  }

  /** Stores a file written at a tempPath() (a converter's output): hashes it and moves it into place, no copy. */
  async adoptTemp(tmp: string, opts: { signal?: AbortSignal } = {}): Promise<IngestResult> {
    try {
      const { sha256, size } = await hashFile(tmp, opts);
      return await this.place(tmp, sha256, size);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
  }

  /** A fresh path in the store's temp folder; gc removes it if its process dies. */
  tempPath(): string {
    return path.join(this.tmp, `${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /**
   * Notes a temp file this process makes outside the store (`<name>.<pid>.partial`), so gc can remove
   * it should the process die before it does. Returns the function that drops the note.
   */
  async noteOutsideTemp(file: string): Promise<() => Promise<void>> {
    const note = `${this.tempPath()}-outside`;
    await fsp.writeFile(note, path.resolve(file), { flag: 'wx' });
    return () => fsp.rm(note, { force: true });
  }

  /** Moves a finished temp file to its object path, or drops it when that content is already stored. */
  private async place(tmp: string, sha256: string, size: number): Promise<IngestResult> {
    if (await this.reuse(sha256)) {
      await fsp.rm(tmp, { force: true });
      return { sha256, size, written: false };
    }
    const dest = this.objectPath(sha256);
    const madeShard = await fsp.mkdir(path.dirname(dest), { recursive: true });
    await fsp.rename(tmp, dest);
    await fsp.chmod(dest, 0o444).catch(() => undefined); // objects are immutable
    // The rename is durable only once its folder is synced (and a new shard folder's parent): a
    // version row committed after a power loss must not point at an object that fell out of the folder.
    if (madeShard) await syncFolder(this.objects);
    await syncFolder(path.dirname(dest));
    return { sha256, size, written: true };
  }

  /** Every stored object's digest. */
  async *list(): AsyncGenerator<string> {
    let shards: string[];
    try {
      shards = await fsp.readdir(this.objectsDir);
    } catch {
      return;
    }
    for (const shard of shards.sort()) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const rest of (await fsp.readdir(path.join(this.objectsDir, shard))).sort()) {
        const sha = shard + rest;
        if (SHA256.test(sha)) yield sha;
      }
    }
  }

  /** Puts a stored object at `at` under its name (a hard link; a copy where links fail), for detection in a staging folder. */
  async linkTo(sha256: string, at: string): Promise<void> {
    await fsp.mkdir(path.dirname(at), { recursive: true });
    await fsp.link(this.objectPath(sha256), at).catch(() => fsp.copyFile(this.objectPath(sha256), at));
  }

  async modifiedMs(sha256: string): Promise<number | undefined> {
    return (await fsp.stat(this.objectPath(sha256)).catch(() => undefined))?.mtimeMs;
  }

  async remove(sha256: string): Promise<number> {
    const p = this.objectPath(sha256);
    const st = await fsp.stat(p).catch(() => undefined);
    await fsp.rm(p, { force: true });
    return st?.size ?? 0;
  }

  /**
   * Removes temp files left by processes that died (not by running ones: those belong to live pids),
   * and the partial files outside the store their notes name. Only names tempPath() makes are touched.
   */
  async removeStaleTemp(isAlive: (pid: number) => boolean): Promise<void> {
    for (const name of await fsp.readdir(this.tmp).catch(() => [] as string[])) {
      const m = TEMP_NAME.exec(name);
      if (!m || isAlive(Number(m[1]))) continue;
      const p = path.join(this.tmp, name);
      if (OUTSIDE_NOTE.test(name)) {
        const outside = await fsp.readFile(p, 'utf8').catch(() => '');
        // Only the file the note was written for: its name ends in that dead process's pid.
        if (path.isAbsolute(outside) && path.basename(outside).endsWith(`.${m[1]}.partial`))
          await fsp.rm(outside, { force: true, recursive: true });
      }
      await fsp.rm(p, { force: true, recursive: true }); // converters' work folders too
    }
  }
}

/** The name of the store's folder under root: `name` when it makes it now, finds it empty or adopts it; else `name-<id>`. */
async function claimFolder(root: string, name: string, owner: StoreOwner): Promise<string> {
  for (const candidate of [name, `${name}-${owner.id.slice(0, 8)}`]) {
    const dir = path.join(root, candidate);
    const made = await fsp.mkdir(dir).then(
      () => true,
      (e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? false : Promise.reject(e)),
    );
    if (made) return candidate;
    const st = await fsp.lstat(dir);
    if (st.isDirectory() && (owner.adopt || (await fsp.readdir(dir)).length === 0)) return candidate;
  }
  throw new RegistryError(
    `${path.join(root, name)}: this folder holds a ${name}/ of something else, and so does ${name}-${owner.id.slice(0, 8)}/; choose another registry folder`,
  );
}

/** True while a process with this pid runs on this machine (EPERM: it runs, as another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync of a folder, so that a rename into it survives a power loss (a no-op where folders cannot be opened, as on Windows). */
export async function syncFolder(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // some file systems refuse fsync on a folder (EINVAL); nothing more can be done there
  } finally {
    await fh.close();
  }
}

export async function hashFile(file: string, opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}) {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK, signal: opts.signal })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      opts.onBytes?.((chunk as Buffer).length);
    }
  } catch (e) {
    throw abortToCancel(e);
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * Copies src to dest, hashing the bytes on the way, and fsyncs dest. The next read and the previous
 * write run in the thread pool while the main thread hashes, so hashing, reading and writing overlap;
 * a small ring of reused buffers keeps memory flat (no per-chunk allocation) whatever the file size.
 */
async function copyHashing(src: string, dest: string, opts: IngestOptions): Promise<{ sha256: string; size: number }> {
  const RING = 4;
  const SIZE = 4 * CHUNK;
  const input = await fsp.open(src, 'r');
  let output: fsp.FileHandle | undefined;
  let writes: Promise<unknown> = Promise.resolve();
  let reading: Promise<{ bytesRead: number }> | undefined;
  try {
    output = await fsp.open(dest, 'wx');
    const out = output;
    const hash = createHash('sha256');
    const buffers = Array.from({ length: RING }, () => Buffer.allocUnsafe(SIZE));
    const lastWriteOf: Promise<unknown>[] = Array(RING).fill(Promise.resolve());
    let size = 0;
    reading = input.read(buffers[0], 0, SIZE, null);
    for (let i = 0; ; i++) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      if (opts.signal?.aborted) throw new CancelledError();
      const next = (i + 1) % RING;
      await lastWriteOf[next]; // that buffer must be written out before it is refilled
      reading = input.read(buffers[next], 0, SIZE, null);
      const chunk = buffers[i % RING].subarray(0, bytesRead);
      hash.update(chunk);
      writes = writes.then(() => writeAll(out, chunk));
      lastWriteOf[i % RING] = writes;
      size += bytesRead;
      opts.onBytes?.(bytesRead);
    }
    await writes;
    await out.sync(); // the object must be on disk before a version row can point at it
    return { sha256: hash.digest('hex'), size };
  } finally {
    // On an error or cancel, let in-flight reads and writes settle before closing their handles.
    await Promise.allSettled([reading, writes]);
    await input.close();
    await output?.close();
  }
}

async function writeAll(fh: fsp.FileHandle, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length;) off += (await fh.write(data, off, data.length - off)).bytesWritten;
}

function abortToCancel(e: unknown): unknown {
  return (e as Error)?.name === 'AbortError' ? new CancelledError() : e;
}

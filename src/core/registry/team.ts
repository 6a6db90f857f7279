/**
 * The team registry (metadata in PostgreSQL, objects in an S3 bucket) and copying versions between
 * it and a local registry: push and pull.
 *
 * A copy keeps everything that says what the version is (files by hash, provenance, facts, metric
 * series, tags, lineage) and gets the next number in the target, so two people pushing the same
 * model never collide. A version carries an `origin` (its identity across registries), so pushing
 * or pulling it again finds the copy instead of making another. Objects go first, then the version
 * is recorded in one transaction: a failure anywhere leaves no version on either side, and the retry
 * sends only the objects that are not there yet.
 */
import { createHash } from 'crypto';
import * as os from 'os';
import { CancelledError, RegistryError } from '../errors';
import { S3Connection } from '../store/s3/connection';
import { S3Store } from '../store/s3/s3Store';
import { ObjectStore } from '../store/types';
import { forEachLimit } from '../util/parallel';
import { Registry, SHARED_STORE_GRACE_MS } from './registry';
import { FileEntry, VersionRecord } from './types';

export type TeamRegistry = Registry<S3Store>;

/** Objects moved at the same time (each big one also goes up in parallel parts). */
const OBJECTS_AT_ONCE = 8;

export interface TeamConfig {
  /** postgres://user@host:port/database (password from the URL, PGPASSWORD or ~/.pgpass). */
  registry: string;
  /** The database password when not in the URL (the extension keeps it in SecretStorage). */
  password?: string;
  /** s3://bucket/prefix */
  store: string;
  connection: S3Connection;
  /** A local folder for the team registry's change stamp and logs. */
  workDir: string;
}

export async function openTeamRegistry(c: TeamConfig): Promise<TeamRegistry> {
  if (!/^postgres(ql)?:\/\//.test(c.registry))
    throw new RegistryError(`the team registry must be a postgres:// address, not '${c.registry}'`);
  const store = S3Store.open(c.store, c.connection);
  try {
    return await Registry.openTeam(c.registry, store, c.workDir, c.password);
  } catch (e) {
    store.close();
    throw e;
  }
}

export interface TransferProgress {
  phase: 'sending' | 'receiving' | 'recording';
  /** The version being copied (an ancestor comes before its child). */
  ref: string;
  bytes: number;
  totalBytes: number;
}

export interface TransferOptions {
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
}

export interface TransferResult {
  /** The copy of the version asked for, in the target registry. */
  version: VersionRecord;
  /** Versions recorded by this transfer (ancestors first); empty when all were there already. */
  copied: VersionRecord[];
  objectsSent: number;
  objectsSkipped: number;
  bytesSent: number;
}

/** Copies a local version (and the ancestors the team registry lacks) to the team registry. */
export function pushVersion(
  local: Registry,
  team: TeamRegistry,
  ref: string,
  opts: TransferOptions = {},
): Promise<TransferResult> {
  return copyVersion(
    local,
    team,
    ref,
    'sending',
    async (f, o) => team.store.put(f.sha256, local.store.objectPath(f.sha256), o),
    opts,
  );
}

/** Copies a team version (and the ancestors the local registry lacks) into the local registry. */
export function pullVersion(
  team: TeamRegistry,
  local: Registry,
  ref: string,
  opts: TransferOptions = {},
): Promise<TransferResult> {
  return copyVersion(
    team,
    local,
    ref,
    'receiving',
    async (f, o) => {
      if (await local.store.has(f.sha256)) return false;
      // The store hashes what arrives to name it; a mismatch is caught here (so get() need not hash too).
      const got = await local.store.ingestStream(team.store.get(f.sha256, o.signal, false), {
        signal: o.signal,
        onBytes: o.onBytes,
      });
      if (got.sha256 !== f.sha256)
        throw new RegistryError(
          `${f.path}: the team store sent bytes that do not match ${f.sha256} (corrupt or altered in the bucket)`,
        );
      return true;
    },
    opts,
  );
}

/** A version's identity across registries: the one it came with, or one made from what it is. */
export function originOf(v: VersionRecord, files: FileEntry[]): string {
  if (v.origin) return v.origin;
  const what = JSON.stringify([v.model, v.number, v.createdAt, files.map((f) => [f.path, f.sha256])]);
  return createHash('sha256').update(what).digest('hex');
}

type SendObject = (f: FileEntry, o: { signal?: AbortSignal; onBytes: (n: number) => void }) => Promise<boolean>;

async function copyVersion<A extends ObjectStore, B extends ObjectStore>(
  from: Registry<A>,
  to: Registry<B>,
  ref: string,
  phase: TransferProgress['phase'],
  send: SendObject,
  opts: TransferOptions,
): Promise<TransferResult> {
  const wanted = await from.resolve(ref);
  if (wanted.status !== 'ready')
    throw new RegistryError(`${wanted.ref} is still being imported; copy it once it is ready`);
  // The lineage back to its root (a deleted ancestor ends it), copied oldest first.
  const chain = [wanted];
  for (let p = wanted.parentId; p !== null && chain.length < 200;) {
    const parent = await from.getVersionById(p);
    if (!parent || parent.status !== 'ready' || (await from.isDeleted(parent.id))) break;
    chain.unshift(parent);
    p = parent.parentId;
  }
  const result: TransferResult = { version: wanted, copied: [], objectsSent: 0, objectsSkipped: 0, bytesSent: 0 };
  let parentInTarget: number | null = null;
  for (const v of chain) {
    if (opts.signal?.aborted) throw new CancelledError();
    const files = await from.files(v.id);
    const origin = originOf(v, files);
    let copy = await to.versionByOrigin(origin);
    if (copy && (await to.isDeleted(copy.id))) {
      throw new RegistryError(
        `${v.ref} was copied to ${to.location} as ${copy.ref}, which was deleted there: restore it there, or run gc there before copying it again`,
      );
    }
    if (!copy) {
      // Small objects first: a fault in the middle of a big one leaves the rest already there. Several
      // at a time: a folder of many small files is bound by round trips, not bytes.
      const unique = [...new Map(files.map((f) => [f.sha256, f])).values()].sort((a, b) => a.size - b.size);
      const totalBytes = unique.reduce((s, f) => s + f.size, 0);
      let bytes = 0;
      /** When this copy wrote each object it sent. */
      const sentAt = new Map<string, number>();
      opts.onProgress?.({ phase, ref: v.ref, bytes, totalBytes });
      await forEachLimit(unique, OBJECTS_AT_ONCE, async (f) => {
        if (opts.signal?.aborted) throw new CancelledError();
        let counted = 0;
        const sent = await send(f, {
          signal: opts.signal,
          onBytes: (n) => {
            counted += n;
            bytes += n;
            opts.onProgress?.({ phase, ref: v.ref, bytes, totalBytes });
          },
        }).catch((e) => {
          if (e instanceof CancelledError || opts.signal?.aborted) throw new CancelledError();
          throw new RegistryError(
            `copying ${v.ref} to ${to.location} stopped at ${f.path}: ${(e as Error).message}. Nothing was recorded; run it again to resume (objects already copied are kept).`,
          );
        });
        bytes += f.size - counted; // an object already there counts as done
        if (sent) {
          result.objectsSent++;
          result.bytesSent += f.size;
          sentAt.set(f.sha256, Date.now());
        } else result.objectsSkipped++;
      });
      opts.onProgress?.({ phase: 'recording', ref: v.ref, bytes, totalBytes });
      const copiedFrom = { registry: from.location, host: os.hostname(), ref: v.ref, at: new Date().toISOString() };
      // Recording checks that the objects are there (a gc may run meanwhile). In a bucket, gc spares what
      // is younger than its grace, so what this copy wrote lately needs no round trip; a folder is cheap to check.
      const fresh = (f: FileEntry) =>
        to.store instanceof S3Store && Date.now() - (sentAt.get(f.sha256) ?? -Infinity) < SHARED_STORE_GRACE_MS / 2;
      const check = files.filter((f) => !fresh(f));
      const added = await to.addCopy(v, {
        origin,
        files,
        metrics: await from.metricRows(v.id),
        parentId: parentInTarget,
        copiedFrom,
        check,
      });
      copy = added.version;
      if (!added.existed) result.copied.push(copy);
      // The source learns the identity too, so copying the copy back finds this version.
      await from.setOrigin(v.id, origin);
    }
    parentInTarget = copy.id;
    result.version = copy;
  }
  return result;
}

import { createReadStream, createWriteStream, promises as fsp } from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import { createGunzip, createGzip } from 'zlib';
import * as tar from 'tar-stream';
import { CancelledError, InputError, RegistryError } from '../errors';
import { MAX_POINTS_PER_LOG, MAX_SERIES_PER_LOG } from '../inspect/logs/common';
import { MetricLog } from '../inspect/types';
import { Registry } from '../registry/registry';
import { FileEntry, FileRole, VersionRecord } from '../registry/types';
import { isProcessAlive, syncFolder } from '../store/localStore';
import { MAX_JSON_DEPTH, parseJsonBounded } from '../util/json';
import { fileKind, openRegularFile, readRegularText } from '../util/readFile';

/**
 * A version as a portable archive: a folder or a tar (optionally gzipped) holding
 *   manifest.json  what the version is: provenance, signature, files with their SHA-256 (first entry)
 *   metrics.json   every metric series, as the logs it was read from
 *   files/<path>   the version's files
 * Import checks every name, type and hash and writes only into the store, so a hostile archive can
 * neither escape nor leave a half version behind.
 */
export const ARCHIVE_FORMAT = 'modelreg-archive';
export const ARCHIVE_FORMAT_VERSION = 1;

export interface ArchiveOptions {
  signal?: AbortSignal;
  /** Bytes of model files done so far and in all. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

const MANIFEST = 'manifest.json';
const METRICS = 'metrics.json';
const FILES = 'files/';
const MAX_MANIFEST = 16 << 20;
const MAX_METRICS = 512 << 20;
const ROLES: FileRole[] = ['weights', 'config', 'metrics', 'params', 'other'];
/**
 * The manifest holds values that were each read with MAX_JSON_DEPTH (details, signature, params) a
 * few levels down (manifest -> details -> the reader's own keys), so it allows those few levels more:
 * what an export wrote, an import reads back.
 */
const MANIFEST_DEPTH = MAX_JSON_DEPTH + 8;

const isTarName = (p: string) => /\.(tar|tar\.gz|tgz)$/i.test(p);
const isGzipName = (p: string) => /\.(tar\.gz|tgz)$/i.test(p);

/** Writes a version to `dest`: a .tar/.tar.gz/.tgz file, or else a new (or empty) folder. */
export async function exportVersion(
  registry: Registry,
  ref: string,
  dest: string,
  opts: ArchiveOptions = {},
): Promise<{ version: VersionRecord; dest: string; bytes: number }> {
  const version = await registry.resolve(ref);
  if (version.status !== 'ready')
    throw new RegistryError(`${version.ref} is ${version.status}; only ready versions can be exported`);
  const files = await registry.files(version.id);
  const parent = version.parentId === null ? undefined : await registry.getVersionById(version.parentId);
  const manifest = {
    format: ARCHIVE_FORMAT,
    formatVersion: ARCHIVE_FORMAT_VERSION,
    exportedAt: new Date().toISOString(),
    ref: version.ref,
    model: version.model,
    version: version.number,
    source: version.source,
    createdAt: version.createdAt,
    modelFormat: version.format,
    framework: version.framework,
    parameterCount: version.parameterCount,
    git: version.git,
    parent: parent ? { ref: parent.ref, kind: version.parentKind ?? 'parent' } : null,
    params: version.params,
    signature: version.signature,
    details: version.details,
    config: version.config,
    description: version.description,
    tags: version.tags,
    files,
  };
  const metrics = await metricLogs(registry, version.id);
  const total = files.reduce((s, f) => s + f.size, 0);
  const abs = path.resolve(dest);
  const progress = progressOf(total, opts);
  // Written beside dest as DEST.<pid>.partial and renamed when whole. One left by an export that was
  // killed goes now (and in gc, through the note the store keeps of it).
  await removeStalePartials(abs);
  const partial = `${abs}.${process.pid}.partial`;
  const forget = await registry.store.noteOutsideTemp(partial);
  try {
    if (isTarName(abs)) await writeTar(registry, abs, partial, manifest, metrics, files, opts, progress);
    else await writeFolder(registry, abs, partial, manifest, metrics, files, opts, progress);
  } finally {
    await forget();
  }
  return { version, dest: abs, bytes: total };
}

/** Removes DEST.<pid>.partial files and folders whose export process has died. */
async function removeStalePartials(dest: string): Promise<void> {
  const base = path.basename(dest);
  for (const name of await fsp.readdir(path.dirname(dest)).catch(() => [] as string[])) {
    if (!name.startsWith(`${base}.`) || !name.endsWith('.partial')) continue;
    const pid = name.slice(base.length + 1, -'.partial'.length);
    if (/^\d+$/.test(pid) && Number(pid) !== process.pid && !isProcessAlive(Number(pid)))
      await fsp.rm(path.join(path.dirname(dest), name), { recursive: true, force: true });
  }
}

/** Registers the version an archive (folder or tar) holds, as a new version of `model` (default: the archive's). */
export async function importArchive(
  registry: Registry,
  src: string,
  opts: ArchiveOptions & { model?: string } = {},
): Promise<VersionRecord> {
  const abs = path.resolve(src);
  // stat, not open: opening a FIFO for reading waits for a writer, for ever.
  const st = await fsp.stat(abs).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(abs, e.code === 'ENOENT' ? 'no such file or folder' : `cannot read (${e.code})`);
  });
  if (st.isDirectory()) return importFolder(registry, abs, opts);
  if (!st.isFile())
    throw new InputError(abs, `is ${fileKind(st)}, not an archive; give a .tar, .tar.gz or an exported folder`);
  return importTar(registry, abs, opts);
}

type Manifest = ReturnType<typeof parseManifest>;
type Progress = (n: number) => void;

function progressOf(total: number, opts: ArchiveOptions): Progress {
  let done = 0;
  opts.onProgress?.(0, total);
  return (n) => opts.onProgress?.((done += n), total);
}

function check(signal?: AbortSignal) {
  if (signal?.aborted) throw new CancelledError();
}

/** The stored series grouped back into the logs they came from, NaN as null (JSON has no NaN). */
async function metricLogs(registry: Registry, versionId: number): Promise<unknown[]> {
  const finals = await registry.finalMetrics(versionId);
  const logs = new Map<string, { source: string; series: unknown[]; best?: unknown }>();
  const nums = (a: Float64Array) => Array.from(a, (x) => (Number.isFinite(x) ? x : null));
  for (const s of await registry.allSeries(versionId)) {
    const log = logs.get(s.source) ?? { source: s.source, series: [] };
    logs.set(s.source, log);
    log.series.push({
      key: s.key,
      steps: nums(s.steps),
      values: nums(s.values),
      ...(s.wallTimes ? { wallTimes: nums(s.wallTimes) } : {}),
    });
    const best = finals.find((f) => f.key === s.key && f.isBest);
    if (best && best.value !== null)
      log.best = { key: best.key, value: best.value, ...(best.step !== null ? { step: best.step } : {}) };
  }
  return [...logs.values()];
}

async function writeTar(
  registry: Registry,
  dest: string,
  partial: string,
  manifest: object,
  metrics: unknown[],
  files: FileEntry[],
  opts: ArchiveOptions,
  progress: Progress,
) {
  const pack = tar.pack();
  const mtime = new Date();
  const addBuffer = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, size: data.length, mtime, mode: 0o644 }, data, (e) => (e ? reject(e) : resolve())),
    );
  const fill = async () => {
    check(opts.signal);
    await addBuffer(MANIFEST, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
    await addBuffer(METRICS, Buffer.from(JSON.stringify(metrics) + '\n'));
    for (const f of files) {
      check(opts.signal);
      const entry = pack.entry({ name: FILES + f.path, size: f.size, mtime, mode: 0o644 });
      const object = createReadStream(registry.store.objectPath(f.sha256), { highWaterMark: 1 << 20 });
      object.on('data', (chunk) => {
        progress(chunk.length);
        if (opts.signal?.aborted) object.destroy(new CancelledError());
      });
      await pipeline(object, entry);
    }
    pack.finalize();
  };
  try {
    const file = createWriteStream(partial, { flags: 'wx' });
    const writing = isGzipName(dest) ? pipeline(pack, createGzip({ level: 1 }), file) : pipeline(pack, file);
    await Promise.all([fill().catch((e) => (pack.destroy(e), Promise.reject(e))), writing]);
    // On disk before it takes its name, and the name on disk after: a power loss leaves the old state or the whole tar.
    const written = await fsp.open(partial, 'r+');
    try {
      await written.sync();
    } finally {
      await written.close();
    }
    await fsp.rename(partial, dest);
    await syncFolder(path.dirname(dest));
  } catch (e) {
    await fsp.rm(partial, { force: true });
    throw e;
  }
}

async function writeFolder(
  registry: Registry,
  dest: string,
  partial: string,
  manifest: object,
  metrics: unknown[],
  files: FileEntry[],
  opts: ArchiveOptions,
  progress: Progress,
) {
  const existing = await fsp
    .readdir(dest)
    .catch((e: NodeJS.ErrnoException) =>
      e.code === 'ENOENT' ? undefined : Promise.reject(new InputError(dest, `cannot write (${e.code})`)),
    );
  if (existing && existing.length)
    throw new InputError(dest, 'the folder is not empty; export into a new or empty folder, or name a .tar file');
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  // Filled as DEST.<pid>.partial and renamed when whole, as a tar is.
  await fsp.mkdir(partial);
  try {
    for (const f of files) {
      check(opts.signal);
      const target = path.join(partial, 'files', ...f.path.split('/'));
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await fsp.copyFile(registry.store.objectPath(f.sha256), target);
      await fsp.chmod(target, 0o644); // objects are read-only; the exported copy is the user's
      progress(f.size);
    }
    await fsp.writeFile(path.join(partial, METRICS), JSON.stringify(metrics) + '\n');
    await fsp.writeFile(path.join(partial, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    if (existing) await fsp.rmdir(dest); // empty: the whole export takes its place
    await fsp.rename(partial, dest);
  } catch (e) {
    await fsp.rm(partial, { recursive: true, force: true });
    throw e;
  }
}

/** A path inside the archive, '/'-separated: no absolute paths, drive letters, backslashes or '..'. */
function safeRelative(name: string): string | undefined {
  if (!name || name.includes('\0') || name.includes('\\') || name.startsWith('/') || /^[A-Za-z]:/.test(name))
    return undefined;
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return undefined;
  return parts.join('/');
}

function parseManifest(text: string, where: string) {
  // Bounded: a manifest nested 100k deep parses, but storing it (JSON.stringify) overflows the stack.
  const m = parseJsonBounded(text, where, { what: MANIFEST, maxDepth: MANIFEST_DEPTH }) as Record<string, unknown>;
  const bad = (problem: string) => new InputError(where, `manifest.json: ${problem}`);
  if (!m || typeof m !== 'object' || m.format !== ARCHIVE_FORMAT)
    throw bad(`not a Model Registry archive (format is not "${ARCHIVE_FORMAT}")`);
  if (m.formatVersion !== ARCHIVE_FORMAT_VERSION)
    throw bad(
      `format version ${String(m.formatVersion)} is not supported (this build reads ${ARCHIVE_FORMAT_VERSION})`,
    );
  if (typeof m.model !== 'string' || !m.model) throw bad('"model" must be a name');
  if (!Array.isArray(m.files)) throw bad('"files" must be a list');
  const files: FileEntry[] = [];
  const seen = new Set<string>();
  for (const [i, f] of (m.files as Record<string, unknown>[]).entries()) {
    const p = typeof f?.path === 'string' ? safeRelative(f.path) : undefined;
    if (!p) throw bad(`files[${i}].path ${JSON.stringify(f?.path)} is not a safe relative path`);
    if (seen.has(p)) throw bad(`files[${i}]: '${p}' is listed twice`);
    seen.add(p);
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))
      throw bad(`files[${i}] ('${p}'): sha256 must be 64 hex digits`);
    if (typeof f.size !== 'number' || !Number.isSafeInteger(f.size) || f.size < 0)
      throw bad(`files[${i}] ('${p}'): size must be a byte count`);
    const role = ROLES.includes(f.role as FileRole) ? (f.role as FileRole) : 'other';
    files.push({ path: p, sha256: f.sha256, size: f.size, role });
  }
  const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    ref: str(m.ref) ?? m.model,
    model: m.model,
    exportedAt: str(m.exportedAt),
    source: obj(m.source),
    format: str(m.modelFormat),
    framework: str(m.framework),
    parameterCount: typeof m.parameterCount === 'number' ? m.parameterCount : null,
    git:
      m.git && typeof m.git === 'object' && typeof (m.git as { commit?: unknown }).commit === 'string'
        ? (m.git as VersionRecord['git'])
        : null,
    parent: m.parent && typeof m.parent === 'object' ? m.parent : null,
    params: obj(m.params),
    signature: obj(m.signature) as VersionRecord['signature'],
    details: obj(m.details),
    config:
      m.config && typeof (m.config as { text?: unknown }).text === 'string'
        ? (m.config as VersionRecord['config'])
        : null,
    description: str(m.description) ?? '',
    tags: Array.isArray(m.tags) ? m.tags.filter((t): t is string => typeof t === 'string') : [],
    files,
  };
}

function parseMetrics(text: string, where: string): MetricLog[] {
  const bad = (problem: string) => new InputError(where, `metrics.json: ${problem}`);
  const logs = parseJsonBounded(text, where, { what: METRICS });
  if (!Array.isArray(logs)) throw bad('must be a list of logs');
  const nums = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v) || v.some((x) => x !== null && typeof x !== 'number'))
      throw bad(`${what} must be a list of numbers`);
    return v.map((x) => (x === null ? NaN : x));
  };
  return logs.map((l: Record<string, unknown>, i) => {
    if (typeof l?.source !== 'string' || !Array.isArray(l.series)) throw bad(`log ${i} needs "source" and "series"`);
    // The bounds the log readers apply, checked before anything is converted (or stored: a row per series).
    if (l.series.length > MAX_SERIES_PER_LOG)
      throw bad(
        `log ${i} has ${l.series.length} metric series, more than ${MAX_SERIES_PER_LOG} (limit per log); not read`,
      );
    const points = (l.series as { steps?: unknown }[]).reduce(
      (n, s) => n + (Array.isArray(s?.steps) ? s.steps.length : 0),
      0,
    );
    if (points > MAX_POINTS_PER_LOG)
      throw bad(`log ${i} has ${points} points, more than ${MAX_POINTS_PER_LOG} (limit per log); not read`);
    const series = (l.series as Record<string, unknown>[]).map((s, j) => {
      const what = `log ${i} series ${j}`;
      if (typeof s?.key !== 'string') throw bad(`${what} needs a "key"`);
      const steps = nums(s.steps, `${what} steps`);
      const values = nums(s.values, `${what} values`);
      const wallTimes = s.wallTimes === undefined ? undefined : nums(s.wallTimes, `${what} wallTimes`);
      if (values.length !== steps.length || (wallTimes && wallTimes.length !== steps.length))
        throw bad(`${what}: steps, values and wallTimes differ in length`);
      return { key: s.key, steps, values, ...(wallTimes ? { wallTimes } : {}) };
    });
    const best = l.best as MetricLog['best'];
    return {
      source: l.source,
      series,
      ...(best && typeof best.key === 'string' && typeof best.value === 'number' ? { best } : {}),
    };
  });
}

/** What an import has gathered; registers it once every listed file is in and verified. */
class Receiver {
  readonly got = new Map<string, FileEntry>();
  metrics: MetricLog[] = [];
  private id?: number;
  private readonly expected: Map<string, FileEntry>;
  private readonly progress: Progress;

  constructor(
    private readonly registry: Registry,
    private readonly src: string,
    readonly manifest: Manifest,
    private readonly opts: ArchiveOptions & { model?: string },
  ) {
    this.expected = new Map(manifest.files.map((f) => [f.path, f]));
    this.progress = progressOf(
      manifest.files.reduce((s, f) => s + f.size, 0),
      opts,
    );
  }

  async begin(): Promise<void> {
    this.id = (
      await this.registry.beginVersion(this.opts.model ?? this.manifest.model, { kind: 'archive', uri: this.src })
    ).id;
  }

  /** The manifest entry for a file of the archive; refuses unlisted, duplicate and wrong-size files. */
  expect(rel: string, size: number | undefined): FileEntry {
    const f = this.expected.get(rel);
    if (!f) throw new InputError(this.src, `'${FILES}${rel}' is not listed in manifest.json`);
    if (this.got.has(rel)) throw new InputError(this.src, `'${FILES}${rel}' appears twice`);
    if (size !== undefined && size !== f.size)
      throw new InputError(this.src, `'${FILES}${rel}' has ${size} bytes; manifest.json says ${f.size}`);
    return f;
  }

  async receive(rel: string, bytes: AsyncIterable<Buffer>): Promise<void> {
    const f = this.expect(rel, undefined);
    const r = await this.registry.store.ingestStream(bytes, { signal: this.opts.signal, onBytes: this.progress });
    if (r.sha256 !== f.sha256 || r.size !== f.size)
      throw new InputError(
        this.src,
        `'${FILES}${rel}' does not match its SHA-256 in manifest.json (corrupt or altered)`,
      );
    this.got.set(rel, f);
  }

  async finish(): Promise<VersionRecord> {
    const missing = this.manifest.files.filter((f) => !this.got.has(f.path));
    if (missing.length)
      throw new InputError(
        this.src,
        `missing ${missing.length} file(s) listed in manifest.json: ${missing
          .slice(0, 3)
          .map((f) => f.path)
          .join(', ')}${missing.length > 3 ? ', …' : ''}`,
      );
    const m = this.manifest;
    return this.registry.completeVersion(this.id!, {
      files: m.files,
      metrics: this.metrics,
      format: m.format,
      framework: m.framework,
      parameterCount: m.parameterCount,
      git: m.git,
      params: m.params,
      signature: m.signature,
      // Where it came from; the parent is recorded by reference only (it may live in another registry).
      details: { ...m.details, archive: { from: m.ref, exportedAt: m.exportedAt, source: m.source, parent: m.parent } },
      config: m.config,
      description: m.description,
      tags: m.tags,
    });
  }

  async abandon(): Promise<void> {
    if (this.id !== undefined) await this.registry.abandonVersion(this.id);
  }
}

async function readCapped(stream: AsyncIterable<Buffer>, cap: number, what: string, where: string): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    if ((n += c.length) > cap) throw new InputError(where, `${what} is larger than ${cap >> 20} MiB`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function importTar(
  registry: Registry,
  src: string,
  opts: ArchiveOptions & { model?: string },
): Promise<VersionRecord> {
  const { fh: fd } = await openRegularFile(src); // checked on the open file: one swapped in after the stat cannot block
  const magic = Buffer.alloc(2);
  await fd.read(magic, 0, 2, 0);
  const extract = tar.extract();
  const input = fd.createReadStream({ start: 0 }); // closes fd when done
  const feeding = (
    magic[0] === 0x1f && magic[1] === 0x8b ? pipeline(input, createGunzip(), extract) : pipeline(input, extract)
  ).catch((e: Error) => {
    extract.destroy(e);
  });
  let receiver: Receiver | undefined;
  const seen = new Set<string>();
  // Only what the tar (or gzip) reader throws is "not a readable tar archive"; errors of our own
  // checks, of the store or of the registry go out as they are.
  const entries = tarErrors(extract, src);
  try {
    for await (const tarEntry of entries) {
      const entry = tarErrors(tarEntry as AsyncIterable<Buffer>, src);
      const h = tarEntry.header;
      check(opts.signal);
      const name = safeRelative(h.name);
      if (!name) throw new InputError(src, `entry '${h.name}' has an unsafe path (absolute, '..' or backslash)`);
      if (h.type === 'directory') {
        tarEntry.resume();
        continue;
      }
      if (h.type !== 'file' && h.type !== 'contiguous-file')
        throw new InputError(
          src,
          `entry '${h.name}' is a ${h.type}${h.linkname ? ` to '${h.linkname}'` : ''}; archives may hold only regular files`,
        );
      if (seen.has(name)) throw new InputError(src, `entry '${name}' appears twice`);
      seen.add(name);
      if (!receiver) {
        if (name !== MANIFEST)
          throw new InputError(
            src,
            `the first entry must be manifest.json, not '${name}' (is this a Model Registry archive?)`,
          );
        receiver = new Receiver(
          registry,
          src,
          parseManifest(await readCapped(entry, MAX_MANIFEST, MANIFEST, src), src),
          opts,
        );
        await receiver.begin();
      } else if (name === METRICS) {
        receiver.metrics = parseMetrics(await readCapped(entry, MAX_METRICS, METRICS, src), src);
      } else if (name.startsWith(FILES)) {
        const rel = name.slice(FILES.length);
        receiver.expect(rel, h.size);
        await receiver.receive(rel, entry);
      } else {
        throw new InputError(
          src,
          `unexpected entry '${name}' (an archive holds manifest.json, metrics.json and files/)`,
        );
      }
    }
    await feeding;
    if (!receiver) throw new InputError(src, 'the archive is empty');
    return await receiver.finish();
  } catch (e) {
    input.destroy();
    await receiver?.abandon();
    throw e;
  }
}

/** Iterates a tar-stream iterable, turning what its reader throws into "not a readable tar archive". */
async function* tarErrors<T>(items: AsyncIterable<T>, src: string): AsyncGenerator<T> {
  const it = items[Symbol.asyncIterator]();
  try {
    for (;;) {
      let r: IteratorResult<T>;
      try {
        r = await it.next();
      } catch (e) {
        if (e instanceof InputError || e instanceof CancelledError || e instanceof RegistryError) throw e;
        throw new InputError(src, `not a readable tar archive (${(e as Error).message})`);
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

async function importFolder(
  registry: Registry,
  src: string,
  opts: ArchiveOptions & { model?: string },
): Promise<VersionRecord> {
  // Regular files only (a FIFO would block the read for ever), checked on the open file.
  const exists = (name: string) =>
    fsp.lstat(path.join(src, name)).then(
      () => true,
      () => false,
    );
  if (!(await exists(MANIFEST)))
    throw new InputError(src, 'no manifest.json: not an exported version (or its export did not finish)');
  const text = await readRegularText(path.join(src, MANIFEST), { maxBytes: MAX_MANIFEST });
  const receiver = new Receiver(registry, src, parseManifest(text, src), opts);
  const metricsText = (await exists(METRICS))
    ? await readRegularText(path.join(src, METRICS), { maxBytes: MAX_METRICS })
    : undefined;
  if (metricsText !== undefined) receiver.metrics = parseMetrics(metricsText, src);
  // Every file under files/ must be a listed regular file: no symlinks out, nothing unlisted.
  const root = path.join(src, 'files');
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const d of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const rel = prefix + d.name;
      if (d.isDirectory()) await walk(path.join(dir, d.name), rel + '/');
      else if (!d.isFile())
        throw new InputError(path.join(dir, d.name), 'not a regular file (symlinks and devices are refused)');
      else receiver.expect(rel, (await fsp.stat(path.join(dir, d.name))).size);
    }
  };
  await walk(root, '');
  await receiver.begin();
  try {
    for (const f of receiver.manifest.files) {
      check(opts.signal);
      const file = path.join(root, ...f.path.split('/'));
      const st = await fsp.lstat(file).catch(() => undefined);
      if (!st?.isFile()) throw new InputError(src, `'${FILES}${f.path}' is listed in manifest.json but missing`);
      await receiver.receive(f.path, createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>);
    }
    return await receiver.finish();
  } catch (e) {
    await receiver.abandon();
    throw e;
  }
}

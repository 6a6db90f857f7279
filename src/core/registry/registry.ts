import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CancelledError, RegistryError } from '../errors';
import { GitProvenance } from '../git/provenance';
import { MetricLog } from '../inspect/types';
import { hashFile, LocalStore } from '../store/localStore';
import { SqlDb, SqliteDb } from './db';
import { migrate } from './migrations';
import { FileEntry, FinalMetric, ModelConfig, ModelSummary, Signature, StoredSeries, VersionRecord, VersionSource } from './types';

/** Everything a finished import knows about a version, committed in one transaction. */
export interface VersionContent {
  files: FileEntry[];
  metrics: MetricLog[];
  format: string | null;
  framework: string | null;
  parameterCount: number | null;
  git: GitProvenance | null;
  params: Record<string, unknown>;
  signature: Signature;
  details: Record<string, unknown>;
  /** The version's config.json and its template, when it was imported with one. */
  config?: ModelConfig | null;
  description?: string;
  tags?: string[];
}

export interface VerifyProblem {
  sha256: string;
  problem: 'missing' | 'corrupt';
  /** Versions and paths that reference the object, as "model@vN:path". */
  usedBy: string[];
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A registry: metadata in SQL, file contents in a content-addressed store. The folder layout is
 * `<dir>/registry.db` and `<dir>/objects/`. Every write ends by touching `<dir>/last-change` so that
 * other processes (the extension watching a registry the CLI changed) can refresh.
 */
export class Registry {
  private constructor(
    readonly dir: string,
    readonly db: SqlDb,
    readonly store: LocalStore,
  ) {}

  static async open(dir: string): Promise<Registry> {
    await fsp.mkdir(dir, { recursive: true });
    const store = new LocalStore(dir);
    await store.init();
    const db = await SqliteDb.open(path.join(dir, 'registry.db'));
    try {
      await migrate(db);
    } catch (e) {
      await db.close();
      throw e;
    }
    return new Registry(dir, db, store);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  get changeStamp(): string {
    return path.join(this.dir, 'last-change');
  }

  private async touch(): Promise<void> {
    await fsp.writeFile(this.changeStamp, new Date().toISOString());
  }

  // ---- models ----

  async listModels(): Promise<ModelSummary[]> {
    const rows = await this.db.all<ModelRow>(
      `SELECT m.*, COUNT(v.id) AS version_count, MAX(v.number) AS latest_version,
              (SELECT group_concat(tag, char(31)) FROM model_tags t WHERE t.model_id = m.id) AS tags
         FROM models m LEFT JOIN versions v ON v.model_id = m.id
        GROUP BY m.id ORDER BY m.name`,
    );
    return rows.map(toModel);
  }

  async getModel(name: string): Promise<ModelSummary | undefined> {
    const row = await this.db.get<ModelRow>(
      `SELECT m.*, (SELECT COUNT(*) FROM versions v WHERE v.model_id = m.id) AS version_count,
              (SELECT MAX(number) FROM versions v WHERE v.model_id = m.id) AS latest_version,
              (SELECT group_concat(tag, char(31)) FROM model_tags t WHERE t.model_id = m.id) AS tags
         FROM models m WHERE m.name = ?`,
      [name],
    );
    return row && toModel(row);
  }

  // ---- versions ----

  async listVersions(model: string): Promise<VersionRecord[]> {
    const rows = await this.db.all<VersionRow>(`${VERSION_SELECT} WHERE m.name = ? ORDER BY v.number DESC`, [model]);
    return rows.map(toVersion);
  }

  async getVersionById(id: number): Promise<VersionRecord | undefined> {
    const row = await this.db.get<VersionRow>(`${VERSION_SELECT} WHERE v.id = ?`, [id]);
    return row && toVersion(row);
  }

  /** Resolves "name@v3", "name@3" or "name" (its latest ready version). */
  async resolve(ref: string): Promise<VersionRecord> {
    const { model, number } = parseRef(ref);
    const row =
      number === undefined
        ? await this.db.get<VersionRow>(`${VERSION_SELECT} WHERE m.name = ? AND v.status = 'ready' ORDER BY v.number DESC LIMIT 1`, [model])
        : await this.db.get<VersionRow>(`${VERSION_SELECT} WHERE m.name = ? AND v.number = ?`, [model, number]);
    if (!row) {
      if (!(await this.getModel(model))) throw new RegistryError(`no model named '${model}' in the registry at ${this.dir}`);
      throw new RegistryError(number === undefined ? `model '${model}' has no ready version` : `model '${model}' has no version v${number}`);
    }
    return toVersion(row);
  }

  async files(versionId: number): Promise<FileEntry[]> {
    return this.db.all<FileEntry>('SELECT path, sha256, size, role FROM files WHERE version_id = ? ORDER BY path', [versionId]);
  }

  async finalMetrics(versionId: number): Promise<FinalMetric[]> {
    const rows = await this.db.all<MetricRow>(
      `SELECT key, source, point_count, final_value, final_step, final_is_best FROM metrics WHERE version_id = ? ORDER BY key`,
      [versionId],
    );
    return rows.map((r) => ({
      key: r.key,
      source: r.source,
      value: r.final_value,
      step: r.final_step,
      isBest: r.final_is_best === 1,
      pointCount: r.point_count,
    }));
  }

  async metricSeries(versionId: number, key: string): Promise<StoredSeries | undefined> {
    const r = await this.db.get<{ key: string; source: string; step_data: Buffer; value_data: Buffer; wall_time_data: Buffer | null }>(
      'SELECT key, source, step_data, value_data, wall_time_data FROM metrics WHERE version_id = ? AND key = ?',
      [versionId, key],
    );
    return r && toSeries(r);
  }

  /** Every metric series of a version, read in one query (series are stored packed, one row each). */
  async allSeries(versionId: number): Promise<StoredSeries[]> {
    const rows = await this.db.all<{ key: string; source: string; step_data: Buffer; value_data: Buffer; wall_time_data: Buffer | null }>(
      'SELECT key, source, step_data, value_data, wall_time_data FROM metrics WHERE version_id = ? ORDER BY key',
      [versionId],
    );
    return rows.map(toSeries);
  }

  /**
   * Reserves the next version number of a model (creating the model) as an `importing` row, so the
   * tree can show it while files are copied. Another process gets the next number, never the same.
   */
  async beginVersion(modelName: string, source: VersionSource): Promise<{ id: number; number: number }> {
    if (!MODEL_NAME.test(modelName)) {
      throw new RegistryError(`invalid model name '${modelName}': use letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit`);
    }
    const now = new Date().toISOString();
    const result = await this.db.transaction(async (tx) => {
      await tx.run('INSERT INTO models (name, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [modelName, now, now]);
      const model = await tx.get<{ id: number }>('SELECT id FROM models WHERE name = ?', [modelName]);
      const next = await tx.get<{ n: number }>('SELECT COALESCE(MAX(number), 0) + 1 AS n FROM versions WHERE model_id = ?', [model!.id]);
      const { lastId } = await tx.run(
        `INSERT INTO versions (model_id, number, status, source_kind, source_uri, created_at, importer_pid, importer_host)
         VALUES (?, ?, 'importing', ?, ?, ?, ?, ?)`,
        [model!.id, next!.n, source.kind, source.uri, now, process.pid, os.hostname()],
      );
      return { id: lastId, number: next!.n };
    });
    await this.touch();
    return result;
  }

  /** Turns an importing version into a ready one with its files, metrics and facts, all at once. */
  async completeVersion(id: number, c: VersionContent): Promise<VersionRecord> {
    for (const f of c.files) {
      if (!(await this.store.has(f.sha256))) throw new RegistryError(`object ${f.sha256} for ${f.path} is not in the store`);
    }
    await this.db.transaction(async (tx) => {
      const v = await tx.get<{ status: string; model_id: number }>('SELECT status, model_id FROM versions WHERE id = ?', [id]);
      if (!v || v.status !== 'importing') throw new RegistryError(`version ${id} is not being imported (it was deleted meanwhile?)`);
      await insertFiles(tx, id, c.files);
      await insertMetrics(tx, id, c.metrics);
      const g = c.git;
      await tx.run(
        `UPDATE versions SET status = 'ready', format = ?, framework = ?, size_bytes = ?, file_count = ?, parameter_count = ?,
                git_commit = ?, git_branch = ?, git_dirty = ?, git_remote = ?, git_subject = ?, git_author = ?, git_date = ?, git_root = ?,
                params = ?, signature = ?, details = ?, config = ?, template_id = ?, description = ?,
                importer_pid = NULL, importer_host = NULL
          WHERE id = ?`,
        [
          c.format,
          c.framework,
          c.files.reduce((s, f) => s + f.size, 0),
          c.files.length,
          c.parameterCount,
          g?.commit ?? null,
          g?.branch ?? null,
          g ? (g.dirty ? 1 : 0) : null,
          g?.remote ?? null,
          g?.subject ?? null,
          g?.author ?? null,
          g?.date ?? null,
          g?.root ?? null,
          JSON.stringify(c.params),
          JSON.stringify(c.signature),
          JSON.stringify(c.details),
          c.config?.text ?? null,
          c.config?.templateId ?? null,
          c.description ?? '',
          id,
        ],
      );
      for (const tag of new Set(c.tags ?? [])) await tx.run('INSERT INTO version_tags (version_id, tag) VALUES (?, ?)', [id, tag]);
      await tx.run('UPDATE models SET updated_at = ? WHERE id = ?', [new Date().toISOString(), v.model_id]);
    });
    await this.touch();
    return (await this.getVersionById(id))!;
  }

  /** Drops an unfinished version (failed or cancelled import); a model left without versions goes too. */
  async abandonVersion(id: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const v = await tx.get<{ model_id: number }>("SELECT model_id FROM versions WHERE id = ? AND status <> 'ready'", [id]);
      if (!v) return;
      await tx.run('DELETE FROM versions WHERE id = ?', [id]);
      await tx.run('DELETE FROM models WHERE id = ? AND NOT EXISTS (SELECT 1 FROM versions WHERE model_id = ?)', [v.model_id, v.model_id]);
    });
    await this.touch();
  }

  /** Deletes a version's metadata; its objects stay until `gc` (so an undo is possible until then). */
  async deleteVersion(ref: string): Promise<VersionRecord> {
    const v = await this.resolve(ref);
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM versions WHERE id = ?', [v.id]);
      await tx.run('DELETE FROM models WHERE id = ? AND NOT EXISTS (SELECT 1 FROM versions WHERE model_id = ?)', [v.modelId, v.modelId]);
    });
    await this.touch();
    return v;
  }

  /** True when some stored file has this size: a new file of that size may well be a duplicate. */
  async hasObjectOfSize(size: number): Promise<boolean> {
    return !!(await this.db.get('SELECT 1 FROM files WHERE size = ? LIMIT 1', [size]));
  }

  // ---- maintenance ----

  /**
   * Removes versions left `importing` by processes that died, then every object no version refers
   * to. Imports running right now are safe: their rows are kept and their objects are referenced
   * only after commit, so gc skips objects newer than the oldest live import.
   */
  async gc(): Promise<{ removedObjects: number; removedBytes: number; removedVersions: number }> {
    const host = os.hostname();
    const importing = await this.db.all<{ id: number; importer_pid: number | null; importer_host: string | null; created_at: string }>(
      "SELECT id, importer_pid, importer_host, created_at FROM versions WHERE status <> 'ready'",
    );
    let removedVersions = 0;
    let liveSince: number | undefined;
    for (const v of importing) {
      const alive = v.importer_host === host && v.importer_pid !== null && isAlive(v.importer_pid);
      if (alive || v.importer_host !== host) {
        // A live import (or one on another machine sharing this folder): keep it and its fresh objects.
        const t = Date.parse(v.created_at);
        liveSince = liveSince === undefined ? t : Math.min(liveSince, t);
      } else {
        await this.abandonVersion(v.id);
        removedVersions++;
      }
    }
    await this.store.removeStaleTemp(isAlive);
    const referenced = new Set((await this.db.all<{ sha256: string }>('SELECT DISTINCT sha256 FROM files')).map((r) => r.sha256));
    let removedObjects = 0;
    let removedBytes = 0;
    for await (const sha of this.store.list()) {
      if (referenced.has(sha)) continue;
      if (liveSince !== undefined) {
        const st = await fsp.stat(this.store.objectPath(sha)).catch(() => undefined);
        if (st && st.mtimeMs >= liveSince - 1000) continue;
      }
      removedBytes += await this.store.remove(sha);
      removedObjects++;
    }
    if (removedVersions || removedObjects) await this.touch();
    return { removedObjects, removedBytes, removedVersions };
  }

  /** Re-hashes every referenced object and reports the missing and the corrupt ones. */
  async verify(opts: { signal?: AbortSignal; onObject?: (done: number, total: number) => void } = {}): Promise<{ checked: number; problems: VerifyProblem[] }> {
    const rows = await this.db.all<{ sha256: string; size: number; model: string; number: number; path: string }>(
      `SELECT f.sha256, f.size, m.name AS model, v.number, f.path
         FROM files f JOIN versions v ON v.id = f.version_id JOIN models m ON m.id = v.model_id ORDER BY f.sha256`,
    );
    const users = new Map<string, string[]>();
    for (const r of rows) {
      const list = users.get(r.sha256) ?? [];
      list.push(`${r.model}@v${r.number}:${r.path}`);
      users.set(r.sha256, list);
    }
    const problems: VerifyProblem[] = [];
    let done = 0;
    for (const [sha, usedBy] of users) {
      if (opts.signal?.aborted) throw new CancelledError();
      const p = this.store.objectPath(sha);
      const exists = await fsp.stat(p).then(() => true, () => false);
      if (!exists) problems.push({ sha256: sha, problem: 'missing', usedBy });
      else if ((await hashFile(p, { signal: opts.signal })).sha256 !== sha) problems.push({ sha256: sha, problem: 'corrupt', usedBy });
      opts.onObject?.(++done, users.size);
    }
    return { checked: users.size, problems };
  }
}

export function parseRef(ref: string): { model: string; number?: number } {
  const at = ref.lastIndexOf('@');
  if (at < 0) return { model: ref };
  const model = ref.slice(0, at);
  const m = /^v?(\d+)$/.exec(ref.slice(at + 1));
  if (!model || !m) throw new RegistryError(`cannot read version reference '${ref}': expected NAME, NAME@vN or NAME@N`);
  return { model, number: Number(m[1]) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function insertFiles(tx: SqlDb, versionId: number, files: FileEntry[]): Promise<void> {
  // Multi-row inserts: the sqlite3 driver costs ~40 µs per statement.
  for (let i = 0; i < files.length; i += 150) {
    const batch = files.slice(i, i + 150);
    await tx.run(
      `INSERT INTO files (version_id, path, sha256, size, role) VALUES ${batch.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      batch.flatMap((f) => [versionId, f.path, f.sha256, f.size, f.role]),
    );
  }
}

async function insertMetrics(tx: SqlDb, versionId: number, logs: MetricLog[]): Promise<void> {
  const seen = new Set<string>();
  for (const log of logs) {
    for (const s of log.series) {
      if (s.steps.length === 0) continue;
      // Two logs with the same key (metrics.csv and tfevents both saying "loss") stay apart.
      const key = seen.has(s.key) ? `${s.key} (${log.source})` : s.key;
      seen.add(key);
      const last = s.steps.length - 1;
      const best = log.best && log.best.key === s.key ? log.best : undefined;
      await tx.run(
        `INSERT INTO metrics (version_id, key, source, point_count, final_value, final_step, final_is_best, step_data, value_data, wall_time_data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          versionId,
          key,
          log.source,
          s.steps.length,
          finiteOrNull(best ? best.value : s.values[last]),
          best ? (best.step ?? null) : s.steps[last],
          best ? 1 : 0,
          pack(s.steps),
          pack(s.values),
          s.wallTimes ? pack(s.wallTimes) : null,
        ],
      );
    }
  }
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null; // SQLite stores NaN as NULL anyway; be explicit
}

/** float64 little-endian, the layout of Float64Array on every platform VS Code runs on. */
function pack(values: number[]): Buffer {
  const a = Float64Array.from(values);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function toSeries(r: { key: string; source: string; step_data: Buffer; value_data: Buffer; wall_time_data: Buffer | null }): StoredSeries {
  return { key: r.key, source: r.source, steps: unpack(r.step_data), values: unpack(r.value_data), wallTimes: r.wall_time_data ? unpack(r.wall_time_data) : null };
}

function unpack(b: Buffer): Float64Array {
  if (b.byteOffset % 8 === 0) return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  const copy = new Uint8Array(b); // a Buffer inside Node's pool may start off 8-byte alignment
  return new Float64Array(copy.buffer, 0, copy.byteLength / 8);
}

interface ModelRow {
  id: number;
  name: string;
  description: string;
  task: string | null;
  created_at: string;
  updated_at: string;
  version_count: number;
  latest_version: number | null;
  tags: string | null;
}

function toModel(r: ModelRow): ModelSummary {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    task: r.task,
    tags: r.tags ? r.tags.split('\x1f').sort() : [],
    versionCount: r.version_count,
    latestVersion: r.latest_version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const VERSION_SELECT = `SELECT v.*, m.name AS model_name,
  (SELECT group_concat(tag, char(31)) FROM version_tags t WHERE t.version_id = v.id) AS tags
  FROM versions v JOIN models m ON m.id = v.model_id`;

interface VersionRow {
  id: number;
  model_id: number;
  model_name: string;
  number: number;
  status: VersionRecord['status'];
  source_kind: string;
  source_uri: string;
  format: string | null;
  framework: string | null;
  size_bytes: number;
  file_count: number;
  parameter_count: number | null;
  created_at: string;
  git_commit: string | null;
  git_branch: string | null;
  git_dirty: number | null;
  git_remote: string | null;
  git_subject: string | null;
  git_author: string | null;
  git_date: string | null;
  git_root: string | null;
  parent_id: number | null;
  params: string;
  signature: string;
  details: string;
  config: string | null;
  template_id: string | null;
  description: string;
  tags: string | null;
}

interface MetricRow {
  key: string;
  source: string;
  point_count: number;
  final_value: number | null;
  final_step: number | null;
  final_is_best: number;
}

function toVersion(r: VersionRow): VersionRecord {
  return {
    id: r.id,
    modelId: r.model_id,
    model: r.model_name,
    number: r.number,
    ref: `${r.model_name}@v${r.number}`,
    status: r.status,
    source: { kind: r.source_kind, uri: r.source_uri },
    format: r.format,
    framework: r.framework,
    sizeBytes: r.size_bytes,
    fileCount: r.file_count,
    parameterCount: r.parameter_count,
    createdAt: r.created_at,
    git: r.git_commit
      ? {
          root: r.git_root ?? '',
          commit: r.git_commit,
          branch: r.git_branch,
          dirty: r.git_dirty === 1,
          remote: r.git_remote,
          subject: r.git_subject ?? '',
          author: r.git_author ?? '',
          date: r.git_date ?? '',
        }
      : null,
    parentId: r.parent_id,
    params: JSON.parse(r.params),
    signature: JSON.parse(r.signature),
    details: JSON.parse(r.details),
    config: r.config === null ? null : { text: r.config, templateId: r.template_id },
    description: r.description,
    tags: r.tags ? r.tags.split('\x1f').sort() : [],
  };
}

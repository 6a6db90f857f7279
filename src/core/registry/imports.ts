/**
 * Imports: a version is reserved as an `importing` row (so the tree shows it while files are
 * copied), then completed with its files, metrics and facts in one transaction, or abandoned.
 */
import * as os from 'os';
import { RegistryError } from '../errors';
import { GitProvenance } from '../git/provenance';
import { MetricLog, MetricSeries } from '../inspect/types';
import { LocalStore } from '../store/localStore';
import { RegistryCore as Core } from './core';
import { SqlDb } from './db';
import { bumpModel, checkTag, gitColumns, insertFiles, isAlive, MODEL_NAME, NEVER_READY, nextVersionOf } from './rows';
import { getVersionById } from './versions';
import { FileEntry, ModelConfig, Signature, VersionRecord, VersionSource } from './types';

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
  /** The version this one was made from, and how (conversion, fine-tune). */
  parent?: { id: number; kind: string } | null;
}

/**
 * Reserves the next version number of a model (creating the model) as an `importing` row, so the
 * tree can show it while files are copied. Another process gets the next number, never the same.
 */
export async function beginVersion(
  core: Core,
  modelName: string,
  source: VersionSource,
): Promise<{ id: number; number: number }> {
  if (!MODEL_NAME.test(modelName)) {
    throw new RegistryError(
      `invalid model name '${modelName}': use letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit`,
    );
  }
  const now = new Date().toISOString();
  const result = await core.write(async (tx) => {
    const { modelId, number } = await nextVersionOf(tx, modelName, now);
    const { lastId } = await tx.run(
      `INSERT INTO versions (model_id, number, status, source_kind, source_uri, created_at, importer_pid, importer_host)
       VALUES (?, ?, 'importing', ?, ?, ?, ?, ?)`,
      [modelId, number, source.kind, source.uri, now, process.pid, os.hostname()],
    );
    return { id: lastId, number };
  });
  return result;
}

/** Turns an importing version into a ready one with its files, metrics and facts, all at once. */
export async function completeVersion(core: Core, id: number, c: VersionContent): Promise<VersionRecord> {
  await core.write(async (tx) => {
    const v = await tx.get<{ status: string; model_id: number; number: number }>(
      'SELECT status, model_id, number FROM versions WHERE id = ?',
      [id],
    );
    if (!v || v.status !== 'importing')
      throw new RegistryError(`version ${id} is not being imported (it was deleted meanwhile?)`);
    // Checked under the write lock, which gc holds while it removes objects: once this commits, gc
    // sees the references; before, a removed object is caught here instead of a broken version.
    for (const f of c.files) {
      if (!(await core.store.has(f.sha256)))
        throw new RegistryError(
          `object ${f.sha256} for ${f.path} is not in the store (removed by a gc running meanwhile?); import again`,
        );
    }
    await insertFiles(tx, id, c.files);
    await insertMetrics(tx, id, c.metrics);
    await tx.run(
      `UPDATE versions SET status = 'ready', format = ?, framework = ?, size_bytes = ?, file_count = ?, parameter_count = ?,
              git_commit = ?, git_branch = ?, git_dirty = ?, git_remote = ?, git_subject = ?, git_author = ?, git_date = ?, git_root = ?,
              params = ?, signature = ?, details = ?, config = ?, template_id = ?, description = ?, parent_id = ?, parent_kind = ?,
              importer_pid = NULL, importer_host = NULL
        WHERE id = ?`,
      [
        c.format,
        c.framework,
        c.files.reduce((s, f) => s + f.size, 0),
        c.files.length,
        c.parameterCount,
        ...gitColumns(c.git),
        JSON.stringify(c.params),
        JSON.stringify(c.signature),
        JSON.stringify(c.details),
        c.config?.text ?? null,
        c.config?.templateId ?? null,
        c.description ?? '',
        c.parent?.id ?? null,
        c.parent?.kind ?? null,
        id,
      ],
    );
    for (const tag of new Set((c.tags ?? []).map(checkTag)))
      await tx.run('INSERT INTO version_tags (version_id, tag) VALUES (?, ?)', [id, tag]);
    await bumpModel(tx, v.model_id, v.number);
  });
  return (await getVersionById(core, id))!;
}

/**
 * Drops an unfinished version (failed or cancelled import); a model left without versions goes too
 * unless a version of it was ever ready (its row keeps last_number, so that number is never reused).
 */
export async function abandonVersion(core: Core, id: number): Promise<void> {
  await core.write(async (tx) => {
    const v = await tx.get<{ model_id: number }>("SELECT model_id FROM versions WHERE id = ? AND status <> 'ready'", [
      id,
    ]);
    if (!v) return;
    await tx.run('DELETE FROM versions WHERE id = ?', [id]);
    await tx.run(`DELETE FROM models WHERE id = ? AND ${NEVER_READY}`, [v.model_id]);
  });
}

/**
 * Removes an import whose process died (Clean up in the tree): its row, and its temp files. Refused
 * while the import runs, or when it runs on another machine (its pid means nothing here).
 */
export async function cleanUpInterrupted(core: Core, id: number): Promise<void> {
  const v = await getVersionById(core, id);
  if (!v || v.status !== 'importing')
    throw new RegistryError(`version ${id} is no longer being imported (it finished, or was cleaned up meanwhile)`);
  if (!v.interrupted) {
    if (!v.importer)
      throw new RegistryError(`${v.ref} does not record which process imports it; run gc once no import is running`);
    throw new RegistryError(
      v.importer.host === os.hostname()
        ? `${v.ref} is still being imported by process ${v.importer.pid} on this machine`
        : `${v.ref} is being imported on ${v.importer.host}; clean it up there`,
    );
  }
  await abandonVersion(core, id);
  if (core.store instanceof LocalStore) await core.store.removeStaleTemp(isAlive);
}

/**
 * The series of metric logs under the keys the registry stores them by: empty ones left out, and two
 * logs with the same key (metrics.csv and tfevents both saying "loss") kept apart by the later one's source.
 * Live curves name a running run's series the same way (src/extension/compare/live.ts).
 */
export function storedMetricSeries(logs: MetricLog[]): { key: string; log: MetricLog; series: MetricSeries }[] {
  const seen = new Set<string>();
  const out: { key: string; log: MetricLog; series: MetricSeries }[] = [];
  for (const log of logs) {
    for (const series of log.series) {
      if (series.steps.length === 0) continue;
      const key = seen.has(series.key) ? `${series.key} (${log.source})` : series.key;
      seen.add(key);
      out.push({ key, log, series });
    }
  }
  return out;
}

async function insertMetrics(tx: SqlDb, versionId: number, logs: MetricLog[]): Promise<void> {
  for (const { key, log, series: s } of storedMetricSeries(logs)) {
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

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null; // SQLite stores NaN as NULL anyway; be explicit
}

/** float64 little-endian, the layout of Float64Array on every platform VS Code runs on. */
function pack(values: number[]): Buffer {
  const a = Float64Array.from(values);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

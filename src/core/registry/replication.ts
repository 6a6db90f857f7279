/**
 * Copies between registries (push / pull, see team.ts): a version's identity across registries
 * (`origin`), its rows as stored, and recording a copy whose objects are already in this store.
 */
import { RegistryError } from '../errors';
import { forEachLimit } from '../util/parallel';
import { RegistryCore as Core } from './core';
import {
  bumpModel,
  gitColumns,
  insertFiles,
  METRIC_COLUMNS,
  nextVersionOf,
  StoredMetricRow,
  toVersion,
  VERSION_SELECT,
  VersionRow,
} from './rows';
import { FileEntry, VersionRecord } from './types';
import { getVersionById } from './versions';

/** The version with this cross-registry identity (see team.ts), deleted or not. */
export async function versionByOrigin(core: Core, origin: string): Promise<VersionRecord | undefined> {
  const row = await core.sql.get<VersionRow>(`${VERSION_SELECT} WHERE v.origin = ?`, [origin]);
  return row && toVersion(row);
}

/** A version's metric rows as stored (packed series included), for copying them verbatim. */
export function metricRows(core: Core, versionId: number): Promise<StoredMetricRow[]> {
  return core.sql.all<StoredMetricRow>(`SELECT ${METRIC_COLUMNS} FROM metrics WHERE version_id = ? ORDER BY key`, [
    versionId,
  ]);
}

/** Remembers which cross-registry identity a version has (the first one given stays). */
export async function setOrigin(core: Core, versionId: number, origin: string): Promise<void> {
  await core.write(
    (tx) =>
      tx.run(
        'UPDATE versions SET origin = ? WHERE id = ? AND origin IS NULL AND NOT EXISTS (SELECT 1 FROM versions WHERE origin = ?)',
        [origin, versionId, origin],
      ),
    (r) => r.changes > 0,
  );
}

/**
 * Records a version copied from another registry, ready at once: everything but its number, id,
 * aliases and archive state is kept (provenance, facts, files, metric series, tags). The objects
 * must be in this registry's store already. Returns the existing copy when `origin` is here.
 */
export async function addCopy(
  core: Core,
  v: VersionRecord,
  c: {
    origin: string;
    files: FileEntry[];
    metrics: StoredMetricRow[];
    parentId: number | null;
    copiedFrom: Record<string, unknown>;
    /** The objects to check for (default: all); ones the copy has just written may be left out. */
    check?: FileEntry[];
  },
): Promise<{ version: VersionRecord; existed: boolean }> {
  const now = new Date().toISOString();
  const { id, existed } = await core.write(
    async (tx) => {
      const existing = await tx.get<{ id: number }>('SELECT id FROM versions WHERE origin = ?', [c.origin]);
      if (existing) return { id: existing.id, existed: true };
      // Under the write lock, which gc holds while it removes objects (several checks at once: a bucket answers each in a round trip).
      await forEachLimit(c.check ?? c.files, 16, async (f) => {
        if (!(await core.store.has(f.sha256)))
          throw new RegistryError(
            `object ${f.sha256} for ${f.path} is not in the store of ${core.location}; copy again`,
          );
      });
      const { modelId, number } = await nextVersionOf(tx, v.model, now);
      const { lastId } = await tx.run(
        `INSERT INTO versions (model_id, number, status, source_kind, source_uri, format, framework, size_bytes, file_count, parameter_count, created_at,
                             git_commit, git_branch, git_dirty, git_remote, git_subject, git_author, git_date, git_root,
                             parent_id, parent_kind, params, signature, details, description, config, template_id, origin)
       VALUES (?, ?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          modelId,
          number,
          v.source.kind,
          v.source.uri,
          v.format,
          v.framework,
          v.sizeBytes,
          v.fileCount,
          v.parameterCount,
          v.createdAt,
          ...gitColumns(v.git),
          c.parentId,
          c.parentId === null ? null : v.parentKind,
          JSON.stringify(v.params),
          JSON.stringify(v.signature),
          JSON.stringify({ ...v.details, copiedFrom: c.copiedFrom }),
          v.description,
          v.config?.text ?? null,
          v.config?.templateId ?? null,
          c.origin,
        ],
      );
      await insertFiles(tx, lastId, c.files);
      for (const m of c.metrics) {
        await tx.run(`INSERT INTO metrics (version_id, ${METRIC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          lastId,
          m.key,
          m.source,
          m.point_count,
          m.final_value,
          m.final_step,
          m.final_is_best,
          m.step_data,
          m.value_data,
          m.wall_time_data,
        ]);
      }
      for (const tag of v.tags) await tx.run('INSERT INTO version_tags (version_id, tag) VALUES (?, ?)', [lastId, tag]);
      await bumpModel(tx, modelId, number);
      return { id: lastId, existed: false };
    },
    (r) => !r.existed,
  );
  return { version: (await getVersionById(core, id))!, existed };
}

/** True when the version is deleted (hidden, waiting for gc). */
export async function isDeleted(core: Core, versionId: number): Promise<boolean> {
  return !!(await core.sql.get('SELECT 1 FROM versions WHERE id = ? AND deleted_at IS NOT NULL', [versionId]));
}

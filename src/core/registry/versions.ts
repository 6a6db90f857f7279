/** Versions: listing, resolving references, their files and metrics; delete, restore, archive; tags and descriptions. */
import { RegistryError } from '../errors';
import { aliasesOf, removeAlias, setAlias } from './aliases';
import { RegistryCore as Core } from './core';
import { requireModel } from './models';
import {
  checkTag,
  LIVE,
  MetricRow,
  NO_LIMIT,
  parseRef,
  toSeries,
  toVersion,
  VERSION_SELECT,
  versionCondition,
  VersionRow,
} from './rows';
import { MetricRange, parseSearch } from './search';
import { FileEntry, FinalMetric, ListOptions, StoredSeries, VersionRecord } from './types';

/** A model's versions, newest first, a page at a time; archived ones only when asked for. */
export async function listVersions(core: Core, model: string, opts: ListOptions = {}): Promise<VersionRecord[]> {
  const q = opts.filter ? parseSearch(opts.filter) : undefined;
  const shown = versionCondition(q, opts);
  const rows = await core.sql.all<VersionRow>(
    `${VERSION_SELECT} WHERE m.name = ? AND ${shown.where} ORDER BY v.number DESC LIMIT ? OFFSET ?`,
    [model, ...shown.params, opts.limit ?? NO_LIMIT, opts.offset ?? 0],
  );
  return rows.map(toVersion);
}

/**
 * Where a version sits in the listings above with the same options: its model's index among the
 * models and its index among the model's versions, or undefined when those options hide it.
 */
export async function positionOf(
  core: Core,
  version: VersionRecord,
  opts: Omit<ListOptions, 'offset' | 'limit'> = {},
): Promise<{ model: number; version: number } | undefined> {
  const shown = versionCondition(opts.filter ? parseSearch(opts.filter) : undefined, opts);
  const visible = await core.sql.get(
    `SELECT 1 FROM versions v JOIN models m ON m.id = v.model_id WHERE v.id = ? AND ${shown.where}`,
    [version.id, ...shown.params],
  );
  if (!visible) return undefined;
  const models = await core.sql.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM models m WHERE m.name < ? AND EXISTS (SELECT 1 FROM versions v WHERE v.model_id = m.id AND ${shown.where})`,
    [version.model, ...shown.params],
  );
  const versions = await core.sql.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM versions v JOIN models m ON m.id = v.model_id WHERE v.model_id = ? AND v.number > ? AND ${shown.where}`,
    [version.modelId, version.number, ...shown.params],
  );
  return { model: models!.n, version: versions!.n };
}

/** Versions of any model matching a search, newest first. */
export async function search(
  core: Core,
  filter: string,
  opts: Omit<ListOptions, 'filter'> = {},
): Promise<VersionRecord[]> {
  const shown = versionCondition(parseSearch(filter), opts);
  const rows = await core.sql.all<VersionRow>(
    `${VERSION_SELECT} WHERE ${shown.where} ORDER BY v.created_at DESC, v.id DESC LIMIT ? OFFSET ?`,
    [...shown.params, opts.limit ?? NO_LIMIT, opts.offset ?? 0],
  );
  return rows.map(toVersion);
}

/**
 * What a new import is compared with to propose its model (importers/modelCandidates.ts): the ready
 * versions imported from `sourceUri` (any age), then the `recent` newest ready versions of any model.
 */
export async function importEvidence(core: Core, sourceUri: string, recent: number): Promise<VersionRecord[]> {
  const ready = `v.status = 'ready' AND ${LIVE}`;
  const same = await core.sql.all<VersionRow>(
    `${VERSION_SELECT} WHERE ${ready} AND v.source_uri = ? ORDER BY v.id DESC`,
    [sourceUri],
  );
  const latest = await core.sql.all<VersionRow>(`${VERSION_SELECT} WHERE ${ready} ORDER BY v.id DESC LIMIT ?`, [
    recent,
  ]);
  const seen = new Set<number>();
  return [...same, ...latest].filter((r) => !seen.has(r.id) && seen.add(r.id)).map(toVersion);
}

export async function getVersionById(core: Core, id: number): Promise<VersionRecord | undefined> {
  const row = await core.sql.get<VersionRow>(`${VERSION_SELECT} WHERE v.id = ?`, [id]);
  return row && toVersion(row);
}

/** Resolves "name@v3", "name@3", "name@production" (an alias), "name@latest" or "name" (its latest ready version). */
export async function resolve(core: Core, ref: string): Promise<VersionRecord> {
  const { model, number, alias } = parseRef(ref);
  const latest = `${VERSION_SELECT} WHERE m.name = ? AND v.status = 'ready' AND ${LIVE} AND v.archived_at IS NULL ORDER BY v.number DESC LIMIT 1`;
  const row =
    number !== undefined
      ? await core.sql.get<VersionRow>(`${VERSION_SELECT} WHERE m.name = ? AND v.number = ? AND ${LIVE}`, [
          model,
          number,
        ])
      : alias === undefined || alias === 'latest'
        ? await core.sql.get<VersionRow>(latest, [model])
        : await core.sql.get<VersionRow>(
            `${VERSION_SELECT} JOIN aliases a ON a.version_id = v.id AND a.model_id = m.id WHERE m.name = ? AND a.alias = ?`,
            [model, alias],
          );
  if (!row) {
    await requireModel(core, model);
    if (number !== undefined) throw new RegistryError(`model '${model}' has no version v${number}`);
    if (alias !== undefined && alias !== 'latest') {
      const known = (await aliasesOf(core, model)).map((a) => `${a.alias} → v${a.number}`);
      throw new RegistryError(
        `model '${model}' has no alias '${alias}'${known.length ? ` (it has ${known.join(', ')})` : ''}`,
      );
    }
    throw new RegistryError(`model '${model}' has no ready version`);
  }
  return toVersion(row);
}

export async function files(core: Core, versionId: number): Promise<FileEntry[]> {
  return core.sql.all<FileEntry>('SELECT path, sha256, size, role FROM files WHERE version_id = ? ORDER BY path', [
    versionId,
  ]);
}

export async function finalMetrics(core: Core, versionId: number): Promise<FinalMetric[]> {
  const rows = await core.sql.all<MetricRow>(
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

export async function metricSeries(core: Core, versionId: number, key: string): Promise<StoredSeries | undefined> {
  const r = await core.sql.get<{
    key: string;
    source: string;
    step_data: Buffer;
    value_data: Buffer;
    wall_time_data: Buffer | null;
  }>('SELECT key, source, step_data, value_data, wall_time_data FROM metrics WHERE version_id = ? AND key = ?', [
    versionId,
    key,
  ]);
  return r && toSeries(r);
}

/** Every metric series of a version, read in one query (series are stored packed, one row each). */
export async function allSeries(core: Core, versionId: number): Promise<StoredSeries[]> {
  const rows = await core.sql.all<{
    key: string;
    source: string;
    step_data: Buffer;
    value_data: Buffer;
    wall_time_data: Buffer | null;
  }>('SELECT key, source, step_data, value_data, wall_time_data FROM metrics WHERE version_id = ? ORDER BY key', [
    versionId,
  ]);
  return rows.map(toSeries);
}

/**
 * Deletes a version: hidden at once, its row and objects kept until `gc`, so `restoreVersion` can
 * undo it. Refused while an alias points at it, unless forced (the aliases go, and are recorded).
 */
export async function deleteVersion(
  core: Core,
  ref: string,
  opts: { force?: boolean } = {},
): Promise<{ version: VersionRecord; removedAliases: string[] }> {
  const v = await resolve(core, ref);
  const removedAliases = await dropAliasesOf(core, v, 'delete', opts.force);
  await core.write((tx) => tx.run(`UPDATE versions SET deleted_at = ? WHERE id = ?`, [new Date().toISOString(), v.id]));
  return { version: v, removedAliases };
}

/** Undoes a delete (until gc runs), putting back the aliases it removed unless they moved on meanwhile. */
export async function restoreVersion(core: Core, id: number, aliases: string[] = []): Promise<VersionRecord> {
  const row = await core.sql.get<{ deleted_at: string | null }>('SELECT deleted_at FROM versions WHERE id = ?', [id]);
  // A version that is not deleted under that id is another one: SQLite gives a freed row id out again after gc.
  if (!row || row.deleted_at === null)
    throw new RegistryError(`version ${id} is gone (gc removed it); it cannot be restored`);
  await core.write((tx) => tx.run('UPDATE versions SET deleted_at = NULL WHERE id = ?', [id]));
  const v = (await getVersionById(core, id))!;
  const taken = new Set((await aliasesOf(core, v.model)).map((a) => a.alias));
  for (const alias of aliases) if (!taken.has(alias)) await setAlias(core, v, alias);
  return (await getVersionById(core, id))!;
}

/** Archive hides a version from lists and `NAME`/`@latest` without deleting anything; refused while an alias points at it unless forced. */
export async function archiveVersion(
  core: Core,
  ref: string,
  opts: { force?: boolean } = {},
): Promise<{ version: VersionRecord; removedAliases: string[] }> {
  const v = await resolve(core, ref);
  const removedAliases = await dropAliasesOf(core, v, 'archive', opts.force);
  await core.write((tx) =>
    tx.run('UPDATE versions SET archived_at = ? WHERE id = ?', [new Date().toISOString(), v.id]),
  );
  return { version: (await getVersionById(core, v.id))!, removedAliases };
}

export async function unarchiveVersion(core: Core, ref: string): Promise<VersionRecord> {
  const v = await resolve(core, ref);
  await core.write((tx) => tx.run('UPDATE versions SET archived_at = NULL WHERE id = ?', [v.id]));
  return (await getVersionById(core, v.id))!;
}

async function dropAliasesOf(core: Core, v: VersionRecord, action: string, force?: boolean): Promise<string[]> {
  if (v.aliases.length && !force) {
    const names = v.aliases.join(', ');
    throw new RegistryError(
      `${v.ref} is ${names}: move the alias${v.aliases.length > 1 ? 'es' : ''} first, or ${action} with force (which removes ${v.aliases.length > 1 ? 'them' : 'it'})`,
    );
  }
  for (const alias of v.aliases) await removeAlias(core, v.model, alias);
  return v.aliases;
}

export async function setVersionTags(core: Core, ref: string, tags: string[]): Promise<void> {
  const v = await resolve(core, ref);
  const clean = [...new Set(tags.map(checkTag))];
  await core.write(async (tx) => {
    await tx.run('DELETE FROM version_tags WHERE version_id = ?', [v.id]);
    for (const tag of clean) await tx.run('INSERT INTO version_tags (version_id, tag) VALUES (?, ?)', [v.id, tag]);
  });
}

export async function setVersionDescription(core: Core, ref: string, description: string): Promise<void> {
  const v = await resolve(core, ref);
  await core.write((tx) => tx.run('UPDATE versions SET description = ? WHERE id = ?', [description.trim(), v.id]));
}

/** True when some stored file has this size: a new file of that size may well be a duplicate. */
export async function hasObjectOfSize(core: Core, size: number): Promise<boolean> {
  return !!(await core.sql.get('SELECT 1 FROM files WHERE size = ? LIMIT 1', [size]));
}

/**
 * The metric keys in use, one index probe per key (a loose scan of metrics_by_key_value), so a
 * registry with millions of metric rows answers as fast as a small one. Keys of deleted versions
 * not yet collected may be among them; metricRanges() sees only live versions.
 */
export async function metricKeys(core: Core, limit = 500): Promise<string[]> {
  const rows = await core.sql.all<{ key: string }>(
    `WITH RECURSIVE k(key) AS (
       SELECT MIN(key) FROM metrics
       UNION ALL SELECT (SELECT MIN(key) FROM metrics WHERE key > k.key) FROM k WHERE k.key IS NOT NULL
     ) SELECT key FROM k WHERE key IS NOT NULL LIMIT ?`,
    [limit],
  );
  return rows.map((r) => r.key);
}

/** Each key's lowest and highest final value among the versions a listing shows (live; archived only when asked), with their versions. */
export async function metricRanges(
  core: Core,
  keys: string[],
  opts: { includeArchived?: boolean } = {},
): Promise<MetricRange[]> {
  const shown = versionCondition(undefined, opts);
  const end = async (key: string, order: 'ASC' | 'DESC') =>
    core.sql.get<{ value: number; model: string; number: number }>(
      `SELECT x.final_value AS value, m.name AS model, v.number AS number
       FROM metrics x JOIN versions v ON v.id = x.version_id JOIN models m ON m.id = v.model_id
       WHERE x.key = ? AND x.final_value IS NOT NULL AND ${shown.where}
       ORDER BY x.final_value ${order} LIMIT 1`,
      [key, ...shown.params],
    );
  const ranges: MetricRange[] = [];
  for (const key of keys) {
    const [lo, hi] = [await end(key, 'ASC'), await end(key, 'DESC')];
    if (lo && hi)
      ranges.push({
        key,
        lowest: { value: lo.value, ref: `${lo.model}@v${lo.number}` },
        highest: { value: hi.value, ref: `${hi.model}@v${hi.number}` },
      });
  }
  return ranges;
}

/**
 * Row shapes shared by the registry's modules: the SELECTs that read models and versions, their
 * mapping to records, name checks, and the statements several writers run inside a transaction.
 */
import * as os from 'os';
import { RegistryError } from '../errors';
import { GitProvenance } from '../git/provenance';
import { isProcessAlive } from '../store/localStore';
import { SqlDb, SqlValue } from './db';
import { conversionOf, versionDtype } from './dtype';
import { SearchQuery } from './search';
import { FileEntry, LineageNode, ListOptions, ModelSummary, StoredSeries, VersionRecord } from './types';

export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const ALIAS_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
const MAX_TAG = 64;
export const LINEAGE_LIMIT = 200;
/** A version that is not deleted (deleted ones wait for gc, so that delete can be undone). */
export const LIVE = 'v.deleted_at IS NULL';
/** A model row that holds nothing: no version, and no number ever used (last_number is kept so numbers are never reused). */
export const NEVER_READY = 'last_number = 0 AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.model_id = models.id)';
/** LIMIT for "all": SQLite reads -1 so, PostgreSQL does not; both take a big number. */
export const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export function parseRef(ref: string): { model: string; number?: number; alias?: string } {
  const at = ref.lastIndexOf('@');
  if (at < 0) return { model: ref };
  const model = ref.slice(0, at);
  const after = ref.slice(at + 1);
  const m = /^v?(\d+)$/.exec(after);
  if (model && m) return { model, number: Number(m[1]) };
  if (model && ALIAS_NAME.test(after)) return { model, alias: after };
  throw new RegistryError(`cannot read version reference '${ref}': expected NAME, NAME@vN, NAME@N or NAME@ALIAS`);
}

export function checkAlias(alias: string): void {
  if (!ALIAS_NAME.test(alias) || /^v?\d+$/.test(alias)) {
    throw new RegistryError(
      `invalid alias '${alias}': start with a letter, then letters, digits, '.', '_' or '-' (at most 64); not a version number such as v3`,
    );
  }
  if (alias === 'latest')
    throw new RegistryError("'latest' is reserved: NAME@latest always means the newest ready version");
}

export function checkTag(tag: string): string {
  const t = tag.trim();
  // eslint-disable-next-line no-control-regex -- tags refuse control characters
  if (!t || t.length > MAX_TAG || /[,\x00-\x1f]/.test(t))
    throw new RegistryError(`invalid tag '${tag}': 1 to ${MAX_TAG} characters, no commas or control characters`);
  return t;
}

/** The model (created if new) and its next version number: never one a deleted version had (last_number survives gc). */
export async function nextVersionOf(
  tx: SqlDb,
  modelName: string,
  now: string,
): Promise<{ modelId: number; number: number }> {
  await tx.run('INSERT INTO models (name, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [
    modelName,
    now,
    now,
  ]);
  const modelId = (await tx.get<{ id: number }>('SELECT id FROM models WHERE name = ?', [modelName]))!.id;
  const row = await tx.get<{ used: number | null; last: number }>(
    'SELECT (SELECT MAX(number) FROM versions WHERE model_id = ?) AS used, (SELECT last_number FROM models WHERE id = ?) AS last',
    [modelId, modelId],
  );
  return { modelId, number: Math.max(row!.used ?? 0, row!.last) + 1 };
}

/** git_commit … git_root, in the order the version statements list them. */
export function gitColumns(g: GitProvenance | null | undefined): SqlValue[] {
  return [
    g?.commit ?? null,
    g?.branch ?? null,
    g ? (g.dirty ? 1 : 0) : null,
    g?.remote ?? null,
    g?.subject ?? null,
    g?.author ?? null,
    g?.date ?? null,
    g?.root ?? null,
  ];
}

/** A version of the model became ready: its number stays used even after the version is deleted. */
export async function bumpModel(tx: SqlDb, modelId: number, number: number): Promise<void> {
  await tx.run(
    'UPDATE models SET updated_at = ?, last_number = CASE WHEN last_number > ? THEN last_number ELSE ? END WHERE id = ?',
    [new Date().toISOString(), number, number, modelId],
  );
}

/** Which versions a listing shows: live ones, not archived unless asked, matching the search. */
export function versionCondition(q: SearchQuery | undefined, opts: ListOptions): { where: string; params: SqlValue[] } {
  const archived = opts.includeArchived || q?.includeArchived ? '' : ' AND v.archived_at IS NULL';
  return { where: `${LIVE}${archived}${q ? ` AND ${q.where}` : ''}`, params: q?.params ?? [] };
}

export const isAlive = isProcessAlive;

export async function insertFiles(tx: SqlDb, versionId: number, files: FileEntry[]): Promise<void> {
  // Multi-row inserts: the sqlite3 driver costs ~40 µs per statement.
  for (let i = 0; i < files.length; i += 150) {
    const batch = files.slice(i, i + 150);
    await tx.run(
      `INSERT INTO files (version_id, path, sha256, size, role) VALUES ${batch.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      batch.flatMap((f) => [versionId, f.path, f.sha256, f.size, f.role]),
    );
  }
}

export function toSeries(r: {
  key: string;
  source: string;
  step_data: Buffer;
  value_data: Buffer;
  wall_time_data: Buffer | null;
}): StoredSeries {
  return {
    key: r.key,
    source: r.source,
    steps: unpack(r.step_data),
    values: unpack(r.value_data),
    wallTimes: r.wall_time_data ? unpack(r.wall_time_data) : null,
  };
}

function unpack(b: Buffer): Float64Array {
  if (b.byteOffset % 8 === 0) return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  const copy = new Uint8Array(b); // a Buffer inside Node's pool may start off 8-byte alignment
  return new Float64Array(copy.buffer, 0, copy.byteLength / 8);
}

export interface ModelRow {
  id: number;
  name: string;
  description: string;
  task: string | null;
  created_at: string;
  updated_at: string;
  version_count: number;
  archived_count: number;
  latest_version: number | null;
  tags: string | null;
}

export function toModel(r: ModelRow): ModelSummary {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    task: r.task,
    tags: r.tags ? r.tags.split('\x1f').sort() : [],
    versionCount: r.version_count,
    archivedCount: r.archived_count,
    latestVersion: r.latest_version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

// Counts use the (model_id, number) index: a page of models costs a few index probes per model.
export const MODEL_COLUMNS = `SELECT m.*,
  (SELECT COUNT(*) FROM versions v WHERE v.model_id = m.id AND ${LIVE} AND v.archived_at IS NULL) AS version_count,
  (SELECT COUNT(*) FROM versions v WHERE v.model_id = m.id AND ${LIVE} AND v.archived_at IS NOT NULL) AS archived_count,
  (SELECT MAX(number) FROM versions v WHERE v.model_id = m.id AND ${LIVE} AND v.archived_at IS NULL) AS latest_version,
  (SELECT group_concat(tag, char(31)) FROM model_tags t WHERE t.model_id = m.id) AS tags`;
export const MODEL_SELECT = `${MODEL_COLUMNS} FROM models m`;

export const VERSION_SELECT = `SELECT v.*, m.name AS model_name,
  (SELECT group_concat(tag, char(31)) FROM version_tags t WHERE t.version_id = v.id) AS tags,
  (SELECT group_concat(alias, char(31)) FROM aliases a WHERE a.version_id = v.id) AS aliases
  FROM versions v JOIN models m ON m.id = v.model_id`;

export const LINEAGE_SELECT = `SELECT v.id, v.number, v.format, v.size_bytes, v.details, v.git_commit, v.git_subject, v.created_at, v.deleted_at, v.parent_id, v.parent_kind, m.name AS model_name
  FROM versions v JOIN models m ON m.id = v.model_id`;

export interface LineageRow {
  id: number;
  number: number;
  format: string | null;
  size_bytes: number;
  details: string;
  git_commit: string | null;
  git_subject: string | null;
  created_at: string;
  deleted_at: string | null;
  parent_id: number | null;
  parent_kind: string | null;
  model_name: string;
}

export function toLineageNode(r: LineageRow): LineageNode {
  const details = JSON.parse(r.details) as Record<string, unknown>;
  return {
    id: r.id,
    ref: `${r.model_name}@v${r.number}`,
    model: r.model_name,
    number: r.number,
    format: r.format,
    dtype: versionDtype(details),
    sizeBytes: Number(r.size_bytes),
    converter: conversionOf(details)?.converter ?? null,
    commit: r.git_commit,
    subject: r.git_subject,
    createdAt: r.created_at,
    deleted: r.deleted_at !== null,
  };
}

export interface VersionRow {
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
  aliases: string | null;
  archived_at: string | null;
  parent_kind: string | null;
  origin: string | null;
  importer_pid: number | null;
  importer_host: string | null;
}

export const METRIC_COLUMNS =
  'key, source, point_count, final_value, final_step, final_is_best, step_data, value_data, wall_time_data';

export interface MetricRow {
  key: string;
  source: string;
  point_count: number;
  final_value: number | null;
  final_step: number | null;
  final_is_best: number;
}

/** A metric row with its packed series, as stored. */
export interface StoredMetricRow extends MetricRow {
  step_data: Buffer;
  value_data: Buffer;
  wall_time_data: Buffer | null;
}

export function toVersion(r: VersionRow): VersionRecord {
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
    parentKind: r.parent_kind,
    params: JSON.parse(r.params),
    signature: JSON.parse(r.signature),
    details: JSON.parse(r.details),
    config: r.config === null ? null : { text: r.config, templateId: r.template_id },
    description: r.description,
    tags: r.tags ? r.tags.split('\x1f').sort() : [],
    aliases: r.aliases ? r.aliases.split('\x1f').sort() : [],
    archivedAt: r.archived_at,
    origin: r.origin,
    importer: r.importer_pid !== null ? { pid: r.importer_pid, host: r.importer_host ?? '' } : null,
    interrupted:
      r.status === 'importing' &&
      r.importer_pid !== null &&
      r.importer_host === os.hostname() &&
      !isAlive(r.importer_pid),
  };
}

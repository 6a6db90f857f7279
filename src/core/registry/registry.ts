import { randomBytes } from 'crypto';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CancelledError, RegistryError } from '../errors';
import { GitProvenance, gitUser } from '../git/provenance';
import { MetricLog } from '../inspect/types';
import { hashFile, isProcessAlive, LocalStore } from '../store/localStore';
import { ObjectStore } from '../store/types';
import { forEachLimit } from '../util/parallel';
import { SqlDb, SqliteDb, SqlValue } from './db';
import { PgDb } from './pgDb';
import { migrate } from './migrations';
import { parseSearch, SearchQuery } from './search';
import {
  AliasMove,
  FileEntry,
  FinalMetric,
  Lineage,
  LineageNode,
  ListOptions,
  ModelConfig,
  ModelSummary,
  Signature,
  StoredSeries,
  VersionRecord,
  VersionSource,
} from './types';

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

export interface VerifyProblem {
  sha256: string;
  problem: 'missing' | 'corrupt';
  /** Versions and paths that reference the object, as "model@vN:path". */
  usedBy: string[];
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ALIAS_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
const MAX_TAG = 64;
const LINEAGE_LIMIT = 200;
/** A version that is not deleted (deleted ones wait for gc, so that delete can be undone). */
const LIVE = 'v.deleted_at IS NULL';
/** A model row that holds nothing: no version, and no number ever used (last_number is kept so numbers are never reused). */
const NEVER_READY = 'last_number = 0 AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.model_id = models.id)';
/** How long gc spares unreferenced objects in a team registry's bucket (pushes in flight). */
export const SHARED_STORE_GRACE_MS = 60 * 60 * 1000;
/** LIMIT for "all": SQLite reads -1 so, PostgreSQL does not; both take a big number. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * A registry: metadata in SQL, file contents in a content-addressed store. The folder layout is
 * `<dir>/registry.db` and `<dir>/objects/`. Every write ends by touching `<dir>/last-change` so that
 * other processes (the extension watching a registry the CLI changed) can refresh.
 */
export class Registry<S extends ObjectStore = LocalStore> {
  private constructor(
    /** The local folder: the registry itself, or a team registry's local working folder (temp files, logs). */
    readonly dir: string,
    readonly db: SqlDb,
    readonly store: S,
    /** What messages call this registry: its folder, or the team database's address. */
    readonly location: string,
    /** The registry's identity, kept in its database (and, for a local one, in its folder's marker). */
    readonly id: string,
  ) {}

  /**
   * Opens (creating if needed) the registry in `dir`. The store uses only folders this registry made
   * (see LocalStore.init): a folder of the user's given as `dir` keeps its files, gc or not.
   */
  static async open(dir: string): Promise<Registry> {
    await fsp.mkdir(dir, { recursive: true });
    const dbFile = path.join(dir, 'registry.db');
    const existed = (await fsp.stat(dbFile).catch(() => undefined))?.isFile() ?? false;
    const store = new LocalStore(dir);
    const registry = await Registry.migrated(dir, await SqliteDb.open(dbFile), store, dir);
    try {
      // A registry from before identities adopts the folders it made back then; a new one only makes its own.
      await store.init({ id: registry.id, adopt: existed && registry.identityIsNew });
    } catch (e) {
      await registry.db.close();
      throw e;
    }
    return registry;
  }

  /**
   * A team registry: metadata in PostgreSQL (same schema and migrations), objects in `store` (a
   * bucket). `workDir` is a local folder for its change stamp and logs.
   */
  static async openTeam<T extends ObjectStore>(
    url: string,
    store: T,
    workDir: string,
    password?: string,
  ): Promise<Registry<T>> {
    await fsp.mkdir(workDir, { recursive: true });
    const db = await PgDb.open(url, password);
    return Registry.migrated(workDir, db, store, db.where);
  }

  private static async migrated<T extends ObjectStore>(
    dir: string,
    db: SqlDb,
    store: T,
    location: string,
  ): Promise<Registry<T>> {
    let identity: { id: string; created: boolean };
    try {
      await migrate(db);
      identity = await db.transaction(async (tx) => {
        const row = await tx.get<{ id: string }>('SELECT id FROM registry_identity');
        if (row) return { id: row.id, created: false };
        const id = randomBytes(16).toString('hex');
        await tx.run('INSERT INTO registry_identity (one, id, created_at) VALUES (1, ?, ?)', [
          id,
          new Date().toISOString(),
        ]);
        return { id, created: true };
      });
    } catch (e) {
      await db.close();
      throw e;
    }
    const registry = new Registry(dir, db, store, location, identity.id);
    registry.identityIsNew = identity.created;
    return registry;
  }

  /** True when this open gave the database its identity (a new registry, or one from before identities). */
  private identityIsNew = false;

  /** The local store, for work on files (gc, verify): a team registry's bucket has none. */
  private localStore(what: string): LocalStore {
    if (!(this.store instanceof LocalStore))
      throw new RegistryError(`${what} works on a local registry, not on the team registry ${this.location}`);
    return this.store;
  }

  close(): Promise<void> {
    this.store.close?.();
    return this.db.close();
  }

  get changeStamp(): string {
    return path.join(this.dir, 'last-change');
  }

  /** What this process last wrote to the change stamp: a watcher can tell its own changes from others'. */
  lastStamp: string | undefined;

  /**
   * Stamps a change (the file other windows watch, and NOTIFY on a team registry). The registry's own
   * writes call it; so must the few modules that still write their own tables (datasets, evaluations),
   * until they move into the registry.
   */
  async touch(): Promise<void> {
    this.lastStamp = `${new Date().toISOString()} ${os.hostname()} ${process.pid}`;
    await fsp.writeFile(this.changeStamp, this.lastStamp);
    await this.db.announce?.(this.lastStamp);
  }

  // ---- models ----

  /** Models in name order, a page at a time; with a filter, only those with a matching version. */
  async listModels(opts: ListOptions = {}): Promise<ModelSummary[]> {
    const q = opts.filter ? parseSearch(opts.filter) : undefined;
    const shown = versionCondition(q, opts);
    // A filter with an indexed term finds its few matching models first; otherwise models are walked
    // in name order (those the model-level part of the filter rejects cost no version lookups), each
    // checked for one shown version, until the page is full.
    const listed = q?.indexed
      ? `m.id IN (SELECT v.model_id FROM versions v JOIN models m ON m.id = v.model_id WHERE ${shown.where})`
      : `${q ? q.modelWhere : 'TRUE'} AND EXISTS (SELECT 1 FROM versions v WHERE v.model_id = m.id AND ${shown.where})`;
    const rows = await this.db.all<ModelRow>(
      `${MODEL_COLUMNS} FROM (SELECT * FROM models m WHERE ${listed} ORDER BY m.name LIMIT ? OFFSET ?) m ORDER BY m.name`,
      [...(q && !q.indexed ? q.modelParams : []), ...shown.params, opts.limit ?? NO_LIMIT, opts.offset ?? 0],
    );
    return rows.map(toModel);
  }

  /** How many models have a version that is not deleted (what the status bar shows). */
  async countModels(): Promise<number> {
    const row = await this.db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM models m WHERE EXISTS (SELECT 1 FROM versions v WHERE v.model_id = m.id AND ${LIVE})`,
    );
    return row!.n;
  }

  async getModel(name: string): Promise<ModelSummary | undefined> {
    const row = await this.db.get<ModelRow>(
      `${MODEL_SELECT} WHERE m.name = ? AND EXISTS (SELECT 1 FROM versions v WHERE v.model_id = m.id AND ${LIVE})`,
      [name],
    );
    return row && toModel(row);
  }

  /** The model, or an error naming it and the registry. */
  async requireModel(name: string): Promise<ModelSummary> {
    const m = await this.getModel(name);
    if (!m) throw new RegistryError(`no model named '${name}' in the registry at ${this.location}`);
    return m;
  }

  // ---- versions ----

  /** A model's versions, newest first, a page at a time; archived ones only when asked for. */
  async listVersions(model: string, opts: ListOptions = {}): Promise<VersionRecord[]> {
    const q = opts.filter ? parseSearch(opts.filter) : undefined;
    const shown = versionCondition(q, opts);
    const rows = await this.db.all<VersionRow>(
      `${VERSION_SELECT} WHERE m.name = ? AND ${shown.where} ORDER BY v.number DESC LIMIT ? OFFSET ?`,
      [model, ...shown.params, opts.limit ?? NO_LIMIT, opts.offset ?? 0],
    );
    return rows.map(toVersion);
  }

  /**
   * Where a version sits in the listings above with the same options: its model's index among the
   * models and its index among the model's versions, or undefined when those options hide it.
   */
  async positionOf(
    version: VersionRecord,
    opts: Omit<ListOptions, 'offset' | 'limit'> = {},
  ): Promise<{ model: number; version: number } | undefined> {
    const shown = versionCondition(opts.filter ? parseSearch(opts.filter) : undefined, opts);
    const visible = await this.db.get(
      `SELECT 1 FROM versions v JOIN models m ON m.id = v.model_id WHERE v.id = ? AND ${shown.where}`,
      [version.id, ...shown.params],
    );
    if (!visible) return undefined;
    const models = await this.db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM models m WHERE m.name < ? AND EXISTS (SELECT 1 FROM versions v WHERE v.model_id = m.id AND ${shown.where})`,
      [version.model, ...shown.params],
    );
    const versions = await this.db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM versions v JOIN models m ON m.id = v.model_id WHERE v.model_id = ? AND v.number > ? AND ${shown.where}`,
      [version.modelId, version.number, ...shown.params],
    );
    return { model: models!.n, version: versions!.n };
  }

  /** Versions of any model matching a search, newest first. */
  async search(filter: string, opts: Omit<ListOptions, 'filter'> = {}): Promise<VersionRecord[]> {
    const shown = versionCondition(parseSearch(filter), opts);
    const rows = await this.db.all<VersionRow>(
      `${VERSION_SELECT} WHERE ${shown.where} ORDER BY v.created_at DESC, v.id DESC LIMIT ? OFFSET ?`,
      [...shown.params, opts.limit ?? NO_LIMIT, opts.offset ?? 0],
    );
    return rows.map(toVersion);
  }

  async getVersionById(id: number): Promise<VersionRecord | undefined> {
    const row = await this.db.get<VersionRow>(`${VERSION_SELECT} WHERE v.id = ?`, [id]);
    return row && toVersion(row);
  }

  /** Resolves "name@v3", "name@3", "name@production" (an alias), "name@latest" or "name" (its latest ready version). */
  async resolve(ref: string): Promise<VersionRecord> {
    const { model, number, alias } = parseRef(ref);
    const latest = `${VERSION_SELECT} WHERE m.name = ? AND v.status = 'ready' AND ${LIVE} AND v.archived_at IS NULL ORDER BY v.number DESC LIMIT 1`;
    const row =
      number !== undefined
        ? await this.db.get<VersionRow>(`${VERSION_SELECT} WHERE m.name = ? AND v.number = ? AND ${LIVE}`, [
            model,
            number,
          ])
        : alias === undefined || alias === 'latest'
          ? await this.db.get<VersionRow>(latest, [model])
          : await this.db.get<VersionRow>(
              `${VERSION_SELECT} JOIN aliases a ON a.version_id = v.id AND a.model_id = m.id WHERE m.name = ? AND a.alias = ?`,
              [model, alias],
            );
    if (!row) {
      await this.requireModel(model);
      if (number !== undefined) throw new RegistryError(`model '${model}' has no version v${number}`);
      if (alias !== undefined && alias !== 'latest') {
        const known = (await this.aliases(model)).map((a) => `${a.alias} → v${a.number}`);
        throw new RegistryError(
          `model '${model}' has no alias '${alias}'${known.length ? ` (it has ${known.join(', ')})` : ''}`,
        );
      }
      throw new RegistryError(`model '${model}' has no ready version`);
    }
    return toVersion(row);
  }

  async files(versionId: number): Promise<FileEntry[]> {
    return this.db.all<FileEntry>('SELECT path, sha256, size, role FROM files WHERE version_id = ? ORDER BY path', [
      versionId,
    ]);
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
    const r = await this.db.get<{
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
  async allSeries(versionId: number): Promise<StoredSeries[]> {
    const rows = await this.db.all<{
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
   * Reserves the next version number of a model (creating the model) as an `importing` row, so the
   * tree can show it while files are copied. Another process gets the next number, never the same.
   */
  async beginVersion(modelName: string, source: VersionSource): Promise<{ id: number; number: number }> {
    if (!MODEL_NAME.test(modelName)) {
      throw new RegistryError(
        `invalid model name '${modelName}': use letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit`,
      );
    }
    const now = new Date().toISOString();
    const result = await this.db.transaction(async (tx) => {
      const { modelId, number } = await nextVersionOf(tx, modelName, now);
      const { lastId } = await tx.run(
        `INSERT INTO versions (model_id, number, status, source_kind, source_uri, created_at, importer_pid, importer_host)
         VALUES (?, ?, 'importing', ?, ?, ?, ?, ?)`,
        [modelId, number, source.kind, source.uri, now, process.pid, os.hostname()],
      );
      return { id: lastId, number };
    });
    await this.touch();
    return result;
  }

  /** Turns an importing version into a ready one with its files, metrics and facts, all at once. */
  async completeVersion(id: number, c: VersionContent): Promise<VersionRecord> {
    await this.db.transaction(async (tx) => {
      const v = await tx.get<{ status: string; model_id: number; number: number }>(
        'SELECT status, model_id, number FROM versions WHERE id = ?',
        [id],
      );
      if (!v || v.status !== 'importing')
        throw new RegistryError(`version ${id} is not being imported (it was deleted meanwhile?)`);
      // Checked under the write lock, which gc holds while it removes objects: once this commits, gc
      // sees the references; before, a removed object is caught here instead of a broken version.
      for (const f of c.files) {
        if (!(await this.store.has(f.sha256)))
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
    await this.touch();
    return (await this.getVersionById(id))!;
  }

  /**
   * Drops an unfinished version (failed or cancelled import); a model left without versions goes too
   * unless a version of it was ever ready (its row keeps last_number, so that number is never reused).
   */
  async abandonVersion(id: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const v = await tx.get<{ model_id: number }>("SELECT model_id FROM versions WHERE id = ? AND status <> 'ready'", [
        id,
      ]);
      if (!v) return;
      await tx.run('DELETE FROM versions WHERE id = ?', [id]);
      await tx.run(`DELETE FROM models WHERE id = ? AND ${NEVER_READY}`, [v.model_id]);
    });
    await this.touch();
  }

  /**
   * Removes an import whose process died (Clean up in the tree): its row, and its temp files. Refused
   * while the import runs, or when it runs on another machine (its pid means nothing here).
   */
  async cleanUpInterrupted(id: number): Promise<void> {
    const v = await this.getVersionById(id);
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
    await this.abandonVersion(id);
    if (this.store instanceof LocalStore) await this.store.removeStaleTemp(isAlive);
  }

  /**
   * Deletes a version: hidden at once, its row and objects kept until `gc`, so `restoreVersion` can
   * undo it. Refused while an alias points at it, unless forced (the aliases go, and are recorded).
   */
  async deleteVersion(
    ref: string,
    opts: { force?: boolean } = {},
  ): Promise<{ version: VersionRecord; removedAliases: string[] }> {
    const v = await this.resolve(ref);
    const removedAliases = await this.dropAliasesOf(v, 'delete', opts.force);
    await this.db.run(`UPDATE versions SET deleted_at = ? WHERE id = ?`, [new Date().toISOString(), v.id]);
    await this.touch();
    return { version: v, removedAliases };
  }

  /** Undoes a delete (until gc runs), putting back the aliases it removed unless they moved on meanwhile. */
  async restoreVersion(id: number, aliases: string[] = []): Promise<VersionRecord> {
    const row = await this.db.get<{ deleted_at: string | null }>('SELECT deleted_at FROM versions WHERE id = ?', [id]);
    // A version that is not deleted under that id is another one: SQLite gives a freed row id out again after gc.
    if (!row || row.deleted_at === null)
      throw new RegistryError(`version ${id} is gone (gc removed it); it cannot be restored`);
    await this.db.run('UPDATE versions SET deleted_at = NULL WHERE id = ?', [id]);
    const v = (await this.getVersionById(id))!;
    const taken = new Set((await this.aliases(v.model)).map((a) => a.alias));
    for (const alias of aliases) if (!taken.has(alias)) await this.setAlias(v.ref, alias);
    await this.touch();
    return (await this.getVersionById(id))!;
  }

  /** Archive hides a version from lists and `NAME`/`@latest` without deleting anything; refused while an alias points at it unless forced. */
  async archiveVersion(
    ref: string,
    opts: { force?: boolean } = {},
  ): Promise<{ version: VersionRecord; removedAliases: string[] }> {
    const v = await this.resolve(ref);
    const removedAliases = await this.dropAliasesOf(v, 'archive', opts.force);
    await this.db.run('UPDATE versions SET archived_at = ? WHERE id = ?', [new Date().toISOString(), v.id]);
    await this.touch();
    return { version: (await this.getVersionById(v.id))!, removedAliases };
  }

  async unarchiveVersion(ref: string): Promise<VersionRecord> {
    const v = await this.resolve(ref);
    await this.db.run('UPDATE versions SET archived_at = NULL WHERE id = ?', [v.id]);
    await this.touch();
    return (await this.getVersionById(v.id))!;
  }

  private async dropAliasesOf(v: VersionRecord, action: string, force?: boolean): Promise<string[]> {
    if (v.aliases.length && !force) {
      const names = v.aliases.join(', ');
      throw new RegistryError(
        `${v.ref} is ${names}: move the alias${v.aliases.length > 1 ? 'es' : ''} first, or ${action} with force (which removes ${v.aliases.length > 1 ? 'them' : 'it'})`,
      );
    }
    for (const alias of v.aliases) await this.removeAlias(v.model, alias);
    return v.aliases;
  }

  // ---- aliases ----

  /** Points `alias` of the version's model at the version (moving it if it pointed elsewhere) and records the move. */
  async setAlias(ref: string, alias: string): Promise<AliasMove> {
    checkAlias(alias);
    const v = await this.resolve(ref);
    if (v.status !== 'ready')
      throw new RegistryError(`${v.ref} is still being imported; an alias can point only at a ready version`);
    if (v.archivedAt) throw new RegistryError(`${v.ref} is archived; unarchive it before pointing '${alias}' at it`);
    const by = await this.actor();
    const move = await this.db.transaction(async (tx) => {
      const current = await tx.get<{ number: number; version_id: number }>(
        'SELECT v.number, a.version_id FROM aliases a JOIN versions v ON v.id = a.version_id WHERE a.model_id = ? AND a.alias = ?',
        [v.modelId, alias],
      );
      const at = new Date().toISOString();
      if (current?.version_id === v.id) return { model: v.model, alias, from: v.number, to: v.number, at, by };
      await tx.run(
        'INSERT INTO aliases (model_id, alias, version_id) VALUES (?, ?, ?) ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id',
        [v.modelId, alias, v.id],
      );
      await tx.run(
        'INSERT INTO alias_history (model_id, alias, from_number, to_number, changed_at, changed_by) VALUES (?, ?, ?, ?, ?, ?)',
        [v.modelId, alias, current?.number ?? null, v.number, at, by],
      );
      return { model: v.model, alias, from: current?.number ?? null, to: v.number, at, by };
    });
    await this.touch();
    return move;
  }

  async removeAlias(model: string, alias: string): Promise<AliasMove> {
    const m = await this.requireModel(model);
    const by = await this.actor();
    const move = await this.db.transaction(async (tx) => {
      const current = await tx.get<{ number: number }>(
        'SELECT v.number FROM aliases a JOIN versions v ON v.id = a.version_id WHERE a.model_id = ? AND a.alias = ?',
        [m.id, alias],
      );
      if (!current) throw new RegistryError(`model '${model}' has no alias '${alias}'`);
      const at = new Date().toISOString();
      await tx.run('DELETE FROM aliases WHERE model_id = ? AND alias = ?', [m.id, alias]);
      await tx.run(
        'INSERT INTO alias_history (model_id, alias, from_number, to_number, changed_at, changed_by) VALUES (?, ?, ?, NULL, ?, ?)',
        [m.id, alias, current.number, at, by],
      );
      return { model, alias, from: current.number, to: null, at, by };
    });
    await this.touch();
    return move;
  }

  async aliases(model: string): Promise<{ alias: string; number: number }[]> {
    return this.db.all(
      'SELECT a.alias, v.number FROM aliases a JOIN versions v ON v.id = a.version_id JOIN models m ON m.id = a.model_id WHERE m.name = ? ORDER BY a.alias',
      [model],
    );
  }

  /** Every move of a model's aliases (or of one alias), newest first. */
  async aliasHistory(model: string, alias?: string): Promise<AliasMove[]> {
    const m = await this.requireModel(model);
    const rows = await this.db.all<{
      alias: string;
      from_number: number | null;
      to_number: number | null;
      changed_at: string;
      changed_by: string;
    }>(
      `SELECT alias, from_number, to_number, changed_at, changed_by FROM alias_history WHERE model_id = ? ${alias ? 'AND alias = ?' : ''} ORDER BY id DESC`,
      alias ? [m.id, alias] : [m.id],
    );
    return rows.map((r) => ({
      model,
      alias: r.alias,
      from: r.from_number,
      to: r.to_number,
      at: r.changed_at,
      by: r.changed_by,
    }));
  }

  private actorName?: Promise<string>;
  /** Who moves aliases: the git user of the registry's folder. */
  private actor(): Promise<string> {
    return (this.actorName ??= gitUser(this.dir));
  }

  // ---- tags and descriptions ----

  async setModelTags(model: string, tags: string[]): Promise<void> {
    const m = await this.requireModel(model);
    const clean = [...new Set(tags.map(checkTag))];
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM model_tags WHERE model_id = ?', [m.id]);
      for (const tag of clean) await tx.run('INSERT INTO model_tags (model_id, tag) VALUES (?, ?)', [m.id, tag]);
    });
    await this.touch();
  }

  async setVersionTags(ref: string, tags: string[]): Promise<void> {
    const v = await this.resolve(ref);
    const clean = [...new Set(tags.map(checkTag))];
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM version_tags WHERE version_id = ?', [v.id]);
      for (const tag of clean) await tx.run('INSERT INTO version_tags (version_id, tag) VALUES (?, ?)', [v.id, tag]);
    });
    await this.touch();
  }

  /** Every tag in use, for completion in pickers. */
  async allTags(): Promise<string[]> {
    const rows = await this.db.all<{ tag: string }>(
      'SELECT tag FROM model_tags UNION SELECT tag FROM version_tags ORDER BY tag',
    );
    return rows.map((r) => r.tag);
  }

  async setModelDescription(model: string, description: string): Promise<void> {
    const m = await this.requireModel(model);
    await this.db.run('UPDATE models SET description = ?, updated_at = ? WHERE id = ?', [
      description.trim(),
      new Date().toISOString(),
      m.id,
    ]);
    await this.touch();
  }

  async setVersionDescription(ref: string, description: string): Promise<void> {
    const v = await this.resolve(ref);
    await this.db.run('UPDATE versions SET description = ? WHERE id = ?', [description.trim(), v.id]);
    await this.touch();
  }

  // ---- clone and lineage ----

  /**
   * Copies a version into `toModel` (a new model, or the next version of an existing one) without
   * copying bytes: the new version refers to the same objects, and remembers it was cloned.
   */
  async cloneVersion(ref: string, toModel: string, opts: { description?: string } = {}): Promise<VersionRecord> {
    if (!MODEL_NAME.test(toModel))
      throw new RegistryError(
        `invalid model name '${toModel}': use letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit`,
      );
    const src = await this.resolve(ref);
    if (src.status !== 'ready')
      throw new RegistryError(`${src.ref} is still being imported; clone it once it is ready`);
    const now = new Date().toISOString();
    const id = await this.db.transaction(async (tx) => {
      const { modelId, number } = await nextVersionOf(tx, toModel, now);
      const { lastId } = await tx.run(
        `INSERT INTO versions (model_id, number, status, source_kind, source_uri, format, framework, size_bytes, file_count, parameter_count, created_at,
                               git_commit, git_branch, git_dirty, git_remote, git_subject, git_author, git_date, git_root,
                               parent_id, parent_kind, params, signature, details, description, config, template_id)
         SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), 'ready', 'clone', CAST(? AS TEXT), format, framework, size_bytes, file_count, parameter_count, CAST(? AS TEXT),
                git_commit, git_branch, git_dirty, git_remote, git_subject, git_author, git_date, git_root,
                id, 'clone', params, signature, details, CAST(? AS TEXT), config, template_id
           FROM versions WHERE id = ?`,
        [modelId, number, src.ref, now, opts.description ?? src.description, src.id],
      );
      await tx.run(
        'INSERT INTO files (version_id, path, sha256, size, role) SELECT CAST(? AS BIGINT), path, sha256, size, role FROM files WHERE version_id = ?',
        [lastId, src.id],
      );
      await tx.run(
        `INSERT INTO metrics (version_id, ${METRIC_COLUMNS}) SELECT CAST(? AS BIGINT), ${METRIC_COLUMNS} FROM metrics WHERE version_id = ?`,
        [lastId, src.id],
      );
      await tx.run(
        'INSERT INTO version_tags (version_id, tag) SELECT CAST(? AS BIGINT), tag FROM version_tags WHERE version_id = ?',
        [lastId, src.id],
      );
      await bumpModel(tx, modelId, number);
      return lastId;
    });
    await this.touch();
    return (await this.getVersionById(id))!;
  }

  // ---- copies between registries (push / pull) ----

  async versionByOrigin(origin: string): Promise<VersionRecord | undefined> {
    const row = await this.db.get<VersionRow>(`${VERSION_SELECT} WHERE v.origin = ?`, [origin]);
    return row && toVersion(row);
  }

  /** A version's metric rows as stored (packed series included), for copying them verbatim. */
  metricRows(versionId: number): Promise<StoredMetricRow[]> {
    return this.db.all<StoredMetricRow>(`SELECT ${METRIC_COLUMNS} FROM metrics WHERE version_id = ? ORDER BY key`, [
      versionId,
    ]);
  }

  /** Remembers which cross-registry identity a version has (the first one given stays). */
  async setOrigin(versionId: number, origin: string): Promise<void> {
    await this.db.run(
      'UPDATE versions SET origin = ? WHERE id = ? AND origin IS NULL AND NOT EXISTS (SELECT 1 FROM versions WHERE origin = ?)',
      [origin, versionId, origin],
    );
  }

  /**
   * Records a version copied from another registry, ready at once: everything but its number, id,
   * aliases and archive state is kept (provenance, facts, files, metric series, tags). The objects
   * must be in this registry's store already. Returns the existing copy when `origin` is here.
   */
  async addCopy(
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
    const { id, existed } = await this.db.transaction(async (tx) => {
      const existing = await tx.get<{ id: number }>('SELECT id FROM versions WHERE origin = ?', [c.origin]);
      if (existing) return { id: existing.id, existed: true };
      // Under the write lock, which gc holds while it removes objects (several checks at once: a bucket answers each in a round trip).
      await forEachLimit(c.check ?? c.files, 16, async (f) => {
        if (!(await this.store.has(f.sha256)))
          throw new RegistryError(
            `object ${f.sha256} for ${f.path} is not in the store of ${this.location}; copy again`,
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
    });
    if (!existed) await this.touch();
    return { version: (await this.getVersionById(id))!, existed };
  }

  /** The version's ancestors back to their roots and its descendants, as a graph (deleted ones included, marked). */
  async lineage(ref: string): Promise<Lineage> {
    const v = await this.resolve(ref);
    const up = await this.db.all<LineageRow>(
      `WITH RECURSIVE up(id, depth) AS (
         SELECT parent_id, 1 FROM versions WHERE id = ? AND parent_id IS NOT NULL
         UNION SELECT p.parent_id, up.depth + 1 FROM versions p JOIN up ON p.id = up.id WHERE p.parent_id IS NOT NULL AND up.depth < ?)
       ${LINEAGE_SELECT} WHERE v.id IN (SELECT id FROM up) LIMIT ?`,
      [v.id, LINEAGE_LIMIT, LINEAGE_LIMIT],
    );
    const down = await this.db.all<LineageRow>(
      `WITH RECURSIVE down(id, depth) AS (
         SELECT id, 1 FROM versions WHERE parent_id = ?
         UNION SELECT c.id, down.depth + 1 FROM versions c JOIN down ON c.parent_id = down.id WHERE down.depth < ?)
       ${LINEAGE_SELECT} WHERE v.id IN (SELECT id FROM down) LIMIT ?`,
      [v.id, LINEAGE_LIMIT, LINEAGE_LIMIT + 1],
    );
    const self = (await this.db.all<LineageRow>(`${LINEAGE_SELECT} WHERE v.id = ?`, [v.id]))[0];
    const rows = [self, ...up, ...down.slice(0, LINEAGE_LIMIT)];
    const ids = new Set(rows.map((r) => r.id));
    return {
      focus: v.id,
      nodes: rows.map(toLineageNode),
      edges: rows
        .filter((r) => r.parent_id !== null && ids.has(r.parent_id))
        .map((r) => ({ from: r.parent_id!, to: r.id, kind: r.parent_kind ?? 'derived' })),
      truncated: down.length > LINEAGE_LIMIT || up.length >= LINEAGE_LIMIT,
    };
  }

  /** Versions made directly from this one (clones, conversions, fine-tunes), oldest first. */
  async childrenOf(versionId: number, limit = 100): Promise<VersionRecord[]> {
    const rows = await this.db.all<VersionRow>(
      `${VERSION_SELECT} WHERE v.parent_id = ? AND ${LIVE} ORDER BY v.id LIMIT ?`,
      [versionId, limit],
    );
    return rows.map(toVersion);
  }

  /**
   * The registered version a training output was fine-tuned from, when its config names one: a
   * registry reference (`bert-base@production`) or the folder a version was imported from.
   */
  async findBase(names: string[]): Promise<VersionRecord | undefined> {
    for (const name of names) {
      if (path.isAbsolute(name)) {
        const row = await this.db.get<VersionRow>(
          `${VERSION_SELECT} WHERE v.source_uri = ? AND v.status = 'ready' AND ${LIVE} ORDER BY v.id DESC LIMIT 1`,
          [path.resolve(name)],
        );
        if (row) return toVersion(row);
        continue;
      }
      try {
        return await this.resolve(name);
      } catch (e) {
        if (!(e instanceof RegistryError)) throw e; // not a registry name: a hub id such as bert-base-uncased
      }
    }
    return undefined;
  }

  /** True when some stored file has this size: a new file of that size may well be a duplicate. */
  async hasObjectOfSize(size: number): Promise<boolean> {
    return !!(await this.db.get('SELECT 1 FROM files WHERE size = ? LIMIT 1', [size]));
  }

  // ---- maintenance ----

  /**
   * Removes versions left `importing` by processes that died, then every object no version refers
   * to, and the temp files of processes that died. Imports running right now are safe: gc reads them
   * under the write lock, which beginVersion takes too, so an import either began before (and its
   * fresh objects are spared) or waits until gc has finished.
   */
  async gc(
    opts: { sharedGraceMs?: number } = {},
  ): Promise<{ removedObjects: number; removedBytes: number; removedVersions: number; removedEvaluations: number }> {
    const host = os.hostname();
    const store = this.store;
    const shared = !(store instanceof LocalStore);
    const result = await this.db.transaction(async (tx) => {
      // Deleted versions go for good now; their numbers stay used (models.last_number).
      let removedVersions = (await tx.run('DELETE FROM versions WHERE deleted_at IS NOT NULL')).changes;
      const importing = await tx.all<{
        id: number;
        importer_pid: number | null;
        importer_host: string | null;
        created_at: string;
      }>("SELECT id, importer_pid, importer_host, created_at FROM versions WHERE status <> 'ready'");
      let liveSince: number | undefined;
      for (const v of importing) {
        const alive = v.importer_host === host && v.importer_pid !== null && isAlive(v.importer_pid);
        if (alive || v.importer_host !== host) {
          // A live import (or one on another machine sharing this folder): keep it and its fresh objects.
          const t = Date.parse(v.created_at);
          liveSince = liveSince === undefined ? t : Math.min(liveSince, t);
        } else {
          await tx.run('DELETE FROM versions WHERE id = ?', [v.id]);
          removedVersions++;
        }
      }
      // Evaluations whose process died on this host (a live one, or one elsewhere, is kept); samples go too.
      const evaluating = await tx.all<{ id: number; runner_pid: number; runner_host: string }>(
        "SELECT id, runner_pid, runner_host FROM evaluations WHERE status <> 'done' AND runner_pid IS NOT NULL AND runner_host = ?",
        [host],
      );
      const deadEvaluations = evaluating.filter((e) => !isAlive(e.runner_pid));
      for (const e of deadEvaluations) {
        await tx.run('DELETE FROM evaluation_samples WHERE evaluation_id = ?', [e.id]);
        await tx.run('DELETE FROM evaluations WHERE id = ?', [e.id]);
      }
      // A model goes only if it never had a ready version: the others keep their row and its last number.
      await tx.run(`DELETE FROM models WHERE ${NEVER_READY}`);
      // A team registry's bucket: a push from another machine leaves no row until it commits, so its
      // objects are spared for a while (an hour unless told otherwise).
      // (A second of slack for the live imports: file times are coarser than their start times.)
      const spareFrom = Math.min(
        liveSince === undefined ? Infinity : liveSince - 1000,
        shared ? Date.now() - (opts.sharedGraceMs ?? SHARED_STORE_GRACE_MS) : Infinity,
      );
      // Objects go under the write lock, so no version can complete with a reference to one meanwhile.
      const referenced = new Set(
        (await tx.all<{ sha256: string }>('SELECT sha256 FROM files UNION SELECT manifest_sha256 FROM datasets')).map(
          (r) => r.sha256,
        ),
      );
      let removedObjects = 0;
      let removedBytes = 0;
      for await (const sha of store.list()) {
        if (referenced.has(sha)) continue;
        if (spareFrom !== Infinity) {
          // A live import may have written (or reused: the local store refreshes mtime) this object.
          const modified = await store.modifiedMs(sha);
          if (modified !== undefined && modified >= spareFrom) continue;
        }
        removedBytes += await store.remove(sha);
        removedObjects++;
      }
      return { removedObjects, removedBytes, removedVersions, removedEvaluations: deadEvaluations.length };
    });
    // Temp files are named by their process: a live one's are never touched, so no lock is needed.
    if (!shared) await store.removeStaleTemp(isAlive);
    if (result.removedVersions || result.removedObjects) await this.touch();
    return result;
  }

  /** Re-hashes every referenced object and reports the missing and the corrupt ones. */
  async verify(
    opts: { signal?: AbortSignal; onObject?: (done: number, total: number) => void } = {},
  ): Promise<{ checked: number; problems: VerifyProblem[] }> {
    const store = this.localStore('verify');
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
      const p = store.objectPath(sha);
      const exists = await fsp.stat(p).then(
        () => true,
        () => false,
      );
      if (!exists) problems.push({ sha256: sha, problem: 'missing', usedBy });
      else if ((await hashFile(p, { signal: opts.signal })).sha256 !== sha)
        problems.push({ sha256: sha, problem: 'corrupt', usedBy });
      opts.onObject?.(++done, users.size);
    }
    return { checked: users.size, problems };
  }
}

/** "name", "name@v3", "name@3" or "name@alias". */
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

function checkAlias(alias: string): void {
  if (!ALIAS_NAME.test(alias) || /^v?\d+$/.test(alias)) {
    throw new RegistryError(
      `invalid alias '${alias}': start with a letter, then letters, digits, '.', '_' or '-' (at most 64); not a version number such as v3`,
    );
  }
  if (alias === 'latest')
    throw new RegistryError("'latest' is reserved: NAME@latest always means the newest ready version");
}

function checkTag(tag: string): string {
  const t = tag.trim();
  // eslint-disable-next-line no-control-regex -- tags refuse control characters
  if (!t || t.length > MAX_TAG || /[,\x00-\x1f]/.test(t))
    throw new RegistryError(`invalid tag '${tag}': 1 to ${MAX_TAG} characters, no commas or control characters`);
  return t;
}

/** The model (created if new) and its next version number: never one a deleted version had (last_number survives gc). */
async function nextVersionOf(tx: SqlDb, modelName: string, now: string): Promise<{ modelId: number; number: number }> {
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
function gitColumns(g: GitProvenance | null | undefined): SqlValue[] {
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
async function bumpModel(tx: SqlDb, modelId: number, number: number): Promise<void> {
  await tx.run(
    'UPDATE models SET updated_at = ?, last_number = CASE WHEN last_number > ? THEN last_number ELSE ? END WHERE id = ?',
    [new Date().toISOString(), number, number, modelId],
  );
}

/** Which versions a listing shows: live ones, not archived unless asked, matching the search. */
function versionCondition(q: SearchQuery | undefined, opts: ListOptions): { where: string; params: SqlValue[] } {
  const archived = opts.includeArchived || q?.includeArchived ? '' : ' AND v.archived_at IS NULL';
  return { where: `${LIVE}${archived}${q ? ` AND ${q.where}` : ''}`, params: q?.params ?? [] };
}

const isAlive = isProcessAlive;

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

function toSeries(r: {
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

interface ModelRow {
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

function toModel(r: ModelRow): ModelSummary {
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
const MODEL_COLUMNS = `SELECT m.*,
  (SELECT COUNT(*) FROM versions v WHERE v.model_id = m.id AND ${LIVE} AND v.archived_at IS NULL) AS version_count,
  (SELECT COUNT(*) FROM versions v WHERE v.model_id = m.id AND ${LIVE} AND v.archived_at IS NOT NULL) AS archived_count,
  (SELECT MAX(number) FROM versions v WHERE v.model_id = m.id AND ${LIVE} AND v.archived_at IS NULL) AS latest_version,
  (SELECT group_concat(tag, char(31)) FROM model_tags t WHERE t.model_id = m.id) AS tags`;
const MODEL_SELECT = `${MODEL_COLUMNS} FROM models m`;

const VERSION_SELECT = `SELECT v.*, m.name AS model_name,
  (SELECT group_concat(tag, char(31)) FROM version_tags t WHERE t.version_id = v.id) AS tags,
  (SELECT group_concat(alias, char(31)) FROM aliases a WHERE a.version_id = v.id) AS aliases
  FROM versions v JOIN models m ON m.id = v.model_id`;

const LINEAGE_SELECT = `SELECT v.id, v.number, v.format, v.git_commit, v.git_subject, v.created_at, v.deleted_at, v.parent_id, v.parent_kind, m.name AS model_name
  FROM versions v JOIN models m ON m.id = v.model_id`;

interface LineageRow {
  id: number;
  number: number;
  format: string | null;
  git_commit: string | null;
  git_subject: string | null;
  created_at: string;
  deleted_at: string | null;
  parent_id: number | null;
  parent_kind: string | null;
  model_name: string;
}

function toLineageNode(r: LineageRow): LineageNode {
  return {
    id: r.id,
    ref: `${r.model_name}@v${r.number}`,
    model: r.model_name,
    number: r.number,
    format: r.format,
    commit: r.git_commit,
    subject: r.git_subject,
    createdAt: r.created_at,
    deleted: r.deleted_at !== null,
  };
}

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
  aliases: string | null;
  archived_at: string | null;
  parent_kind: string | null;
  origin: string | null;
  importer_pid: number | null;
  importer_host: string | null;
}

const METRIC_COLUMNS =
  'key, source, point_count, final_value, final_step, final_is_best, step_data, value_data, wall_time_data';

interface MetricRow {
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

import { promises as fsp } from 'fs';
import * as path from 'path';
import { LocalStore } from '../store/localStore';
import { ObjectStore } from '../store/types';
import * as aliases from './aliases';
import { RegistryCore } from './core';
import * as datasets from './datasets';
import { DatasetManifest, DatasetRecord } from './datasetTypes';
import { SqliteDb } from './db';
import * as evaluations from './evaluations';
import * as examples from './examples';
import { EvaluationRecord, EvaluationResults, SamplePrediction } from './evaluationTypes';
import * as imports from './imports';
import { VersionContent } from './imports';
import * as lineage from './lineage';
import * as maintenance from './maintenance';
import { VerifyProblem } from './maintenance';
import * as models from './models';
import * as progress from './progress';
import { RegistryProgress } from './progress';
import { PgDb } from './pgDb';
import * as remoteObjects from './remoteObjects';
import { RemoteObject } from './remoteObjects';
import * as replication from './replication';
import * as runs from './runs';
import { NewRun, RunEnd, RunRecord } from './runTypes';
import { checkAlias, StoredMetricRow } from './rows';
import {
  AliasMove,
  FileEntry,
  FinalMetric,
  Lineage,
  ListOptions,
  ModelSummary,
  StoredSeries,
  VersionRecord,
  VersionExample,
  VersionSource,
} from './types';
import { exampleComparison, explainNoMatch, metricTerms, parseSearch } from './search';
import * as versions from './versions';

export type { VersionContent } from './imports';
export { SHARED_STORE_GRACE_MS } from './maintenance';
export type { VerifyProblem } from './maintenance';
export type { RegistryProgress } from './progress';
export { parseRef } from './rows';
export type { StoredMetricRow } from './rows';
export type { NewRun, ParamValue, RunEnd, RunRecord, RunStatus } from './runTypes';

/**
 * A registry: metadata in SQL, file contents in a content-addressed store. The folder layout is
 * `<dir>/registry.db` and `<dir>/objects/`. Every write ends by touching `<dir>/last-change` so that
 * other processes (the extension watching a registry the CLI changed) can refresh.
 *
 * This class is the facade callers use; the SQL lives in the modules beside it (one per concern),
 * over a core that holds the connection and the one write path (core.ts). The connection is private:
 * nothing outside `src/core/registry/` runs SQL. The object store stays public: reading and adding
 * objects is file work, and an object no version (or dataset) refers to changes nothing anyone sees
 * until a write here records it, which stamps the change.
 */
export class Registry<S extends ObjectStore = LocalStore> {
  readonly #core: RegistryCore<S>;

  private constructor(core: RegistryCore<S>) {
    this.#core = core;
  }

  /**
   * Opens (creating if needed) the registry in `dir`. The store uses only folders this registry made
   * (see LocalStore.init): a folder of the user's given as `dir` keeps its files, gc or not.
   */
  static async open(dir: string): Promise<Registry> {
    await fsp.mkdir(dir, { recursive: true });
    const dbFile = path.join(dir, 'registry.db');
    const existed = (await fsp.stat(dbFile).catch(() => undefined))?.isFile() ?? false;
    const store = new LocalStore(dir);
    const core = await RegistryCore.open(dir, await SqliteDb.open(dbFile), store, dir);
    try {
      // A registry from before identities adopts the folders it made back then; a new one only makes its own.
      await store.init({ id: core.id, adopt: existed && core.identityIsNew });
    } catch (e) {
      await core.close();
      throw e;
    }
    return new Registry(core);
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
    return new Registry(await RegistryCore.open(workDir, db, store, db.where));
  }

  /** The local folder: the registry itself, or a team registry's local working folder (temp files, logs). */
  get dir(): string {
    return this.#core.dir;
  }
  /** The object store (files by SHA-256); see the class comment for why it is public. */
  get store(): S {
    return this.#core.store;
  }
  /** What messages call this registry: its folder, or the team database's address. */
  get location(): string {
    return this.#core.location;
  }
  /** The registry's identity, kept in its database (and, for a local one, in its folder's marker). */
  get id(): string {
    return this.#core.id;
  }
  /** The file every write stamps; other windows watch it. */
  get changeStamp(): string {
    return this.#core.changeStamp;
  }
  /** What this process last wrote to the change stamp: a watcher can tell its own changes from others'. */
  get lastStamp(): string | undefined {
    return this.#core.lastStamp;
  }
  /** Calls `onChange` with each change another connection announces (a team registry; undefined for a local one). */
  watch(onChange: (stamp: string) => void, retryMs?: number): Promise<(() => Promise<void>) | undefined> {
    return this.#core.watch(onChange, retryMs);
  }

  close(): Promise<void> {
    return this.#core.close();
  }

  // ---- models (models.ts) ----

  /** Models in name order, a page at a time; with a filter, only those with a matching version. */
  listModels(opts: ListOptions = {}): Promise<ModelSummary[]> {
    return models.listModels(this.#core, opts);
  }
  /** How many models have a version that is not deleted (what the status bar shows). */
  countModels(): Promise<number> {
    return models.countModels(this.#core);
  }
  /** What the registry holds of the first-hour loop: imported, a v2, an alias, a conversion, a dataset, an evaluation. */
  progress(): Promise<RegistryProgress> {
    return progress.progress(this.#core);
  }
  getModel(name: string): Promise<ModelSummary | undefined> {
    return models.getModel(this.#core, name);
  }
  /** The model, or an error naming it and the registry. */
  requireModel(name: string): Promise<ModelSummary> {
    return models.requireModel(this.#core, name);
  }
  setModelTags(model: string, tags: string[]): Promise<void> {
    return models.setModelTags(this.#core, model, tags);
  }
  setModelDescription(model: string, description: string): Promise<void> {
    return models.setModelDescription(this.#core, model, description);
  }
  /** Every tag in use, for completion in pickers. */
  allTags(): Promise<string[]> {
    return models.allTags(this.#core);
  }

  // ---- versions (versions.ts) ----

  /** A model's versions, newest first, a page at a time; archived ones only when asked for. */
  listVersions(model: string, opts: ListOptions = {}): Promise<VersionRecord[]> {
    return versions.listVersions(this.#core, model, opts);
  }
  /** Where a version sits in listModels/listVersions with these options, or undefined when they hide it. */
  positionOf(
    version: VersionRecord,
    opts: Omit<ListOptions, 'offset' | 'limit'> = {},
  ): Promise<{ model: number; version: number } | undefined> {
    return versions.positionOf(this.#core, version, opts);
  }
  /** Versions of any model matching a search, newest first. */
  search(filter: string, opts: Omit<ListOptions, 'filter'> = {}): Promise<VersionRecord[]> {
    return versions.search(this.#core, filter, opts);
  }
  /** Ready versions imported from `sourceUri`, then the `recent` newest ready ones (see modelCandidates.ts). */
  importEvidence(sourceUri: string, recent: number): Promise<VersionRecord[]> {
    return versions.importEvidence(this.#core, sourceUri, recent);
  }
  /** Why a search shows nothing (no such metric, with the nearest names; no value passes, with the best there is). */
  async explainNoMatch(filter: string, opts: { includeArchived?: boolean } = {}): Promise<string> {
    const includeArchived = opts.includeArchived || parseSearch(filter).includeArchived;
    const keys = await versions.metricKeys(this.#core);
    const asked = [...new Set(metricTerms(filter).map((t) => t.key))];
    return explainNoMatch(filter, keys, await versions.metricRanges(this.#core, asked, { includeArchived }));
  }
  /** A metric comparison that matches a version here (the filter's placeholder), or undefined without metrics. */
  async exampleComparison(): Promise<string | undefined> {
    const keys = await versions.metricKeys(this.#core);
    // A quality metric if there is one: a few ranges are enough to pick from.
    const preferred = [...keys.filter((k) => /acc|f1|auc|map/i.test(k)), ...keys].slice(0, 5);
    return exampleComparison(await versions.metricRanges(this.#core, [...new Set(preferred)]));
  }
  getVersionById(id: number): Promise<VersionRecord | undefined> {
    return versions.getVersionById(this.#core, id);
  }
  /** Resolves "name@v3", "name@3", "name@production" (an alias), "name@latest" or "name" (its latest ready version). */
  resolve(ref: string): Promise<VersionRecord> {
    return versions.resolve(this.#core, ref);
  }
  files(versionId: number): Promise<FileEntry[]> {
    return versions.files(this.#core, versionId);
  }
  finalMetrics(versionId: number): Promise<FinalMetric[]> {
    return versions.finalMetrics(this.#core, versionId);
  }
  metricSeries(versionId: number, key: string): Promise<StoredSeries | undefined> {
    return versions.metricSeries(this.#core, versionId, key);
  }
  /** Every metric series of a version, read in one query. */
  allSeries(versionId: number): Promise<StoredSeries[]> {
    return versions.allSeries(this.#core, versionId);
  }
  /** Deletes a version (undoable until gc); refused while an alias points at it, unless forced. */
  deleteVersion(
    ref: string,
    opts: { force?: boolean } = {},
  ): Promise<{ version: VersionRecord; removedAliases: string[] }> {
    return versions.deleteVersion(this.#core, ref, opts);
  }
  /** Undoes a delete (until gc runs), putting back the aliases it removed unless they moved on meanwhile. */
  restoreVersion(id: number, aliases: string[] = []): Promise<VersionRecord> {
    return versions.restoreVersion(this.#core, id, aliases);
  }
  /** Hides a version from lists and `NAME`/`@latest` without deleting anything. */
  archiveVersion(
    ref: string,
    opts: { force?: boolean } = {},
  ): Promise<{ version: VersionRecord; removedAliases: string[] }> {
    return versions.archiveVersion(this.#core, ref, opts);
  }
  unarchiveVersion(ref: string): Promise<VersionRecord> {
    return versions.unarchiveVersion(this.#core, ref);
  }
  setVersionTags(ref: string, tags: string[]): Promise<void> {
    return versions.setVersionTags(this.#core, ref, tags);
  }
  setVersionDescription(ref: string, description: string): Promise<void> {
    return versions.setVersionDescription(this.#core, ref, description);
  }
  /** True when some stored file has this size: a new file of that size may well be a duplicate. */
  hasObjectOfSize(size: number): Promise<boolean> {
    return versions.hasObjectOfSize(this.#core, size);
  }

  // ---- imports (imports.ts) ----

  /** Reserves the next version number of a model (creating the model) as an `importing` row. */
  beginVersion(modelName: string, source: VersionSource): Promise<{ id: number; number: number }> {
    return imports.beginVersion(this.#core, modelName, source);
  }
  /** Turns an importing version into a ready one with its files, metrics and facts, all at once. */
  completeVersion(id: number, c: VersionContent): Promise<VersionRecord> {
    return imports.completeVersion(this.#core, id, c);
  }
  /** Drops an unfinished version (failed or cancelled import). */
  abandonVersion(id: number): Promise<void> {
    return imports.abandonVersion(this.#core, id);
  }
  /** Removes an import whose process died (Clean up in the tree): its row, and its temp files. */
  cleanUpInterrupted(id: number): Promise<void> {
    return imports.cleanUpInterrupted(this.#core, id);
  }

  // ---- aliases (aliases.ts) ----

  /** Points `alias` of the version's model at the version (moving it if it pointed elsewhere) and records the move. */
  async setAlias(ref: string, alias: string): Promise<AliasMove> {
    checkAlias(alias); // a bad alias is told before a bad reference
    return aliases.setAlias(this.#core, await this.resolve(ref), alias);
  }
  removeAlias(model: string, alias: string): Promise<AliasMove> {
    return aliases.removeAlias(this.#core, model, alias);
  }
  aliases(model: string): Promise<{ alias: string; number: number }[]> {
    return aliases.aliasesOf(this.#core, model);
  }
  /** Every move of a model's aliases (or of one alias), newest first. */
  aliasHistory(model: string, alias?: string): Promise<AliasMove[]> {
    return aliases.aliasHistory(this.#core, model, alias);
  }

  // ---- examples (examples.ts; replayed by src/core/serve/examples.ts) ----

  /** Keeps a request and the version's answer under `name`; an existing name is refused unless `replace`. */
  async saveExample(
    ref: string,
    e: Pick<VersionExample, 'name' | 'request' | 'response'>,
    opts: { replace?: boolean } = {},
  ): Promise<VersionExample> {
    return examples.saveExample(this.#core, await this.resolve(ref), e, opts);
  }
  /** The version's examples in name order. */
  examples(versionId: number): Promise<VersionExample[]> {
    return examples.listExamples(this.#core, versionId);
  }
  async removeExample(ref: string, name: string): Promise<void> {
    return examples.removeExample(this.#core, await this.resolve(ref), name);
  }

  // ---- clones and lineage (lineage.ts) ----

  /** Copies a version into `toModel` without copying bytes; the new version remembers it was cloned. */
  cloneVersion(ref: string, toModel: string, opts: { description?: string } = {}): Promise<VersionRecord> {
    return lineage.cloneVersion(this.#core, ref, toModel, opts);
  }
  /** The version's ancestors back to their roots and its descendants, as a graph (deleted ones included, marked). */
  lineage(ref: string): Promise<Lineage> {
    return lineage.lineage(this.#core, ref);
  }
  /** Versions made directly from this one (clones, conversions, fine-tunes), oldest first. */
  childrenOf(versionId: number, limit = 100): Promise<VersionRecord[]> {
    return lineage.childrenOf(this.#core, versionId, limit);
  }
  /** The registered version a training output was fine-tuned from, when its config names one. */
  findBase(names: string[]): Promise<VersionRecord | undefined> {
    return lineage.findBase(this.#core, names);
  }

  // ---- copies between registries (replication.ts) ----

  versionByOrigin(origin: string): Promise<VersionRecord | undefined> {
    return replication.versionByOrigin(this.#core, origin);
  }
  /** A version's metric rows as stored (packed series included), for copying them verbatim. */
  metricRows(versionId: number): Promise<StoredMetricRow[]> {
    return replication.metricRows(this.#core, versionId);
  }
  /** Remembers which cross-registry identity a version has (the first one given stays). */
  setOrigin(versionId: number, origin: string): Promise<void> {
    return replication.setOrigin(this.#core, versionId, origin);
  }
  /** Records a version copied from another registry (objects already in this store); the existing copy when `origin` is here. */
  addCopy(
    v: VersionRecord,
    c: Parameters<typeof replication.addCopy>[2],
  ): Promise<{ version: VersionRecord; existed: boolean }> {
    return replication.addCopy(this.#core, v, c);
  }
  /** True when the version is deleted (hidden, waiting for gc). */
  isDeleted(versionId: number): Promise<boolean> {
    return replication.isDeleted(this.#core, versionId);
  }

  // ---- maintenance (maintenance.ts) ----

  /** Removes deleted and dead versions, dead evaluations, unreferenced objects and dead processes' temp files. */
  gc(
    opts: { sharedGraceMs?: number } = {},
  ): Promise<{ removedObjects: number; removedBytes: number; removedVersions: number; removedEvaluations: number }> {
    return maintenance.gc(this.#core, opts);
  }
  /** Re-hashes every referenced object and reports the missing and the corrupt ones. */
  verify(
    opts: { signal?: AbortSignal; onObject?: (done: number, total: number) => void } = {},
  ): Promise<{ checked: number; problems: VerifyProblem[] }> {
    return maintenance.verify(this.#core, opts);
  }

  // ---- datasets (datasets.ts) ----

  /** Stores the manifest and records the dataset; the same name and content again returns the existing record. */
  addDataset(
    name: string,
    root: string,
    manifest: DatasetManifest,
    details: Record<string, unknown> = {},
  ): Promise<DatasetRecord> {
    return datasets.addDataset(this.#core, name, root, manifest, details);
  }
  /** The newest registration of each dataset name. */
  listDatasets(): Promise<DatasetRecord[]> {
    return datasets.listDatasets(this.#core);
  }
  /** A dataset by name (its newest registration) or "name@<manifest sha prefix>". */
  getDataset(ref: string): Promise<DatasetRecord> {
    return datasets.getDataset(this.#core, ref);
  }
  getDatasetById(id: number): Promise<DatasetRecord | undefined> {
    return datasets.getDatasetById(this.#core, id);
  }
  readManifest(d: DatasetRecord): Promise<DatasetManifest> {
    return datasets.readManifest(this.#core, d);
  }

  // ---- evaluations (evaluations.ts) ----

  /** Records a running evaluation (with this process, so gc can tell a killed one); returns its id. */
  beginEvaluation(e: Parameters<typeof evaluations.beginEvaluation>[1]): Promise<number> {
    return evaluations.beginEvaluation(this.#core, e);
  }
  /** Stores per-sample outcomes of a running evaluation. */
  addEvaluationSamples(evaluationId: number, rows: SamplePrediction[]): Promise<void> {
    return evaluations.addEvaluationSamples(this.#core, evaluationId, rows);
  }
  /** Stores a running detection evaluation's per-image box outcomes. */
  addEvaluationImages(evaluationId: number, rows: Parameters<typeof evaluations.addEvaluationImages>[2]): Promise<void> {
    return evaluations.addEvaluationImages(this.#core, evaluationId, rows);
  }
  /** A detection evaluation's images with their box outcomes, a page at a time. */
  evaluationImages(
    evaluationId: number,
    opts: Parameters<typeof evaluations.evaluationImages>[2] = {},
  ): ReturnType<typeof evaluations.evaluationImages> {
    return evaluations.evaluationImages(this.#core, evaluationId, opts);
  }
  completeEvaluation(id: number, r: EvaluationResults): Promise<EvaluationRecord> {
    return evaluations.completeEvaluation(this.#core, id, r);
  }
  /** A failed or cancelled evaluation leaves nothing: its row and samples go. */
  dropEvaluation(id: number): Promise<void> {
    return evaluations.dropEvaluation(this.#core, id);
  }
  getEvaluation(id: number): Promise<EvaluationRecord | undefined> {
    return evaluations.getEvaluation(this.#core, id);
  }
  /** A version's finished evaluations, newest first. */
  evaluationsOf(versionId: number): Promise<EvaluationRecord[]> {
    return evaluations.evaluationsOf(this.#core, versionId);
  }
  /** Whether a version has a finished evaluation (the tree asks on every expand; no rows are read). */
  hasEvaluations(versionId: number): Promise<boolean> {
    return evaluations.hasEvaluations(this.#core, versionId);
  }
  /** Samples of an evaluation, most confident first, optionally one confusion cell, the wrong ones or the failed ones. */
  evaluationSamples(
    evaluationId: number,
    filter: Parameters<typeof evaluations.evaluationSamples>[2] = {},
  ): Promise<SamplePrediction[]> {
    return evaluations.evaluationSamples(this.#core, evaluationId, filter);
  }

  // ---- training runs (runs.ts; the work itself is in src/core/train) ----

  /** Records new runs, queued. */
  insertRuns(rs: NewRun[]): Promise<void> {
    return runs.insertRuns(this.#core, rs);
  }
  getRun(id: string): Promise<RunRecord | undefined> {
    return runs.getRun(this.#core, id);
  }
  /** The run, or an error naming it (and runs with a similar id). */
  requireRun(id: string): Promise<RunRecord> {
    return runs.requireRun(this.#core, id);
  }
  /** Runs newest first (a batch's in the order they were queued); runs whose runner died are marked failed first. */
  async listRuns(opts: Parameters<typeof runs.listRuns>[1] = {}): Promise<RunRecord[]> {
    await runs.failOrphanedRuns(this.#core);
    return runs.listRuns(this.#core, opts);
  }
  /** The runner of a batch records its process. */
  setRunner(batch: string, pid: number): Promise<void> {
    return runs.setRunner(this.#core, batch, pid);
  }
  /** Queued → running; false when a stop took the run first. */
  claimRun(id: string, devices: string | null): Promise<boolean> {
    return runs.claimRun(this.#core, id, devices);
  }
  setRunPid(id: string, pid: number): Promise<void> {
    return runs.setRunPid(this.#core, id, pid);
  }
  setRunDetails(id: string, details: Record<string, unknown>): Promise<void> {
    return runs.setRunDetails(this.#core, id, details);
  }
  /** Ends a run that has not ended; false when something else ended it first. */
  endRun(id: string, end: RunEnd): Promise<boolean> {
    return runs.endRun(this.#core, id, end);
  }
  markStopRequested(id: string): Promise<void> {
    return runs.markStopRequested(this.#core, id);
  }
  /** A copy of an ended run, queued in a batch of its own (Retry). */
  requeueRun(id: string, fresh: Pick<RunRecord, 'id' | 'batch' | 'log' | 'argv' | 'env' | 'output'>): Promise<void> {
    return runs.requeueRun(this.#core, id, fresh);
  }

  // ---- remote objects (remoteObjects.ts) ----

  /** The stored object a bucket's key held with this ETag and size, if it was downloaded before. */
  knownRemoteObject(o: RemoteObject): Promise<string | undefined> {
    return remoteObjects.knownRemoteObject(this.#core, o);
  }
  /** Remembers what a bucket's key held when downloaded. */
  rememberRemoteObject(o: RemoteObject, sha256: string): Promise<void> {
    return remoteObjects.rememberRemoteObject(this.#core, o, sha256);
  }
}

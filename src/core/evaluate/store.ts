/** Datasets and evaluations in the registry database; dataset manifests as objects in the store. */
import { promises as fsp } from 'fs';
import * as os from 'os';
import { RegistryError } from '../errors';
import { Registry } from '../registry/registry';
import { ObjectStore } from '../store/types';
import { DatasetKind, DatasetManifest, DatasetRecord } from '../datasets/types';
import { ClassMetrics, EvaluationRecord, EvaluationStatus, SamplePrediction } from './types';

const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

interface DatasetRow {
  id: number;
  name: string;
  kind: string;
  root: string;
  manifest_sha256: string;
  sample_count: number;
  classes: string;
  splits: string;
  created_at: string;
  details: string;
}

const toDataset = (r: DatasetRow): DatasetRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind as DatasetKind,
  root: r.root,
  manifestSha256: r.manifest_sha256,
  sampleCount: r.sample_count,
  classes: JSON.parse(r.classes),
  splits: JSON.parse(r.splits),
  createdAt: r.created_at,
  details: JSON.parse(r.details),
});

/** Stores the manifest and records the dataset; the same name and content again returns the existing record. */
export async function addDataset(
  registry: Registry,
  name: string,
  root: string,
  manifest: DatasetManifest,
  details: Record<string, unknown> = {},
): Promise<DatasetRecord> {
  if (!DATASET_NAME.test(name))
    throw new RegistryError(
      `invalid dataset name '${name}': use letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  const bytes = Buffer.from(JSON.stringify(manifest));
  const { sha256 } = await registry.store.ingestStream([bytes]);
  await registry.db.run(
    `INSERT INTO datasets (name, kind, root, manifest_sha256, sample_count, classes, splits, created_at, details)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, manifest_sha256) DO NOTHING`,
    [
      name,
      manifest.kind,
      root,
      sha256,
      manifest.samples.length,
      JSON.stringify(manifest.classes),
      JSON.stringify(manifest.splits),
      new Date().toISOString(),
      JSON.stringify(details),
    ],
  );
  await registry.touch(); // the Datasets view of an open window refreshes
  return (await registry.db
    .get<DatasetRow>('SELECT * FROM datasets WHERE name = ? AND manifest_sha256 = ?', [name, sha256])
    .then((r) => r && toDataset(r)))!;
}

/** The newest registration of each dataset name. */
export async function listDatasets(registry: Registry): Promise<DatasetRecord[]> {
  const rows = await registry.db.all<DatasetRow>(
    'SELECT * FROM datasets d WHERE id = (SELECT MAX(id) FROM datasets WHERE name = d.name) ORDER BY name',
  );
  return rows.map(toDataset);
}

/** A dataset by name (its newest registration) or "name@<manifest sha prefix>". */
export async function getDataset(registry: Registry, ref: string): Promise<DatasetRecord> {
  const [name, sha] = ref.split('@');
  const row = sha
    ? await registry.db.get<DatasetRow>(
        "SELECT * FROM datasets WHERE name = ? AND manifest_sha256 LIKE ? || '%' ORDER BY id DESC",
        [name, sha],
      )
    : await registry.db.get<DatasetRow>('SELECT * FROM datasets WHERE name = ? ORDER BY id DESC', [name]);
  if (!row) {
    const known = (await listDatasets(registry)).map((d) => d.name);
    throw new RegistryError(
      `no dataset '${ref}'${known.length ? ` (datasets: ${known.join(', ')})` : '; register one with modelreg dataset add PATH'}`,
    );
  }
  return toDataset(row);
}

export async function getDatasetById(registry: Registry, id: number): Promise<DatasetRecord | undefined> {
  const row = await registry.db.get<DatasetRow>('SELECT * FROM datasets WHERE id = ?', [id]);
  return row && toDataset(row);
}

export async function readManifest(registry: Registry, d: DatasetRecord): Promise<DatasetManifest> {
  return JSON.parse(await fsp.readFile(registry.store.objectPath(d.manifestSha256), 'utf8')) as DatasetManifest;
}

// ---- evaluations ----

interface EvaluationRow {
  id: number;
  version_id: number;
  model: string;
  number: number;
  dataset_id: number;
  dataset_name: string;
  manifest_sha256: string;
  classes: string;
  split: string | null;
  evaluator: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  git_commit: string | null;
  git_dirty: number | null;
  sample_count: number;
  error_count: number;
  metrics: string;
  per_class: string;
  confusion: string;
  details: string;
}

const EVALUATION_SELECT = `SELECT e.*, m.name AS model, v.number, d.name AS dataset_name, d.manifest_sha256, d.classes
  FROM evaluations e JOIN versions v ON v.id = e.version_id JOIN models m ON m.id = v.model_id JOIN datasets d ON d.id = e.dataset_id`;

const toEvaluation = (r: EvaluationRow): EvaluationRecord => ({
  id: r.id,
  versionId: r.version_id,
  ref: `${r.model}@v${r.number}`,
  datasetId: r.dataset_id,
  datasetName: r.dataset_name,
  datasetSha256: r.manifest_sha256,
  split: r.split,
  evaluator: r.evaluator,
  status: r.status as EvaluationStatus,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  git: r.git_commit ? { commit: r.git_commit, dirty: !!r.git_dirty } : null,
  sampleCount: r.sample_count,
  errorCount: r.error_count,
  metrics: JSON.parse(r.metrics),
  perClass: JSON.parse(r.per_class),
  confusion: JSON.parse(r.confusion),
  classes: JSON.parse(r.classes),
  details: JSON.parse(r.details),
});

export async function beginEvaluation(
  registry: Registry,
  e: {
    versionId: number;
    datasetId: number;
    split: string | null;
    evaluator: string;
    git: { commit: string; dirty: boolean } | null;
  },
): Promise<number> {
  const { lastId } = await registry.db.run(
    // The running process is recorded so gc can tell a killed evaluation from a live one.
    `INSERT INTO evaluations (version_id, dataset_id, split, evaluator, status, started_at, git_commit, git_dirty, runner_pid, runner_host)
     VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)`,
    [
      e.versionId,
      e.datasetId,
      e.split,
      e.evaluator,
      new Date().toISOString(),
      e.git?.commit ?? null,
      e.git ? (e.git.dirty ? 1 : 0) : null,
      process.pid,
      os.hostname(),
    ],
  );
  return lastId;
}

/** Stores per-sample outcomes (multi-row inserts in one transaction). */
export async function addEvaluationSamples(
  registry: Registry,
  evaluationId: number,
  rows: SamplePrediction[],
): Promise<void> {
  await registry.db.transaction(async (tx) => {
    for (let i = 0; i < rows.length; i += 100) {
      const batch = rows.slice(i, i + 100);
      await tx.run(
        `INSERT INTO evaluation_samples (evaluation_id, idx, sample_id, label, prediction, score, error) VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        batch.flatMap((s) => [evaluationId, s.idx, s.sampleId, s.label, s.prediction, s.score, s.error ?? null]),
      );
    }
  });
}

export async function completeEvaluation(
  registry: Registry,
  id: number,
  r: {
    metrics: Record<string, number | null | undefined>;
    perClass: ClassMetrics[];
    confusion: number[][];
    sampleCount: number;
    errorCount: number;
    details?: Record<string, unknown>;
  },
): Promise<EvaluationRecord> {
  await registry.db.run(
    `UPDATE evaluations SET status = 'done', finished_at = ?, metrics = ?, per_class = ?, confusion = ?, sample_count = ?, error_count = ?, details = ? WHERE id = ?`,
    [
      new Date().toISOString(),
      JSON.stringify(r.metrics),
      JSON.stringify(r.perClass),
      JSON.stringify(r.confusion),
      r.sampleCount,
      r.errorCount,
      JSON.stringify(r.details ?? {}),
      id,
    ],
  );
  await registry.touch(); // a version's Evaluations node in an open window refreshes
  return (await getEvaluation(registry, id))!;
}

/** A failed or cancelled evaluation leaves nothing: its row and samples go. */
export async function dropEvaluation(registry: Registry, id: number): Promise<void> {
  await registry.db.run('DELETE FROM evaluations WHERE id = ?', [id]);
}

export async function getEvaluation(registry: Registry, id: number): Promise<EvaluationRecord | undefined> {
  const row = await registry.db.get<EvaluationRow>(`${EVALUATION_SELECT} WHERE e.id = ?`, [id]);
  return row && toEvaluation(row);
}

/** A version's finished evaluations, newest first. */
export async function evaluationsOf(registry: Registry<ObjectStore>, versionId: number): Promise<EvaluationRecord[]> {
  const rows = await registry.db.all<EvaluationRow>(
    `${EVALUATION_SELECT} WHERE e.version_id = ? AND e.status = 'done' ORDER BY e.id DESC`,
    [versionId],
  );
  return rows.map(toEvaluation);
}

/** Whether a version has a finished evaluation (the tree asks on every expand; no rows are read). */
export async function hasEvaluations(registry: Registry<ObjectStore>, versionId: number): Promise<boolean> {
  return !!(await registry.db.get("SELECT 1 AS x FROM evaluations WHERE version_id = ? AND status = 'done' LIMIT 1", [
    versionId,
  ]));
}

/**
 * Samples of an evaluation, most confident first: those in one confusion-matrix cell (label →
 * prediction), the wrong ones, or the ones that failed.
 */
export async function evaluationSamples(
  registry: Registry,
  evaluationId: number,
  filter: {
    label?: number;
    prediction?: number;
    wrong?: boolean;
    errors?: boolean;
    limit?: number;
    offset?: number;
  } = {},
): Promise<SamplePrediction[]> {
  const where = ['evaluation_id = ?'];
  const params: (number | string)[] = [evaluationId];
  if (filter.label !== undefined) {
    where.push('label = ?');
    params.push(filter.label);
  }
  if (filter.prediction !== undefined) {
    where.push('prediction = ?');
    params.push(filter.prediction);
  }
  if (filter.wrong) where.push('prediction IS NOT NULL AND label <> prediction');
  if (filter.errors) where.push('error IS NOT NULL');
  const rows = await registry.db.all<{
    idx: number;
    sample_id: string;
    label: number | null;
    prediction: number | null;
    score: number | null;
    error: string | null;
  }>(
    `SELECT idx, sample_id, label, prediction, score, error FROM evaluation_samples WHERE ${where.join(' AND ')} ORDER BY score DESC, idx LIMIT ? OFFSET ?`,
    [...params, filter.limit ?? 200, filter.offset ?? 0],
  );
  return rows.map((r) => ({
    idx: r.idx,
    sampleId: r.sample_id,
    label: r.label,
    prediction: r.prediction,
    score: r.score,
    ...(r.error ? { error: r.error } : {}),
  }));
}

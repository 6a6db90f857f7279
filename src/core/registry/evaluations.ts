/** Evaluations: a version run on a dataset, with its metrics and per-sample outcomes. */
import * as os from 'os';
import { RegistryCore as Core } from './core';
import { EvaluationRecord, EvaluationResults, EvaluationStatus, SamplePrediction } from './evaluationTypes';
import type { ImageOutcomes } from '../evaluate/detection/types';

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
  core: Core,
  e: {
    versionId: number;
    datasetId: number;
    split: string | null;
    evaluator: string;
    git: { commit: string; dirty: boolean } | null;
  },
): Promise<number> {
  const { lastId } = await core.write(
    (tx) =>
      tx.run(
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
      ),
    // A running evaluation is shown nowhere (only finished ones are): completeEvaluation stamps.
    () => false,
  );
  return lastId;
}

/** Stores per-sample outcomes (multi-row inserts in one transaction). */
export async function addEvaluationSamples(core: Core, evaluationId: number, rows: SamplePrediction[]): Promise<void> {
  await core.write(
    async (tx) => {
      for (let i = 0; i < rows.length; i += 100) {
        const batch = rows.slice(i, i + 100);
        await tx.run(
          `INSERT INTO evaluation_samples (evaluation_id, idx, sample_id, label, prediction, score, error) VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          batch.flatMap((s) => [evaluationId, s.idx, s.sampleId, s.label, s.prediction, s.score, s.error ?? null]),
        );
      }
    },
    () => false,
  ); // samples of a running evaluation: nothing shown changes until it completes
}

/** Stores a detection evaluation's per-image box outcomes (see migration 11); `idx` is the image's place in the evaluated split. */
export async function addEvaluationImages(
  core: Core,
  evaluationId: number,
  rows: { idx: number; image: ImageOutcomes }[],
): Promise<void> {
  await core.write(
    async (tx) => {
      for (let i = 0; i < rows.length; i += 100) {
        const batch = rows.slice(i, i + 100);
        await tx.run(
          `INSERT INTO evaluation_images (evaluation_id, idx, sample_id, fp_score, fn_area, outcomes) VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
          batch.flatMap(({ idx, image }) => [
            evaluationId,
            idx,
            image.sampleId,
            maxOf(image.predictions.filter((p) => p.outcome === 'fp').map((p) => p.score)),
            maxOf(image.truths.filter((t) => t.outcome === 'fn').map((t) => t.bbox[2] * t.bbox[3])),
            JSON.stringify(image),
          ]),
        );
      }
    },
    () => false,
  ); // as for samples: nothing shown changes until the evaluation completes
}

const maxOf = (xs: number[]) => (xs.length ? Math.max(...xs) : null);

/**
 * A detection evaluation's images with their box outcomes, a page at a time: in dataset order, by
 * most confident false positive, or by largest missed object (over all predictions; the panel
 * re-classifies at its confidence with outcomesAt).
 */
export async function evaluationImages(
  core: Core,
  evaluationId: number,
  opts: { sort?: 'index' | 'fp-score' | 'fn-area'; sampleIds?: string[]; limit?: number; offset?: number } = {},
): Promise<ImageOutcomes[]> {
  const order =
    opts.sort === 'fp-score'
      ? 'fp_score IS NULL, fp_score DESC, idx'
      : opts.sort === 'fn-area'
        ? 'fn_area IS NULL, fn_area DESC, idx'
        : 'idx';
  const ids = opts.sampleIds;
  const rows = await core.sql.all<{ outcomes: string }>(
    `SELECT outcomes FROM evaluation_images WHERE evaluation_id = ?${ids ? ` AND sample_id IN (${ids.map(() => '?').join(', ')})` : ''} ORDER BY ${order} LIMIT ? OFFSET ?`,
    [evaluationId, ...(ids ?? []), opts.limit ?? 200, opts.offset ?? 0],
  );
  return rows.map((r) => JSON.parse(r.outcomes) as ImageOutcomes);
}

export async function completeEvaluation(core: Core, id: number, r: EvaluationResults): Promise<EvaluationRecord> {
  await core.write((tx) =>
    tx.run(
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
    ),
  );
  return (await getEvaluation(core, id))!;
}

/** A failed or cancelled evaluation leaves nothing: its row and samples go. */
export async function dropEvaluation(core: Core, id: number): Promise<void> {
  // Only a running evaluation is dropped, and a running one is shown nowhere: no stamp.
  await core.write(
    (tx) => tx.run('DELETE FROM evaluations WHERE id = ?', [id]),
    () => false,
  );
}

export async function getEvaluation(core: Core, id: number): Promise<EvaluationRecord | undefined> {
  const row = await core.sql.get<EvaluationRow>(`${EVALUATION_SELECT} WHERE e.id = ?`, [id]);
  return row && toEvaluation(row);
}

/** A version's finished evaluations, newest first. */
export async function evaluationsOf(core: Core, versionId: number): Promise<EvaluationRecord[]> {
  const rows = await core.sql.all<EvaluationRow>(
    `${EVALUATION_SELECT} WHERE e.version_id = ? AND e.status = 'done' ORDER BY e.id DESC`,
    [versionId],
  );
  return rows.map(toEvaluation);
}

/** Whether a version has a finished evaluation (the tree asks on every expand; no rows are read). */
export async function hasEvaluations(core: Core, versionId: number): Promise<boolean> {
  return !!(await core.sql.get("SELECT 1 AS x FROM evaluations WHERE version_id = ? AND status = 'done' LIMIT 1", [
    versionId,
  ]));
}

/**
 * Samples of an evaluation, most confident first: those in one confusion-matrix cell (label →
 * prediction), the wrong ones, or the ones that failed.
 */
export async function evaluationSamples(
  core: Core,
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
  const rows = await core.sql.all<{
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

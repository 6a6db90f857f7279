/** What the evaluation panel shows, built from the stored records. Pure: tests run it in plain Node. */
import type { DatasetRecord } from '../../core/datasets/types';
import type { EvaluationRecord } from '../../core/evaluate/types';
import type { EvaluationView, MetricsView, SampleQuery } from './contract';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function evaluationView(e: EvaluationRecord, dataset: DatasetRecord | undefined): EvaluationView {
  const m = e.metrics;
  const metrics: MetricsView = {
    accuracy: num(m.accuracy),
    top3: num(m.top3),
    top5: num(m.top5),
    macroPrecision: num(m.macroPrecision),
    macroRecall: num(m.macroRecall),
    macroF1: num(m.macroF1),
    weightedPrecision: num(m.weightedPrecision),
    weightedRecall: num(m.weightedRecall),
    weightedF1: num(m.weightedF1),
    ece: num(m.ece),
  };
  const kind = dataset?.kind ?? null;
  return {
    id: e.id,
    ref: e.ref,
    status: e.status,
    dataset: { name: e.datasetName, manifestSha256: e.datasetSha256, split: e.split, kind },
    evaluator: e.evaluator,
    git: e.git,
    startedAt: e.startedAt,
    finishedAt: e.finishedAt,
    sampleCount: e.sampleCount,
    errorCount: e.errorCount,
    metrics,
    perClass: e.perClass,
    classes: e.classes,
    confusion: e.confusion,
    samples: kind === 'image-folder' ? 'image' : 'text',
  };
}

/** How many samples a query matches, from the confusion matrix (so the store needs no count query). */
export function sampleTotal(view: EvaluationView, q: SampleQuery): number {
  const c = view.confusion;
  if ('label' in q) return c[q.label]?.[q.prediction] ?? 0;
  if (q.kind === 'errors') return view.errorCount;
  let total = 0;
  for (let i = 0; i < c.length; i++) {
    if (i === q.cls) continue;
    // fp: predicted cls, labelled otherwise (column); fn: labelled cls, predicted otherwise (row).
    total += (q.kind === 'fp' ? c[i]?.[q.cls] : c[q.cls]?.[i]) ?? 0;
  }
  return total;
}

/** What the detection panel shows, built from the stored evaluation record. Pure: tests run it in plain Node. */
import type { EvaluationRecord } from '../../core/registry/evaluationTypes';
import type { PrCurve } from '../../core/evaluate/detection/types';
import type { BoxCounts, ClassRow, DetectionView } from './contract';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether an evaluation is a detection one (record.ts marks it in its details). */
export const isDetectionEvaluation = (e: Pick<EvaluationRecord, 'details'>): boolean => e.details?.task === 'detection';

export function detectionView(e: EvaluationRecord, opts: { imagesMissing: boolean }): DetectionView {
  const metrics: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(e.metrics)) metrics[k] = num(v);
  // perClass holds DetectionClassMetrics for a detection evaluation; read it field by field all the same.
  const perClass: ClassRow[] = (e.perClass as unknown[]).filter(isObj).map((r, i) => ({
    class: typeof r.class === 'string' ? r.class : (e.classes[i] ?? String(i)),
    support: num(r.support) ?? 0,
    AP: num(r.AP),
    AP50: num(r.AP50),
  }));
  const d = e.details;
  const curves = Array.isArray(d.prCurves) ? (d.prCurves as unknown[]).filter(isObj) : [];
  const prCurves: PrCurve[] = curves.map((c) => ({
    class: String(c.class),
    recall: Array.isArray(c.recall) ? c.recall.map((x) => num(x) ?? 0) : [],
    precision: Array.isArray(c.precision) ? c.precision.map(num) : [],
  }));
  const notes = Array.isArray(d.notes)
    ? d.notes.filter((n): n is string => typeof n === 'string')
    : typeof d.notes === 'string'
      ? [d.notes]
      : isObj(d.notes) // METRIC_NOTES: one note per convention
        ? Object.values(d.notes).filter((n): n is string => typeof n === 'string')
        : [];
  return {
    id: e.id,
    ref: e.ref,
    status: e.status,
    dataset: { name: e.datasetName, manifestSha256: e.datasetSha256, split: e.split },
    evaluator: e.evaluator,
    git: e.git,
    finishedAt: e.finishedAt,
    imageCount: e.sampleCount,
    classes: e.classes,
    metrics,
    perClass,
    prCurves,
    notes,
    confidence: num(d.confidence) ?? 0.25,
    iou: num(d.iou) ?? 0.5,
    imagesMissing: opts.imagesMissing,
  };
}

/** Precision, recall and F1 of counts; null where a denominator is zero. */
export function rates(c: BoxCounts): { precision: number | null; recall: number | null; f1: number | null } {
  const precision = c.tp + c.fp ? c.tp / (c.tp + c.fp) : null;
  const recall = c.tp + c.fn ? c.tp / (c.tp + c.fn) : null;
  const f1 = c.tp + c.fp + c.fn ? (2 * c.tp) / (2 * c.tp + c.fp + c.fn) : null;
  return { precision, recall, f1 };
}

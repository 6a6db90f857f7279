/** What the evaluation panel shows, built from the stored records. No 'vscode' import, so tests run in plain Node. */
import { existsSync } from 'fs';
import * as path from 'path';
import { realPathWithinSync } from '../util/paths';
import type { DatasetRecord } from '../datasets/types';
import type { EvaluationView, MetricsView, SampleQuery } from './contract';
import type { EvaluationRecord } from './types';

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

/** The evaluation a command was given: its id, or a tree node {kind: 'evaluation', evaluation}. */
export function evaluationIdOf(arg: unknown): number | undefined {
  if (Number.isSafeInteger(arg)) return arg as number;
  if (typeof arg !== 'object' || arg === null) return undefined;
  const node = arg as { kind?: unknown; evaluation?: { id?: unknown } };
  const id = node.kind === 'evaluation' ? node.evaluation?.id : undefined;
  return Number.isSafeInteger(id) ? (id as number) : undefined;
}

/**
 * The image file of an image-folder sample, or undefined when the id would lead outside the dataset
 * root (an absolute path, "..", a URL): the panel may only ever load files from under the root.
 */
export function imagePath(root: string, sampleId: string): string | undefined {
  if (
    !path.isAbsolute(root) ||
    !sampleId ||
    sampleId.includes('\0') ||
    /^[a-z][a-z0-9+.-]*:/i.test(sampleId) ||
    path.isAbsolute(sampleId)
  )
    return undefined;
  const full = path.resolve(root, sampleId);
  const rel = path.relative(path.resolve(root), full);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  if (!existsSync(full)) return full; // nothing to show, nothing to leak: the panel shows no image
  try {
    return realPathWithinSync(full, root); // a link out of the dataset shows no thumbnail
  } catch {
    return undefined;
  }
}

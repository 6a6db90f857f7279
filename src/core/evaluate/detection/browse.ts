/**
 * The review panel's queries over a detection evaluation's stored box outcomes, at the confidence
 * the user picks: a page of images (filtered by class and outcome, in one of three orders), the
 * counts per class, the confusion matrix, and the boxes behind a confusion cell or a class's false
 * positives or negatives (the patches view). Pure: the host loads the images once and asks again on
 * every change of the slider, so each query is one pass over the boxes without copying them.
 */
import { boxIou, outcomesAt } from './summary';
import type { BoxXYWH, FalsePositiveReason, ImageOutcomes, PredictionOutcome, TruthOutcome } from './types';

export type BoxKind = 'tp' | 'fp' | 'fn';
export type ImageSort = 'index' | 'fp-score' | 'fn-area';

export interface BoxCounts {
  tp: number;
  fp: number;
  fn: number;
}

export interface ImageQuery {
  confidence: number;
  /** Only images with a box of this class (a truth or a prediction at the confidence). */
  cls?: number;
  /** Only images with a box of this outcome (of `cls` when given). */
  outcome?: BoxKind;
  /** 'fp-score': most confident false positive first; 'fn-area': largest missed object first (of `cls` when given). */
  sort?: ImageSort;
  offset?: number;
  limit?: number;
}

export interface BrowsedImage {
  /** The image's place in the evaluation (stable across queries). */
  index: number;
  /** Its outcomes at the query's confidence. */
  image: ImageOutcomes;
  /** All its boxes at that confidence, whatever the filter. */
  counts: BoxCounts;
}

/** What one pass over an image finds at a confidence (nothing allocated per box). */
interface Scan {
  counts: BoxCounts;
  /** Boxes of the query's class (all boxes without one), by outcome. */
  of: BoxCounts;
  /** Most confident false positive and largest miss of the query's class; -1 for none. */
  fpScore: number;
  fnArea: number;
}

/**
 * A truth is missed at c when it was never matched, or matched only by a prediction scoring below c
 * (a VOC difficult box then is ignored, not missed), as outcomesAt re-classifies it.
 */
const isMiss = (t: TruthOutcome, c: number) =>
  t.outcome === 'fn' || (t.outcome === 'matched' && (t.score ?? -Infinity) < c && !t.difficult);

function scan(image: ImageOutcomes, c: number, cls: number | undefined): Scan {
  const s: Scan = { counts: { tp: 0, fp: 0, fn: 0 }, of: { tp: 0, fp: 0, fn: 0 }, fpScore: -1, fnArea: -1 };
  for (const p of image.predictions) {
    if (p.score < c || p.outcome === 'ignored') continue;
    s.counts[p.outcome]++;
    if (cls !== undefined && p.label !== cls) continue;
    s.of[p.outcome]++;
    if (p.outcome === 'fp' && p.score > s.fpScore) s.fpScore = p.score;
  }
  for (const t of image.truths) {
    const miss = isMiss(t, c);
    if (!miss) continue;
    s.counts.fn++;
    if (cls !== undefined && t.label !== cls) continue;
    s.of.fn++;
    s.fnArea = Math.max(s.fnArea, t.bbox[2] * t.bbox[3]);
  }
  return s;
}

/** Whether the image has a box of the class at c: a truth (any outcome) or a prediction scoring ≥ c. */
function hasClass(image: ImageOutcomes, c: number, cls: number): boolean {
  return image.truths.some((t) => t.label === cls) || image.predictions.some((p) => p.label === cls && p.score >= c);
}

/** A page of images re-classified at the query's confidence, with how many match the filter in all. */
export function browseImages(images: ImageOutcomes[], q: ImageQuery): { total: number; images: BrowsedImage[] } {
  const c = q.confidence;
  const kept: { index: number; scan: Scan }[] = [];
  images.forEach((image, index) => {
    const s = scan(image, c, q.cls);
    if (q.outcome ? s.of[q.outcome] === 0 : q.cls !== undefined && !hasClass(image, c, q.cls)) return;
    kept.push({ index, scan: s });
  });
  const key = q.sort === 'fp-score' ? 'fpScore' : q.sort === 'fn-area' ? 'fnArea' : undefined;
  // Images without such a box (key -1) go last; ties keep the evaluation's order (a stable sort).
  if (key) kept.sort((a, b) => b.scan[key] - a.scan[key]);
  const offset = q.offset ?? 0;
  const page = kept.slice(offset, offset + (q.limit ?? 100));
  return {
    total: kept.length,
    images: page.map(({ index, scan: s }) => ({
      index,
      image: outcomesAt(images[index], c),
      counts: s.counts,
    })),
  };
}

/** One image (by its place in the evaluation) re-classified at the confidence, as browseImages lists it. */
export function imageAt(images: ImageOutcomes[], index: number, confidence: number): BrowsedImage | undefined {
  const image = images[index];
  if (!image) return undefined;
  return { index, image: outcomesAt(image, confidence), counts: scan(image, confidence, undefined).counts };
}

/** True positives, false positives and misses per class at the confidence (ignored boxes left out), and their sum. */
export function countsAt(
  images: ImageOutcomes[],
  confidence: number,
  classCount: number,
): { perClass: BoxCounts[]; total: BoxCounts } {
  const perClass = Array.from({ length: classCount }, () => ({ tp: 0, fp: 0, fn: 0 }));
  const total = { tp: 0, fp: 0, fn: 0 };
  for (const image of images) {
    for (const p of image.predictions) {
      if (p.score < confidence || p.outcome === 'ignored') continue;
      const row = perClass[p.label];
      if (p.outcome === 'tp') {
        total.tp++;
        if (row) row.tp++;
      } else {
        total.fp++;
        if (row) row.fp++;
      }
    }
    for (const t of image.truths) {
      if (!isMiss(t, confidence)) continue;
      total.fn++;
      if (perClass[t.label]) perClass[t.label].fn++;
    }
  }
  return { perClass, total };
}

// ---------------------------------------------------------------- confusion

/** The confusion matrix pairs a truth and a prediction when their IoU exceeds this (Ultralytics' and summarizeDetections' default). */
export const CONFUSION_IOU = 0.5;

/** One entry of the confusion matrix: confusion[truth][predicted], with the class count K as background. */
export interface ConfusionPair {
  truth: number;
  predicted: number;
  /** The ground truth (absent in the background row: an invented object). */
  truthBox?: TruthOutcome;
  /** The prediction (absent in the background column: a missed object). */
  prediction?: PredictionOutcome;
}

/**
 * One image's cells of the confusion matrix, assigned as summarizeDetections assigns them (so the
 * matrix at the recorded confidence is the recorded one), which is Ultralytics'
 * ConfusionMatrix.process_batch: predictions scoring ≥ confidence, in score order; non-crowd truths;
 * pairs of any classes with float32 IoU > 0.5; each prediction keeps its best-IoU truth, then each
 * truth its best-IoU prediction among those (ties: the later one). A paired truth counts at
 * [its class][the prediction's class], an unpaired one at [class][K] (missed), an unpaired
 * prediction at [K][class] (invented).
 */
export function confusionPairs(image: ImageOutcomes, confidence: number, classCount: number): ConfusionPair[] {
  const pairs: ConfusionPair[] = [];
  pairImage(image, confidence, classCount, (truth, predicted, truthBox, prediction) =>
    pairs.push({
      truth,
      predicted,
      ...(truthBox ? { truthBox } : {}),
      ...(prediction ? { prediction } : {}),
    }),
  );
  return pairs;
}

/** confusionPairs without building the list: `visit` sees each entry (the matrix and the crops run this over every image). */
function pairImage(
  image: ImageOutcomes,
  confidence: number,
  K: number,
  visit: (truth: number, predicted: number, truthBox?: TruthOutcome, prediction?: PredictionOutcome) => void,
): void {
  const all = image.predictions;
  const order: number[] = [];
  for (let i = 0; i < all.length; i++) if (all[i].score >= confidence) order.push(i);
  order.sort((a, b) => all[b].score - all[a].score || a - b);
  const preds = order.map((i) => all[i]);
  const truths = image.truths;
  const threshold = Math.fround(CONFUSION_IOU);
  const bestTruth = new Int32Array(preds.length).fill(-1);
  const bestTruthIou = new Float64Array(preds.length);
  for (let g = 0; g < truths.length; g++) {
    if (truths[g].iscrowd) continue;
    for (let d = 0; d < preds.length; d++) {
      const v = Math.fround(boxIou(preds[d].bbox, truths[g].bbox));
      if (v > threshold && v >= bestTruthIou[d]) {
        bestTruth[d] = g;
        bestTruthIou[d] = v;
      }
    }
  }
  const bestPrediction = new Int32Array(truths.length).fill(-1);
  const bestPredictionIou = new Float64Array(truths.length);
  for (let d = 0; d < preds.length; d++) {
    const g = bestTruth[d];
    if (g >= 0 && bestTruthIou[d] >= bestPredictionIou[g]) {
      bestPrediction[g] = d;
      bestPredictionIou[g] = bestTruthIou[d];
    }
  }
  const paired = new Uint8Array(preds.length);
  for (let g = 0; g < truths.length; g++) {
    const t = truths[g];
    if (t.iscrowd) continue;
    const d = bestPrediction[g];
    if (d < 0) visit(t.label, K, t);
    else {
      paired[d] = 1;
      visit(t.label, preds[d].label, t, preds[d]);
    }
  }
  for (let d = 0; d < preds.length; d++) if (!paired[d]) visit(K, preds[d].label, undefined, preds[d]);
}

/** The (K+1)×(K+1) confusion matrix at the confidence: confusion[truth][predicted], background at K. */
export function confusionAt(images: ImageOutcomes[], confidence: number, classCount: number): number[][] {
  const m = Array.from({ length: classCount + 1 }, () => new Array<number>(classCount + 1).fill(0));
  for (const image of images)
    pairImage(image, confidence, classCount, (truth, predicted) => {
      if (truth <= classCount && predicted <= classCount) m[truth][predicted]++;
    });
  return m;
}

// ---------------------------------------------------------------- crops

/** Which boxes to show as crops: one confusion cell, or a class's false positives or misses. */
export type CropQuery = { truth: number; predicted: number } | { cls: number; outcome: 'fp' | 'fn' };

export interface BoxCrop {
  /** The image's place in the evaluation. */
  index: number;
  sampleId: string;
  imageId: number;
  /** The box shown: the prediction's, or the truth's for a miss. */
  bbox: BoxXYWH;
  label: number;
  score?: number;
  kind: BoxKind;
  reason?: FalsePositiveReason;
  /** The ground truth paired with the prediction (a confusion cell off the background row). */
  truth?: { bbox: BoxXYWH; label: number };
}

/** Crops listed at most; the answer says how many there are. */
export const MAX_CROPS = 500;

/** The boxes behind a query at the confidence, most confident (misses: largest) first. */
export function boxCrops(
  images: ImageOutcomes[],
  confidence: number,
  query: CropQuery,
  classCount: number,
  max = MAX_CROPS,
): { total: number; crops: BoxCrop[] } {
  // Found boxes are kept as references and ranked by one number (a query lists either predictions,
  // ranked by score, or misses, ranked by area); only the crops shown are built.
  const found: { index: number; t?: TruthOutcome; p?: PredictionOutcome }[] = [];
  const keys: number[] = [];
  const add = (index: number, t: TruthOutcome | undefined, p: PredictionOutcome | undefined) => {
    found.push({ index, t, p });
    keys.push(p ? p.score : t!.bbox[2] * t!.bbox[3]);
  };
  images.forEach((image, index) => {
    if ('cls' in query) {
      if (query.outcome === 'fp') {
        for (const p of image.predictions)
          if (p.label === query.cls && p.outcome === 'fp' && p.score >= confidence) add(index, undefined, p);
      } else {
        for (const t of image.truths) if (t.label === query.cls && isMiss(t, confidence)) add(index, t, undefined);
      }
      return;
    }
    // An image without a truth of the row's class or a prediction of the column's has nothing in the cell.
    const { truth, predicted } = query;
    if (truth < classCount && !image.truths.some((t) => t.label === truth)) return;
    if (predicted < classCount && !image.predictions.some((p) => p.label === predicted && p.score >= confidence))
      return;
    pairImage(image, confidence, classCount, (tc, pc, t, p) => {
      if (tc === truth && pc === predicted) add(index, t, p);
    });
  });
  const order = Uint32Array.from(keys.keys()).sort((a, b) => keys[b] - keys[a] || a - b);
  const crops = Array.from(order.subarray(0, max), (i) => toCrop(images[found[i].index], found[i], query));
  return { total: found.length, crops };
}

function toCrop(
  image: ImageOutcomes,
  { index, t, p }: { index: number; t?: TruthOutcome; p?: PredictionOutcome },
  query: CropQuery,
): BoxCrop {
  const at = { index, sampleId: image.sampleId, imageId: image.imageId };
  if (!p) return { ...at, bbox: t!.bbox, label: t!.label, kind: 'fn' };
  const crop: BoxCrop = { ...at, bbox: p.bbox, label: p.label, score: p.score, kind: 'fp' };
  if ('cls' in query) {
    if (p.reason) crop.reason = p.reason;
    return crop;
  }
  if (t && t.label === p.label) crop.kind = 'tp';
  if (p.outcome === 'fp' && p.reason) crop.reason = p.reason;
  if (t) crop.truth = { bbox: t.bbox, label: t.label };
  return crop;
}

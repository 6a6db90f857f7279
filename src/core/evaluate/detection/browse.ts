/**
 * The review panel's queries over a detection evaluation's stored box outcomes, at the confidence
 * the user picks: a page of images (filtered by class and outcome, in one of three orders), the
 * counts per class, the confusion matrix, and the boxes behind a confusion cell or a class's false
 * positives or negatives (the patches view). Pure: the host loads the images once and asks again on
 * every change of the slider, so each query is one pass over the boxes without copying them.
 */
import { outcomesAt } from './outcomesAt';
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

/** A truth is missed at c when it was never matched, or matched only by a prediction scoring below c. */
const isMiss = (t: TruthOutcome, c: number) =>
  t.outcome === 'fn' || (t.outcome === 'matched' && (t.score ?? -Infinity) < c);

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

/** Ultralytics' ConfusionMatrix counts a truth and a prediction as a pair when their IoU exceeds this. */
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

export function iou(a: BoxXYWH, b: BoxXYWH): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

/**
 * One image's cells of the confusion matrix, as Ultralytics' ConfusionMatrix.process_batch assigns
 * them: predictions scoring ≥ confidence; every (truth, prediction) pair with IoU > 0.5 whatever the
 * classes, sorted by IoU, each prediction kept once then each truth kept once (its best IoU); a
 * paired truth counts at [its class][the prediction's class], an unpaired one at [class][K] (missed),
 * an unpaired prediction at [K][class] (invented). Crowd regions and predictions that matched them
 * ('ignored') take no part, as they are neither missed nor invented.
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
  const truths: TruthOutcome[] = [];
  for (const t of image.truths) if (t.outcome !== 'ignored') truths.push(t);
  const preds: PredictionOutcome[] = [];
  for (const p of image.predictions) if (p.score >= confidence && p.outcome !== 'ignored') preds.push(p);
  const candidates: { t: number; p: number; iou: number }[] = [];
  for (let ti = 0; ti < truths.length; ti++)
    for (let pi = 0; pi < preds.length; pi++) {
      const v = iou(truths[ti].bbox, preds[pi].bbox);
      if (v > CONFUSION_IOU) candidates.push({ t: ti, p: pi, iou: v });
    }
  candidates.sort((a, b) => b.iou - a.iou); // stable: ties keep truth-then-prediction order, as np.where lists them
  const predOf = new Int32Array(truths.length).fill(-1);
  const paired = new Uint8Array(preds.length);
  const seen = new Uint8Array(preds.length);
  for (const m of candidates) {
    if (seen[m.p]) continue;
    seen[m.p] = 1;
    if (predOf[m.t] >= 0) continue; // this prediction's best truth went to a better pair: it stays unpaired
    predOf[m.t] = m.p;
    paired[m.p] = 1;
  }
  for (let ti = 0; ti < truths.length; ti++) {
    const t = truths[ti];
    const pi = predOf[ti];
    if (pi < 0) visit(t.label, K, t);
    else visit(t.label, preds[pi].label, t, preds[pi]);
  }
  for (let pi = 0; pi < preds.length; pi++) if (!paired[pi]) visit(K, preds[pi].label, undefined, preds[pi]);
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

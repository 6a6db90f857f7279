/**
 * Everything a detection evaluation reports beyond COCO's own numbers: every box's outcome, the
 * counts at a confidence, Pascal VOC AP, Ultralytics' mAP, best-F1 confidence and the confusion
 * matrix with background. COCO's stats, per-class AP and PR curves come from cocoEvaluate.
 * Boxes are COCO-style [x, y, w, h] in continuous pixels everywhere: IoU is intersection over
 * union of those rectangles, with no "+1" (the old VOC devkit's +1 counts pixel indices of
 * inclusive [x1, x2] boxes, a convention xywh boxes do not have).
 */
import { cocoEvaluate, COCO_STAT_KEYS, CocoGroundTruth, IOU_THRESHOLDS, linspace, pairwiseSum } from './cocoEval';
import type {
  BoxXYWH,
  DetectionClassMetrics,
  DetectionImage,
  DetectionSummary,
  FalsePositiveReason,
  ImageOutcomes,
  PredictedBox,
  PredictionOutcome,
  PrCurve,
  TruthOutcome,
} from './types';

/** Why the VOC and Ultralytics numbers shown beside COCO's are not COCO's. */
export const METRIC_NOTES = {
  voc:
    'Pascal VOC AP (VOC07_AP50: 11-point, VOC_AP50: all-point) is at IoU > 0.5 only, over all detections ' +
    'with no 100-per-image cap; each detection is judged against the one ground truth it overlaps most, ' +
    'difficult (and crowd) boxes count neither way, and no area ranges. COCO averages IoU 0.50:0.95 over ' +
    '101 recall points.',
  ultralytics:
    'Ultralytics mAP50 and mAP50-95 integrate the precision envelope at 101 recall points with the ' +
    'trapezoidal rule (COCO takes the envelope at each point), match one-to-one across all of an ' +
    "image's predictions by IoU rather than greedily by score, drop crowd and difficult boxes (as its " +
    'dataset converters do), and have no 100-per-image cap.',
} as const;

/** Intersection area of two xywh boxes (0 when they only touch). */
function intersection(a: BoxXYWH, b: BoxXYWH): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  if (w <= 0) return 0;
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (h <= 0) return 0;
  return w * h;
}

/** IoU as pycocotools computes it for a non-crowd box (same operations, so the same rounding). */
export function boxIou(d: BoxXYWH, g: BoxXYWH): number {
  const inter = intersection(d, g);
  return inter === 0 ? 0 : inter / (d[2] * d[3] + g[2] * g[3] - inter);
}

/** pycocotools' overlap with a crowd region: intersection over the detection's own area. */
function crowdIou(d: BoxXYWH, g: BoxXYWH): number {
  const inter = intersection(d, g);
  return inter === 0 ? 0 : inter / (d[2] * d[3]);
}

// Ultralytics computes IoU in float32 (torch), Math.fround of ours; its eps of 1e-7 is below float32's resolution for boxes over a pixel.

/**
 * Indices by score descending, ties in index order, without a comparator (half a million of them):
 * each score's rank among the distinct scores, then a counting sort by rank, which is stable.
 */
function orderByScore(score: Float64Array): Int32Array {
  const distinct = score.slice().sort();
  let u = 0;
  for (let i = 0; i < distinct.length; i++) if (u === 0 || distinct[i] !== distinct[u - 1]) distinct[u++] = distinct[i];
  const rank = new Int32Array(score.length);
  const start = new Int32Array(u + 1);
  for (let i = 0; i < score.length; i++) {
    let lo = 0;
    let hi = u;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (distinct[mid] < score[i]) lo = mid + 1;
      else hi = mid;
    }
    rank[i] = u - 1 - lo; // 0 for the highest score
    start[rank[i] + 1]++;
  }
  for (let r = 0; r < u; r++) start[r + 1] += start[r];
  const order = new Int32Array(score.length);
  for (let i = 0; i < score.length; i++) order[start[rank[i]]++] = i;
  return order;
}

// Outcomes are built as literals of fixed shapes (not spreads): there are half a million of them.
const judged = (p: PredictedBox, outcome: 'tp' | 'ignored', truthId: number, iou: number): PredictionOutcome => ({
  id: p.id,
  label: p.label,
  bbox: p.bbox,
  score: p.score,
  outcome,
  truthId,
  iou,
});
const falseBecause = (
  p: PredictedBox,
  reason: FalsePositiveReason,
  truthId: number,
  iou: number,
): PredictionOutcome => ({
  id: p.id,
  label: p.label,
  bbox: p.bbox,
  score: p.score,
  outcome: 'fp',
  reason,
  truthId,
  iou,
});

/** A false positive with what it overlaps, tried in the order FalsePositiveReason lists; its boxIou with truth g is at ious[row + g]. */
function falsePositive(
  p: PredictedBox,
  truths: DetectionImage['truths'],
  ious: Float64Array,
  row: number,
  threshold: number,
): PredictionOutcome {
  let same = 0;
  let sameId = -1;
  let other = 0;
  let otherId = -1;
  for (let g = 0; g < truths.length; g++) {
    const t = truths[g];
    if (t.iscrowd) continue;
    const v = ious[row + g];
    if (t.label === p.label) {
      if (v > same) {
        same = v;
        sameId = t.id;
      }
    } else if (v > other) {
      other = v;
      otherId = t.id;
    }
  }
  // Every same-class box this overlaps by ≥ threshold was already matched, or this would have matched it.
  if (same >= threshold) return falseBecause(p, 'duplicate', sameId, same);
  if (other >= threshold) return falseBecause(p, 'wrong-class', otherId, other);
  if (same >= 0.1) return falseBecause(p, 'localisation', sameId, same);
  return { id: p.id, label: p.label, bbox: p.bbox, score: p.score, outcome: 'fp', reason: 'background' };
}

/**
 * Every box's outcome in one image at IoU `iouThreshold`: per class, predictions by score
 * (stable) each take the best-IoU unmatched regular truth of their class (pycocotools' test
 * `iou < min(t, 1 - 1e-10)` fails, so IoU exactly t matches; of equal IoUs the later truth, as
 * pycocotools), else a crowd region or difficult box of their class (→ 'ignored'), else are false
 * positives. Unlike COCO there is no 100-per-image cap, and difficult boxes are ignored as VOC does.
 * `ious` holds boxIou of the d-th prediction in `order` with truth g at d·T + g.
 */
function matchImage(
  image: DetectionImage,
  predictions: PredictedBox[],
  order: Int32Array,
  ious: Float64Array,
  iouThreshold: number,
): ImageOutcomes {
  const T = image.truths.length;
  const truths = image.truths;
  const threshold = Math.min(iouThreshold, 1 - 1e-10);
  const takenBy = new Int32Array(truths.length).fill(-1);
  const takenIou = new Float64Array(truths.length);
  const outcomes: PredictionOutcome[] = new Array(predictions.length);
  for (let d = 0; d < order.length; d++) {
    const pi = order[d];
    const p = predictions[pi];
    const row = d * T;
    let best = threshold;
    let m = -1;
    for (let g = 0; g < truths.length; g++) {
      const t = truths[g];
      if (t.label !== p.label || t.iscrowd || t.difficult || takenBy[g] >= 0) continue;
      const v = ious[row + g];
      if (v < best) continue;
      best = v;
      m = g;
    }
    if (m >= 0) {
      takenBy[m] = pi;
      takenIou[m] = best;
      outcomes[pi] = judged(p, 'tp', truths[m].id, best);
      continue;
    }
    best = threshold;
    for (let g = 0; g < truths.length; g++) {
      const t = truths[g];
      if (t.label !== p.label || !(t.iscrowd || t.difficult)) continue;
      const v = t.iscrowd ? crowdIou(p.bbox, t.bbox) : ious[row + g];
      if (v < best) continue;
      best = v;
      m = g;
    }
    if (m >= 0) {
      // A difficult box remembers the first prediction on it; a crowd region may hold many.
      if (truths[m].difficult && takenBy[m] < 0) {
        takenBy[m] = pi;
        takenIou[m] = best;
      }
      outcomes[pi] = judged(p, 'ignored', truths[m].id, best);
      continue;
    }
    outcomes[pi] = falsePositive(p, truths, ious, row, threshold);
  }
  // Object.assign, not a spread: V8 copies these box objects with a spread several times slower.
  const truthOutcomes = truths.map((t, g): TruthOutcome => {
    if (t.iscrowd) return Object.assign({}, t, { outcome: 'ignored' as const });
    const k = takenBy[g];
    if (k >= 0)
      return Object.assign({}, t, {
        outcome: 'matched' as const,
        predictionId: predictions[k].id,
        iou: takenIou[g],
        score: predictions[k].score,
      });
    return Object.assign({}, t, { outcome: t.difficult ? ('ignored' as const) : ('fn' as const) });
  });
  return { imageId: image.imageId, sampleId: image.sampleId, predictions: outcomes, truths: truthOutcomes };
}

/**
 * An image's outcomes when only predictions scoring ≥ `confidence` are kept: the others are
 * dropped and the truths they matched become misses (difficult ones ignored). Matching is greedy
 * by score, so the kept predictions' outcomes stand as they are.
 */
export function outcomesAt(image: ImageOutcomes, confidence: number): ImageOutcomes {
  return {
    ...image,
    predictions: image.predictions.filter((p) => p.score >= confidence),
    truths: image.truths.map((t): TruthOutcome => {
      if (t.outcome !== 'matched' || t.score! >= confidence) return t;
      const { predictionId: _p, iou: _i, score: _s, ...box } = t;
      return { ...box, outcome: box.difficult ? 'ignored' : 'fn' };
    }),
  };
}

/** tp / fp / fn per class (index K: all classes) as outcomesAt(image, confidence) would leave them, without its copies. */
function countOutcomes(images: ImageOutcomes[], K: number, confidence: number) {
  const tp = new Array<number>(K + 1).fill(0);
  const fp = new Array<number>(K + 1).fill(0);
  const fn = new Array<number>(K + 1).fill(0);
  for (const image of images) {
    for (const p of image.predictions) {
      if (!(p.score >= confidence)) continue;
      if (p.outcome === 'tp') tp[p.label]++;
      else if (p.outcome === 'fp') fp[p.label]++;
    }
    for (const t of image.truths)
      if (t.outcome === 'fn' || (t.outcome === 'matched' && !(t.score! >= confidence) && !t.difficult)) fn[t.label]++;
  }
  tp[K] = tp.reduce((s, v) => s + v, 0);
  fp[K] = fp.reduce((s, v) => s + v, 0);
  fn[K] = fn.reduce((s, v) => s + v, 0);
  return { tp, fp, fn };
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
/** F1 = 2PR / (P + R) = 2tp / (2tp + fp + fn); null while precision or recall is undefined. */
const f1Of = (tp: number, fp: number, fn: number) =>
  tp + fp > 0 && tp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : null;

/**
 * Pascal VOC AP of one class as py-faster-rcnn's voc_eval / the VOC devkit: detections by score
 * (stable; numpy's argsort there is not), each judged against the ground truth of its class in its
 * image it overlaps most (all of them, matched or not; the first of equal IoUs): IoU > 0.5 (strict)
 * and difficult → neither TP nor FP; IoU > 0.5 and not yet detected → TP; otherwise FP.
 * `flags`: 1 TP, 2 FP, 0 neither, in score order. Returns [11-point, all-point].
 */
function vocAp(flags: Uint8Array, npos: number): [number, number] {
  const n = flags.length;
  const rec = new Float64Array(n);
  const prec = new Float64Array(n);
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < n; i++) {
    if (flags[i] === 1) tp++;
    else if (flags[i] === 2) fp++;
    rec[i] = tp / npos;
    prec[i] = tp / Math.max(tp + fp, 2.220446049250313e-16);
  }
  // The precision envelope: mpre[i + 1] is the best precision at index i or later (0 past the end).
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  mrec.set(rec, 1);
  mrec[n + 1] = 1;
  mpre.set(prec, 1);
  for (let i = n + 1; i > 0; i--) mpre[i - 1] = Math.max(mpre[i - 1], mpre[i]);
  // VOC2007: mean of the best precision at recall ≥ 0, 0.1, …, 1 (numpy's arange values, i·0.1);
  // recall never falls, so that is the envelope at the first index reaching it.
  let ap07 = 0;
  let first = 0;
  for (let k = 0; k <= 10; k++) {
    const t = k * 0.1;
    while (first < n && !(rec[first] >= t)) first++;
    ap07 = ap07 + mpre[first + 1] / 11;
  }
  // VOC2010+: area under the precision envelope, summed where recall changes.
  const areas = new Float64Array(n + 1);
  let a = 0;
  for (let i = 0; i + 1 < mrec.length; i++)
    if (mrec[i + 1] !== mrec[i]) areas[a++] = (mrec[i + 1] - mrec[i]) * mpre[i + 1];
  return [ap07, pairwiseSum(areas, 0, a)];
}

const X101 = linspace(0, 1, 101);

/** numpy.interp(x, xp, fp) for xp non-decreasing and x within [xp[0], xp[last]]. */
function interp(x: number, xp: ArrayLike<number>, fp: ArrayLike<number>): number {
  // The last j with xp[j] ≤ x, as numpy's binary search finds it.
  let lo = 0;
  let hi = xp.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x >= xp[mid]) lo = mid + 1;
    else hi = mid;
  }
  const j = lo - 1;
  if (j === xp.length - 1 || xp[j] === x) return fp[j];
  return ((fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])) * (x - xp[j]) + fp[j];
}

/** Ultralytics' compute_ap, method 'interp': the precision envelope read at 101 recall points, integrated by np.trapz. */
function ultralyticsAp(recall: Float64Array, precision: Float64Array): number {
  const n = recall.length;
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  mrec.set(recall, 1);
  mrec[n + 1] = 1;
  mpre.set(precision, 1);
  mpre[0] = 1;
  for (let i = n; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  const y = X101.map((x) => interp(x, mrec, mpre));
  const terms = new Float64Array(100);
  for (let i = 0; i < 100; i++) terms[i] = ((X101[i + 1] - X101[i]) * (y[i + 1] + y[i])) / 2.0;
  return pairwiseSum(terms);
}

/** torch.linspace(0.5, 0.95, 10) in float32, compared with float32 IoUs. */
const ULTRA_THRESHOLDS = IOU_THRESHOLDS.map(Math.fround);

/**
 * Ultralytics' match_predictions for one image: at each IoU threshold, the pairs of the same class
 * with IoU ≥ threshold, each prediction keeping its best-IoU truth, then each truth the first of
 * those predictions in score order. Ties as numpy sorts small arrays (a stable argsort reversed:
 * the later truth). Returns per prediction (in `order`) a bit per threshold.
 */
function ultralyticsCorrect(
  order: Int32Array,
  predictions: PredictedBox[],
  truths: DetectionImage['truths'],
  ious: Float64Array,
): Uint16Array {
  const T = truths.length;
  const correct = new Uint16Array(order.length);
  const pairs: { g: number; d: number; iou: number }[] = [];
  for (let g = 0; g < truths.length; g++) {
    const t = truths[g];
    if (t.iscrowd || t.difficult) continue;
    for (let d = 0; d < order.length; d++) {
      if (predictions[order[d]].label !== t.label) continue;
      const v = Math.fround(ious[d * T + g]);
      if (v >= ULTRA_THRESHOLDS[0]) pairs.push({ g, d, iou: v });
    }
  }
  if (!pairs.length) return correct;
  // Pairs come in numpy.nonzero's order (truth, then prediction); descending IoU, the later pair first on ties.
  const sorted = pairs.map((_, i) => i).sort((a, b) => pairs[b].iou - pairs[a].iou || b - a);
  const bestTruth = new Int32Array(order.length);
  const taken = new Uint8Array(truths.length);
  ULTRA_THRESHOLDS.forEach((threshold, t) => {
    bestTruth.fill(-1);
    taken.fill(0);
    for (const i of sorted) {
      const { g, d, iou } = pairs[i];
      if (iou < threshold) break;
      if (bestTruth[d] < 0) bestTruth[d] = g;
    }
    for (let d = 0; d < order.length; d++) {
      const g = bestTruth[d];
      if (g < 0 || taken[g]) continue;
      taken[g] = 1;
      correct[d] |= 1 << t;
    }
  });
  return correct;
}

/**
 * Ultralytics' ConfusionMatrix.process_batch for one image, in our orientation confusion[truth][predicted]
 * (Ultralytics stores [predicted][truth]): predictions scoring ≥ `confidence` (Ultralytics: >) and the
 * non-crowd truths; pairs of any classes with IoU > `iouThreshold`; each prediction keeps its best-IoU
 * truth, then each truth its best-IoU prediction among those (ties: the later one, as numpy sorts small
 * arrays). A matched pair counts at [truth class][predicted class]; an unmatched truth at [class][K]
 * (missed); an unmatched prediction at [K][class] (invented), also in an image where nothing matched
 * (older Ultralytics skipped those).
 */
function addToConfusion(
  confusion: number[][],
  order: Int32Array,
  predictions: PredictedBox[],
  truths: DetectionImage['truths'],
  ious: Float64Array,
  confidence: number,
  iouThreshold: number,
): void {
  const K = confusion.length - 1;
  const T = truths.length;
  let D = 0;
  while (D < order.length && predictions[order[D]].score >= confidence) D++;
  const threshold = Math.fround(iouThreshold);
  const bestTruth = new Int32Array(D).fill(-1);
  const bestTruthIou = new Float64Array(D);
  for (let g = 0; g < truths.length; g++) {
    if (truths[g].iscrowd) continue;
    for (let d = 0; d < D; d++) {
      const v = Math.fround(ious[d * T + g]);
      if (v > threshold && v >= bestTruthIou[d]) {
        bestTruth[d] = g;
        bestTruthIou[d] = v;
      }
    }
  }
  const bestPrediction = new Int32Array(truths.length).fill(-1);
  const bestPredictionIou = new Float64Array(truths.length);
  for (let d = 0; d < D; d++) {
    const g = bestTruth[d];
    if (g >= 0 && bestTruthIou[d] >= bestPredictionIou[g]) {
      bestPrediction[g] = d;
      bestPredictionIou[g] = bestTruthIou[d];
    }
  }
  const matched = new Uint8Array(D);
  for (let g = 0; g < truths.length; g++) {
    if (truths[g].iscrowd) continue;
    const d = bestPrediction[g];
    if (d >= 0) matched[d] = 1;
    confusion[truths[g].label][d >= 0 ? predictions[order[d]].label : K]++;
  }
  for (let d = 0; d < D; d++) if (!matched[d]) confusion[K][predictions[order[d]].label]++;
}

/** Labels, boxes and scores the matching can rely on; readers report bad files, this guards the arithmetic. */
function checkInput(K: number, images: DetectionImage[], predictions: Map<number, PredictedBox[]>, iou: number) {
  const badLabel = (l: number) => !Number.isInteger(l) || l < 0 || l >= K;
  const badBox = (b: BoxXYWH) =>
    !(Number.isFinite(b[0]) && Number.isFinite(b[1]) && b[2] >= 0 && b[3] >= 0 && b[2] + b[3] < Infinity);
  if (!(iou > 0 && iou <= 1)) throw new RangeError(`IoU threshold ${iou} is not in (0, 1]`);
  const seen = new Set<number>();
  for (const image of images) {
    const where = `image ${image.imageId}`;
    if (seen.has(image.imageId)) throw new RangeError(`${where} appears twice`);
    seen.add(image.imageId);
    for (const t of image.truths) {
      if (badLabel(t.label))
        throw new RangeError(`${where}: ground truth ${t.id} has label ${t.label}, not one of the ${K} classes`);
      if (badBox(t.bbox)) throw new RangeError(`${where}: ground truth ${t.id} has box [${t.bbox}]`);
    }
    for (const p of predictions.get(image.imageId) ?? []) {
      if (badLabel(p.label))
        throw new RangeError(`${where}: prediction ${p.id} has label ${p.label}, not one of the ${K} classes`);
      if (badBox(p.bbox) || !Number.isFinite(p.score))
        throw new RangeError(`${where}: prediction ${p.id} has box [${p.bbox}] and score ${p.score}`);
    }
  }
}

/**
 * Evaluates predictions against ground truth: COCO's stats (cocoEvaluate), VOC and Ultralytics AP,
 * precision/recall/F1 at `confidence` and best F1, per-class rows, the confusion matrix, PR curves,
 * and every box's outcome. Predictions of images not in `images` are left out.
 */
export function summarizeDetections(
  classes: string[],
  images: DetectionImage[],
  predictions: Map<number, PredictedBox[]>,
  opts: { confidence?: number; iou?: number } = {},
): DetectionSummary {
  const confidence = opts.confidence ?? 0.25;
  const iou = opts.iou ?? 0.5;
  checkInput(classes.length, images, predictions, iou);
  const K = classes.length;
  const predsOf = (image: DetectionImage) => predictions.get(image.imageId) ?? [];

  // COCO, with category id = class index (the detections as columns, below).
  const truth: CocoGroundTruth = {
    images: images.map((i) => ({ id: i.imageId })),
    annotations: images.flatMap((i) =>
      i.truths.map((t) => ({
        id: t.id,
        image_id: i.imageId,
        category_id: t.label,
        bbox: t.bbox,
        area: t.area,
        iscrowd: t.iscrowd ? 1 : 0,
      })),
    ),
    categories: classes.map((name, id) => ({ id, name })),
  };
  const orNull = (v: number) => (v === -1 ? null : v);

  // Every prediction laid out flat, image by image in the given order; then all of them by score
  // (stable: image order, then the given order), which, image by image, is each image's score order.
  let N = 0;
  let truthCount = 0;
  for (const image of images) {
    N += predsOf(image).length;
    truthCount += image.truths.length;
  }
  const score = new Float64Array(N);
  const label = new Int32Array(N);
  const imageOf = new Int32Array(N);
  const boxes = new Float64Array(4 * N);
  const imageStart = new Int32Array(images.length + 1);
  images.forEach((image, m) => {
    const preds = predsOf(image);
    const at = imageStart[m];
    for (let pi = 0; pi < preds.length; pi++) {
      const p = preds[pi];
      score[at + pi] = p.score;
      label[at + pi] = p.label;
      imageOf[at + pi] = m;
      for (let x = 0; x < 4; x++) boxes[4 * (at + pi) + x] = p.bbox[x];
    }
    imageStart[m + 1] = at + preds.length;
  });
  const coco = cocoEvaluate(truth, {
    imageId: Float64Array.from(imageOf, (m) => images[m].imageId),
    categoryId: label,
    bbox: boxes,
    score,
  });

  const global = orderByScore(score);
  const imageOrder = new Int32Array(N); // per image, the indices of its predictions by score
  const imageFill = imageStart.slice(0, images.length);
  for (const i of global) imageOrder[imageFill[imageOf[i]]++] = i - imageStart[imageOf[i]];

  // One pass over the images: outcomes, the confusion matrix, and per prediction what VOC and
  // Ultralytics need, all from one IoU matrix per image.
  const outcome = new Uint8Array(N); // 1 tp, 2 fp, 0 ignored, at `iou`
  const vocTruth = new Int32Array(N).fill(-1); // flat index of the truth it overlaps most by IoU > 0.5
  const ultraCorrect = new Uint16Array(N);
  const vocIgnore = new Uint8Array(truthCount);
  const npos = new Array<number>(K).fill(0); // VOC: neither difficult nor crowd; also Ultralytics' labels
  const support = new Array<number>(K).fill(0);
  const confusion = Array.from({ length: K + 1 }, () => new Array<number>(K + 1).fill(0));
  const outcomes: ImageOutcomes[] = [];
  let ious = new Float64Array(0);
  let truthBox = new Float64Array(0); // per truth x0, y0, x1, y1, area
  let truthAt = 0;
  images.forEach((image, m) => {
    const preds = predsOf(image);
    const truths = image.truths;
    const T = truths.length;
    const at = imageStart[m];
    const order = imageOrder.subarray(at, imageStart[m + 1]);
    if (ious.length < order.length * T) ious = new Float64Array(order.length * T * 2);
    if (truthBox.length < 5 * T) truthBox = new Float64Array(10 * T);
    for (let g = 0; g < T; g++) {
      const box = truths[g].bbox;
      truthBox[5 * g] = box[0];
      truthBox[5 * g + 1] = box[1];
      truthBox[5 * g + 2] = box[0] + box[2];
      truthBox[5 * g + 3] = box[1] + box[3];
      truthBox[5 * g + 4] = box[2] * box[3];
    }
    // boxIou of every prediction (by score) with every truth, its operations in its order (so bit-identical).
    for (let d = 0; d < order.length; d++) {
      const box = preds[order[d]].bbox;
      const x = box[0];
      const y = box[1];
      const x1 = x + box[2];
      const y1 = y + box[3];
      const area = box[2] * box[3];
      for (let g = 0; g < T; g++) {
        const b = 5 * g;
        let v = 0;
        const iw = Math.min(x1, truthBox[b + 2]) - Math.max(x, truthBox[b]);
        if (iw > 0) {
          const ih = Math.min(y1, truthBox[b + 3]) - Math.max(y, truthBox[b + 1]);
          if (ih > 0) {
            const inter = iw * ih;
            if (inter !== 0) v = inter / (area + truthBox[b + 4] - inter);
          }
        }
        ious[d * T + g] = v;
      }
    }
    const result = matchImage(image, preds, order, ious, iou);
    outcomes.push(result);
    addToConfusion(confusion, order, preds, truths, ious, confidence, iou);
    const correct = ultralyticsCorrect(order, preds, truths, ious);
    for (let g = 0; g < T; g++) {
      const t = truths[g];
      if (!t.iscrowd) support[t.label]++;
      if (t.iscrowd || t.difficult) vocIgnore[truthAt + g] = 1;
      else npos[t.label]++;
    }
    for (let d = 0; d < order.length; d++) {
      const pi = order[d];
      const i = at + pi;
      const o = result.predictions[pi].outcome;
      outcome[i] = o === 'tp' ? 1 : o === 'fp' ? 2 : 0;
      ultraCorrect[i] = correct[d];
      let best = -Infinity;
      for (let g = 0; g < T; g++) {
        if (truths[g].label !== label[i]) continue;
        const v = ious[d * T + g];
        if (v > best) {
          best = v;
          vocTruth[i] = truthAt + g;
        }
      }
      if (!(best > 0.5)) vocTruth[i] = -1;
    }
    truthAt += T;
  });

  // All predictions grouped by class, by score within each.
  const classStart = new Int32Array(K + 1);
  for (let i = 0; i < N; i++) classStart[label[i] + 1]++;
  for (let k = 0; k < K; k++) classStart[k + 1] += classStart[k];
  const byClass = new Int32Array(N);
  const fill = classStart.slice(0, K);
  for (const i of global) byClass[fill[label[i]]++] = i;

  // Pascal VOC AP at IoU 0.5, mean over classes with (non-difficult) ground truth.
  const detected = new Uint8Array(truthCount);
  const voc07: number[] = [];
  const vocAll: number[] = [];
  // Ultralytics' ap_per_class: AP per class with labels × 10 IoU thresholds (0 without predictions).
  const ultraAp: number[] = [];
  const ultraAp50: number[] = [];
  for (let k = 0; k < K; k++) {
    if (npos[k] === 0) continue;
    const members = byClass.subarray(classStart[k], classStart[k + 1]);
    const flags = new Uint8Array(members.length);
    for (let j = 0; j < members.length; j++) {
      const g = vocTruth[members[j]];
      if (g < 0) flags[j] = 2;
      else if (vocIgnore[g]) flags[j] = 0;
      else if (detected[g]) flags[j] = 2;
      else {
        flags[j] = 1;
        detected[g] = 1;
      }
    }
    const [ap07, apAll] = vocAp(flags, npos[k]);
    voc07.push(ap07);
    vocAll.push(apAll);

    const n = members.length;
    const recall = new Float64Array(n);
    const precision = new Float64Array(n);
    const correct = new Uint16Array(n); // read ten times: gathered once
    for (let j = 0; j < n; j++) correct[j] = ultraCorrect[members[j]];
    for (let t = 0; t < ULTRA_THRESHOLDS.length; t++) {
      let ap = 0;
      if (n) {
        let tpc = 0;
        for (let j = 0; j < n; j++) {
          tpc += (correct[j] >> t) & 1;
          recall[j] = tpc / (npos[k] + 1e-16);
          precision[j] = tpc / (j + 1);
        }
        ap = ultralyticsAp(recall, precision);
      }
      ultraAp.push(ap);
      if (t === 0) ultraAp50.push(ap);
    }
  }
  const mean = (v: number[]) => (v.length ? pairwiseSum(v) / v.length : null);

  // Best F1 over the distinct scores: keeping predictions ≥ s, tp + fn is every regular truth.
  const regular = npos.reduce((s, v) => s + v, 0);
  let bestF1: number | null = null;
  let bestF1Confidence: number | null = null;
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < N; j++) {
    const i = global[j];
    if (outcome[i] === 1) tp++;
    else if (outcome[i] === 2) fp++;
    if (j + 1 < N && score[global[j + 1]] === score[i]) continue;
    const f1 = f1Of(tp, fp, regular - tp);
    if (f1 !== null && (bestF1 === null || f1 > bestF1)) {
      bestF1 = f1;
      bestF1Confidence = score[i];
    }
  }

  const counts = countOutcomes(outcomes, K, confidence);
  const perClass: DetectionClassMetrics[] = classes.map((name, k) => ({
    class: name,
    support: support[k],
    AP: orNull(coco.perClass[k].AP),
    AP50: orNull(coco.perClass[k].AP50),
    precision: ratio(counts.tp[k], counts.tp[k] + counts.fp[k]),
    recall: ratio(counts.tp[k], counts.tp[k] + counts.fn[k]),
    f1: f1Of(counts.tp[k], counts.fp[k], counts.fn[k]),
    tp: counts.tp[k],
    fp: counts.fp[k],
    fn: counts.fn[k],
  }));

  const R = coco.recallThresholds.length;
  const t50 = coco.iouThresholds.indexOf(0.5);
  const prCurves: PrCurve[] = classes.map((name, k) => ({
    class: name,
    recall: [...coco.recallThresholds], // a copy: cocoEval hands out its module constant
    precision: coco.recallThresholds.map((_, r) => orNull(coco.precision[(t50 * R + r) * K + k])),
  }));

  const metrics: Record<string, number | null> = {};
  for (const key of COCO_STAT_KEYS) metrics[key] = orNull(coco.stats[key]);
  Object.assign(metrics, {
    VOC07_AP50: mean(voc07),
    VOC_AP50: mean(vocAll),
    mAP50: mean(ultraAp50),
    'mAP50-95': mean(ultraAp),
    precision: ratio(counts.tp[K], counts.tp[K] + counts.fp[K]),
    recall: ratio(counts.tp[K], counts.tp[K] + counts.fn[K]),
    F1: f1Of(counts.tp[K], counts.fp[K], counts.fn[K]),
    bestF1,
    bestF1Confidence,
  });
  return { metrics, perClass, confusion, prCurves, images: outcomes, confidence, iou };
}

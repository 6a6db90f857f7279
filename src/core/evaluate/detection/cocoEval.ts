/**
 * COCO box evaluation with pycocotools' semantics, step for step (COCOeval.evaluate, accumulate,
 * summarize): IoU thresholds .50:.05:.95 and 101 recall points as numpy's linspace makes them,
 * maxDets 1/10/100, areas small < 32², medium, large > 96² by the ground truth's `area` (a
 * detection's is w·h), crowd regions (IoU = intersection / detection area; one may match many),
 * detections by score with a stable sort, greedy matching to the best unmatched ground truth,
 * precision made monotone and read at each recall threshold, −1 where a category has no ground
 * truth, and averages over what is not −1 summed pairwise as numpy sums. Where pycocotools has a
 * quirk it is kept (a ground truth with id 0 counts as unmatched), so the numbers are its numbers.
 */

export interface CocoBox {
  /** [x, y, w, h] in pixels. */
  bbox: [number, number, number, number];
}
export interface CocoGroundTruthBox extends CocoBox {
  id: number;
  image_id: number;
  category_id: number;
  area: number;
  iscrowd?: number | boolean;
}
export interface CocoDetection extends CocoBox {
  image_id: number;
  category_id: number;
  score: number;
}
export interface CocoGroundTruth {
  images: { id: number }[];
  annotations: CocoGroundTruthBox[];
  categories: { id: number; name?: string }[];
}

export const COCO_STAT_KEYS = [
  'AP',
  'AP50',
  'AP75',
  'APs',
  'APm',
  'APl',
  'AR1',
  'AR10',
  'AR100',
  'ARs',
  'ARm',
  'ARl',
] as const;
export type CocoStats = Record<(typeof COCO_STAT_KEYS)[number], number>;

export interface CocoResult {
  stats: CocoStats;
  /** Per category (in id order): AP over .50:.95 and AP at .50, all areas, 100 detections; −1 without ground truth. */
  perClass: { categoryId: number; name?: string; AP: number; AP50: number }[];
  /** precision[t][r][k] at area all, 100 detections (PR curves): T × R × K, −1 where undefined. */
  precision: Float64Array;
  iouThresholds: number[];
  recallThresholds: number[];
}

/** numpy.linspace(start, stop, num): start + i·step, the last exactly stop. */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

export const IOU_THRESHOLDS = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
export const RECALL_THRESHOLDS = linspace(0, 1, Math.round((1 - 0) / 0.01) + 1);
const MAX_DETS = [1, 10, 100];
const AREA_RANGES: [number, number][] = [
  [0, 1e5 ** 2],
  [0, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e5 ** 2],
];
/** numpy's np.spacing(1): what accumulate adds to tp + fp. */
const EPS = 2.220446049250313e-16;

/** numpy's pairwise summation (add.reduce on a contiguous float64 array), so a mean rounds as numpy's does. */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length): number {
  if (n < 8) {
    let s = -0;
    for (let i = 0; i < n; i++) s += a[start + i];
    return s;
  }
  if (n <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => a[start + j]);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let s = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) s += a[start + i];
    return s;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** The mean of the values that are not −1, as summarize() takes it; −1 when there are none. */
function meanDefined(values: number[]): number {
  const kept = values.filter((v) => v > -1);
  return kept.length ? pairwiseSum(kept) / kept.length : -1;
}

/** maskApi's bbIou: intersection over union, or over the detection's area for a crowd region. */
function iou(d: number[], g: number[], crowd: boolean): number {
  const w = Math.min(d[0] + d[2], g[0] + g[2]) - Math.max(d[0], g[0]);
  if (w <= 0) return 0;
  const h = Math.min(d[1] + d[3], g[1] + g[3]) - Math.max(d[1], g[1]);
  if (h <= 0) return 0;
  const inter = w * h;
  const da = d[2] * d[3];
  return inter / (crowd ? da : da + g[2] * g[3] - inter);
}

interface Det {
  id: number;
  score: number;
  area: number;
  bbox: number[];
}
interface Gt {
  id: number;
  area: number;
  crowd: boolean;
  bbox: number[];
}

/** evaluateImg's result for one image, category and area range (maxDets[-1] detections). */
interface ImageEval {
  /** T × D: the matched ground truth's id (0: none), and whether the detection is ignored. */
  dtMatches: Float64Array;
  dtIgnore: Uint8Array;
  dtScores: number[];
  gtIgnore: Uint8Array;
  D: number;
}

/** Stable order of indices by key ascending (numpy's argsort kind='mergesort'). */
const stableOrder = (n: number, key: (i: number) => number) =>
  Array.from({ length: n }, (_, i) => i).sort((a, b) => key(a) - key(b) || a - b);

function evaluateImage(
  gts: Gt[],
  dts: Det[],
  ious: number[][],
  range: [number, number],
  maxDet: number,
): ImageEval | null {
  if (!gts.length && !dts.length) return null;
  const T = IOU_THRESHOLDS.length;
  const ignoreOf = (g: Gt) => (g.crowd || g.area < range[0] || g.area > range[1] ? 1 : 0);
  const gtOrder = stableOrder(gts.length, (i) => ignoreOf(gts[i]));
  const gt = gtOrder.map((i) => gts[i]);
  // dts arrive sorted by score and cut at maxDets[-1] (computeIoU's order); a smaller maxDet cuts again.
  const dt = dts.slice(0, maxDet);
  const G = gt.length;
  const D = dt.length;
  const gtIg = Uint8Array.from(gt, ignoreOf);
  const gtm = new Float64Array(T * G);
  const dtm = new Float64Array(T * D);
  const dtIg = new Uint8Array(T * D);
  if (ious.length && G) {
    for (let t = 0; t < T; t++) {
      for (let di = 0; di < D; di++) {
        let best = Math.min(IOU_THRESHOLDS[t], 1 - 1e-10);
        let m = -1;
        for (let gi = 0; gi < G; gi++) {
          if (gtm[t * G + gi] > 0 && !gt[gi].crowd) continue; // matched already, and not a crowd
          if (m > -1 && gtIg[m] === 0 && gtIg[gi] === 1) break; // matched a regular one; the rest are ignored
          const v = ious[di][gtOrder[gi]];
          if (v < best) continue;
          best = v;
          m = gi;
        }
        if (m === -1) continue;
        dtIg[t * D + di] = gtIg[m];
        dtm[t * D + di] = gt[m].id;
        gtm[t * G + m] = dt[di].id;
      }
    }
  }
  // Unmatched detections outside the area range are ignored.
  for (let t = 0; t < T; t++)
    for (let di = 0; di < D; di++)
      if (dtm[t * D + di] === 0 && (dt[di].area < range[0] || dt[di].area > range[1])) dtIg[t * D + di] = 1;
  return { dtMatches: dtm, dtIgnore: dtIg, dtScores: dt.map((d) => d.score), gtIgnore: gtIg, D };
}

/** Evaluates detections against ground truth as pycocotools' COCOeval(gt, loadRes(dets), 'bbox') does. */
export function cocoEvaluate(truth: CocoGroundTruth, detections: CocoDetection[]): CocoResult {
  const imgIds = [...new Set(truth.images.map((i) => i.id))].sort((a, b) => a - b);
  const catIds = [...new Set(truth.categories.map((c) => c.id))].sort((a, b) => a - b);
  const imgIndex = new Map(imgIds.map((id, i) => [id, i]));
  const catIndex = new Map(catIds.map((id, i) => [id, i]));
  const I = imgIds.length;
  const K = catIds.length;
  const key = (img: number, cat: number) => catIndex.get(cat)! * I + imgIndex.get(img)!;

  const gtsBy: Gt[][] = Array.from({ length: I * K }, () => []);
  for (const a of truth.annotations) {
    if (!imgIndex.has(a.image_id) || !catIndex.has(a.category_id)) continue;
    gtsBy[key(a.image_id, a.category_id)].push({ id: a.id, area: a.area, crowd: !!a.iscrowd, bbox: a.bbox });
  }
  const dtsBy: Det[][] = Array.from({ length: I * K }, () => []);
  detections.forEach((d, i) => {
    // loadRes numbers results from 1 in their order and takes w·h as the area.
    if (!imgIndex.has(d.image_id) || !catIndex.has(d.category_id)) return;
    dtsBy[key(d.image_id, d.category_id)].push({
      id: i + 1,
      score: d.score,
      area: d.bbox[2] * d.bbox[3],
      bbox: d.bbox,
    });
  });

  const maxDet = MAX_DETS[MAX_DETS.length - 1];
  // computeIoU: detections by score (stable), at most maxDets[-1], against the ground truth in file order.
  const sortedDts: Det[][] = [];
  const iousBy: number[][][] = [];
  for (let c = 0; c < I * K; c++) {
    const ds = dtsBy[c];
    const order = stableOrder(ds.length, (i) => -ds[i].score);
    const dt = order.slice(0, maxDet).map((i) => ds[i]);
    sortedDts.push(dt);
    const gt = gtsBy[c];
    iousBy.push(gt.length && dt.length ? dt.map((d) => gt.map((g) => iou(d.bbox, g.bbox, g.crowd))) : []);
  }

  // evaluate(): for each category, area range and image.
  const A = AREA_RANGES.length;
  const evals: (ImageEval | null)[] = new Array(K * A * I);
  for (let k = 0; k < K; k++)
    for (let a = 0; a < A; a++)
      for (let i = 0; i < I; i++) {
        const c = k * I + i;
        evals[(k * A + a) * I + i] = evaluateImage(gtsBy[c], sortedDts[c], iousBy[c], AREA_RANGES[a], maxDet);
      }

  // accumulate()
  const T = IOU_THRESHOLDS.length;
  const R = RECALL_THRESHOLDS.length;
  const M = MAX_DETS.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const pIdx = (t: number, r: number, k: number, a: number, m: number) => (((t * R + r) * K + k) * A + a) * M + m;
  const rIdx = (t: number, k: number, a: number, m: number) => ((t * K + k) * A + a) * M + m;
  for (let k = 0; k < K; k++)
    for (let a = 0; a < A; a++)
      for (let m = 0; m < M; m++) {
        const E = evals.slice((k * A + a) * I, (k * A + a + 1) * I).filter((e): e is ImageEval => e !== null);
        if (!E.length) continue;
        const md = MAX_DETS[m];
        const scores: number[] = [];
        const where: [ImageEval, number][] = [];
        for (const e of E)
          for (let d = 0; d < Math.min(md, e.D); d++) {
            scores.push(e.dtScores[d]);
            where.push([e, d]);
          }
        const order = stableOrder(scores.length, (i) => -scores[i]);
        let npig = 0;
        for (const e of E) for (const g of e.gtIgnore) if (g === 0) npig++;
        if (npig === 0) continue;
        const nd = order.length;
        for (let t = 0; t < T; t++) {
          const pr = new Float64Array(nd);
          const rc = new Float64Array(nd);
          let tp = 0;
          let fp = 0;
          order.forEach((o, j) => {
            const [e, d] = where[o];
            const matched = e.dtMatches[t * e.D + d] !== 0;
            const ignored = e.dtIgnore[t * e.D + d] !== 0;
            if (matched && !ignored) tp++;
            else if (!matched && !ignored) fp++;
            rc[j] = tp / npig;
            pr[j] = tp / (fp + tp + EPS);
          });
          recall[rIdx(t, k, a, m)] = nd ? rc[nd - 1] : 0;
          for (let j = nd - 1; j > 0; j--) if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
          // searchsorted(rc, recThrs, 'left'); recall points past the last detection keep 0.
          let j = 0;
          for (let r = 0; r < R; r++) {
            while (j < nd && rc[j] < RECALL_THRESHOLDS[r]) j++;
            precision[pIdx(t, r, k, a, m)] = j < nd ? pr[j] : 0;
          }
        }
      }

  // summarize()
  const ap = (a: number, m: number, t?: number, k?: number) => {
    const vals: number[] = [];
    for (let ti = 0; ti < T; ti++) {
      if (t !== undefined && ti !== t) continue;
      for (let r = 0; r < R; r++)
        for (let ki = 0; ki < K; ki++) if (k === undefined || ki === k) vals.push(precision[pIdx(ti, r, ki, a, m)]);
    }
    return meanDefined(vals);
  };
  const ar = (a: number, m: number) => {
    const vals: number[] = [];
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) vals.push(recall[rIdx(t, k, a, m)]);
    return meanDefined(vals);
  };
  const t50 = IOU_THRESHOLDS.indexOf(0.5);
  const t75 = IOU_THRESHOLDS.indexOf(0.75);
  const stats: CocoStats = {
    AP: ap(0, 2),
    AP50: ap(0, 2, t50),
    AP75: ap(0, 2, t75),
    APs: ap(1, 2),
    APm: ap(2, 2),
    APl: ap(3, 2),
    AR1: ar(0, 0),
    AR10: ar(0, 1),
    AR100: ar(0, 2),
    ARs: ar(1, 2),
    ARm: ar(2, 2),
    ARl: ar(3, 2),
  };
  const names = new Map(truth.categories.map((c) => [c.id, c.name]));
  const perClass = catIds.map((id, k) => ({
    categoryId: id,
    name: names.get(id),
    AP: ap(0, 2, undefined, k),
    AP50: ap(0, 2, t50, k),
  }));
  const curves = new Float64Array(T * R * K);
  for (let t = 0; t < T; t++)
    for (let r = 0; r < R; r++)
      for (let k = 0; k < K; k++) curves[(t * R + r) * K + k] = precision[pIdx(t, r, k, 0, 2)];
  return { stats, perClass, precision: curves, iouThresholds: IOU_THRESHOLDS, recallThresholds: RECALL_THRESHOLDS };
}

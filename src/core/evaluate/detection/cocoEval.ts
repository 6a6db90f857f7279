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
/**
 * Detections column by column, as summarizeDetections holds them (half a million objects cost more
 * to make and collect than to evaluate): detection j is in image imageId[j], of category
 * categoryId[j], with box bbox[4j … 4j + 3] and score score[j].
 */
export interface CocoDetectionColumns {
  imageId: ArrayLike<number>;
  categoryId: ArrayLike<number>;
  bbox: ArrayLike<number>;
  score: ArrayLike<number>;
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

/** maskApi's bbIou of boxes d and g (x, y, w, h at d…d + 3 and g…g + 3): intersection over union, or over the detection's area for a crowd region. */
function iou(dts: Float64Array, d: number, gts: Float64Array, g: number, crowd: boolean): number {
  const w = Math.min(dts[d] + dts[d + 2], gts[g] + gts[g + 2]) - Math.max(dts[d], gts[g]);
  if (w <= 0) return 0;
  const h = Math.min(dts[d + 1] + dts[d + 3], gts[g + 1] + gts[g + 3]) - Math.max(dts[d + 1], gts[g + 1]);
  if (h <= 0) return 0;
  const inter = w * h;
  const da = dts[d + 2] * dts[d + 3];
  return inter / (crowd ? da : da + gts[g + 2] * gts[g + 3] - inter);
}

/** Members of each group, in the order they came: group c holds order[start[c]] … order[start[c + 1] − 1]. */
function groupBy(groupOf: Int32Array, groups: number): { start: Int32Array; order: Int32Array } {
  const start = new Int32Array(groups + 1);
  for (const g of groupOf) start[g + 1]++;
  for (let c = 0; c < groups; c++) start[c + 1] += start[c];
  const next = start.slice(0, groups);
  const order = new Int32Array(groupOf.length);
  for (let j = 0; j < groupOf.length; j++) order[next[groupOf[j]]++] = j;
  return { start, order };
}

/**
 * Writes from … to − 1 into order[from …] by key ascending, ties in index order (numpy's stable
 * argsort; NaN last as there): each index goes to its key's rank among the sorted keys, the count
 * of smaller keys, plus the ties placed before it. A native sort of the keys and no comparator.
 */
function stableOrder(key: Float64Array, from: number, to: number, order: Int32Array): void {
  const sorted = key.slice(from, to).sort();
  let numbers = sorted.length;
  while (numbers > 0 && Number.isNaN(sorted[numbers - 1])) numbers--;
  const ties = new Int32Array(sorted.length);
  for (let q = from; q < to; q++) {
    let lo = Number.isNaN(key[q]) ? numbers : 0;
    let hi = numbers;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < key[q]) lo = mid + 1;
      else hi = mid;
    }
    order[from + lo + ties[lo]++] = q;
  }
}

/** What a detection is at one IoU threshold and area range, as accumulate() counts it. */
const FALSE_POSITIVE = 0;
const TRUE_POSITIVE = 1;
const IGNORED = 2;
const MIXED = 3;
/** evaluateImg's starting IoU for each threshold: a match needs at least this. */
const IOU_CUTS = IOU_THRESHOLDS.map((t) => Math.min(t, 1 - 1e-10));

const T = IOU_THRESHOLDS.length;
const R = RECALL_THRESHOLDS.length;
const A = AREA_RANGES.length;
const M = MAX_DETS.length;
const maxDet = MAX_DETS[M - 1];

/** The known images' and categories' indices; a cell is one (category k, image i): k·I + i, the order evaluate() visits them in. */
interface Index {
  imgIndex: Map<number, number>;
  catIndex: Map<number, number>;
  I: number;
  K: number;
}

/** The ground truth of known images and categories, in file order; a cell's are byCell.order[byCell.start[c]] …. */
interface Truth {
  G: number;
  cell: Int32Array;
  box: Float64Array;
  area: Float64Array;
  crowd: Uint8Array;
  /** evaluateImg keeps the matched ground truth's id, and a zero id reads as "no match". */
  matchable: Uint8Array;
  byCell: { start: Int32Array; order: Int32Array };
}

function readTruth(annotations: CocoGroundTruthBox[], { imgIndex, catIndex, I, K }: Index): Truth {
  const gtAnns = annotations.filter((a) => imgIndex.has(a.image_id) && catIndex.has(a.category_id));
  const G = gtAnns.length;
  const gtCell = new Int32Array(G);
  const gtBox = new Float64Array(4 * G);
  const gtArea = new Float64Array(G);
  const gtCrowd = new Uint8Array(G);
  const gtMatchable = new Uint8Array(G);
  // Read in file order, the order JSON.parse laid the objects out in memory.
  gtAnns.forEach((a, j) => {
    gtCell[j] = catIndex.get(a.category_id)! * I + imgIndex.get(a.image_id)!;
    for (let x = 0; x < 4; x++) gtBox[4 * j + x] = a.bbox[x];
    gtArea[j] = a.area;
    gtCrowd[j] = a.iscrowd ? 1 : 0;
    gtMatchable[j] = Number(a.id) !== 0 ? 1 : 0;
  });
  return {
    G,
    cell: gtCell,
    box: gtBox,
    area: gtArea,
    crowd: gtCrowd,
    matchable: gtMatchable,
    byCell: groupBy(gtCell, I * K),
  };
}

/**
 * The kept detections (maxDets[-1] a cell) numbered p in score order: box, area (w·h, as loadRes
 * takes it), rank in the cell; a category's are catStart[k] …, a cell's cellPos[cellStart[c]] … in rank order.
 */
interface Kept {
  S: number;
  box: Float64Array;
  area: Float64Array;
  rank: Int32Array;
  catStart: Int32Array;
  cellStart: Int32Array;
  cellPos: Int32Array;
}

/** Detections of known images and categories, in results order (loadRes's ids): cell, score, box. */
function readDetections(
  detections: CocoDetection[] | CocoDetectionColumns,
  { imgIndex, catIndex, I }: Index,
): { N: number; cell: Int32Array; score: Float64Array; box: Float64Array } {
  if (Array.isArray(detections)) {
    const dtAnns = detections.filter((d) => imgIndex.has(d.image_id) && catIndex.has(d.category_id));
    const N = dtAnns.length;
    const cell = new Int32Array(N);
    const score = new Float64Array(N);
    const box = new Float64Array(4 * N);
    // Read in results order, the order JSON.parse laid the objects out in memory.
    dtAnns.forEach((d, j) => {
      cell[j] = catIndex.get(d.category_id)! * I + imgIndex.get(d.image_id)!;
      score[j] = d.score;
      for (let x = 0; x < 4; x++) box[4 * j + x] = d.bbox[x];
    });
    return { N, cell, score, box };
  }
  const { imageId, categoryId, bbox, score: given } = detections;
  let N = 0;
  for (let q = 0; q < imageId.length; q++) if (imgIndex.has(imageId[q]) && catIndex.has(categoryId[q])) N++;
  const cell = new Int32Array(N);
  const score = new Float64Array(N);
  const box = new Float64Array(4 * N);
  for (let q = 0, j = 0; q < imageId.length; q++) {
    const i = imgIndex.get(imageId[q]);
    const k = catIndex.get(categoryId[q]);
    if (i === undefined || k === undefined) continue;
    cell[j] = k * I + i;
    score[j] = given[q];
    for (let x = 0; x < 4; x++) box[4 * j + x] = bbox[4 * q + x];
    j++;
  }
  return { N, cell, score, box };
}

function keepDetections(detections: CocoDetection[] | CocoDetectionColumns, index: Index): Kept {
  const { I, K } = index;
  const cells = I * K;
  // Detections of known images and categories, in results order (loadRes's ids), grouped by cell.
  const { N, cell: dtCell, score: dtScore, box: dtBox } = readDetections(detections, index);
  const dtsOfCell = groupBy(dtCell, cells);
  // computeIoU sorts each cell's detections by score (stable) and keeps maxDets[-1]; accumulate
  // concatenates a category's cells in image order and sorts again by score (stable). Both are one
  // order of a category's detections: by score, then image, then results order — the grouped order.
  const negScore = new Float64Array(N);
  for (let q = 0; q < N; q++) negScore[q] = -dtScore[dtsOfCell.order[q]];
  const byScore = new Int32Array(N);
  for (let k = 0; k < K; k++) stableOrder(negScore, dtsOfCell.start[k * I], dtsOfCell.start[(k + 1) * I], byScore);

  // Numbered in that order, at most maxDets[-1] a cell.
  const cellStart = new Int32Array(cells + 1);
  for (let c = 0; c < cells; c++)
    cellStart[c + 1] = cellStart[c] + Math.min(dtsOfCell.start[c + 1] - dtsOfCell.start[c], maxDet);
  const S = cellStart[cells];
  const posBox = new Float64Array(4 * S);
  const posArea = new Float64Array(S);
  const posRank = new Int32Array(S);
  const cellPos = new Int32Array(S);
  const catStart = new Int32Array(K + 1);
  const seen = new Int32Array(cells);
  let p = 0;
  for (let k = 0; k < K; k++) {
    catStart[k] = p;
    for (let q = dtsOfCell.start[k * I]; q < dtsOfCell.start[(k + 1) * I]; q++) {
      const j = dtsOfCell.order[byScore[q]];
      const c = dtCell[j];
      const rank = seen[c]++;
      if (rank >= maxDet) continue;
      for (let x = 0; x < 4; x++) posBox[4 * p + x] = dtBox[4 * j + x];
      posArea[p] = dtBox[4 * j + 2] * dtBox[4 * j + 3];
      posRank[p] = rank;
      cellPos[cellStart[c] + rank] = p++;
    }
  }
  catStart[K] = p;
  return { S, box: posBox, area: posArea, rank: posRank, catStart, cellStart, cellPos };
}

/** evaluate(): each kept detection's outcome at each area range and threshold. */
function evaluateCells(gt: Truth, dt: Kept, cells: number): Outcomes {
  const { box: gtBox, area: gtArea, crowd: gtCrowd, matchable: gtMatchable, byCell: gtsOf } = gt;
  const { S, box: posBox, area: posArea, cellStart, cellPos } = dt;
  // sameState[p·A + a]: most are the
  // same at every threshold (a box near no ground truth is unmatched at all of them). Only a MIXED
  // one has its thresholds' outcomes in state[(p·A + a)·T + t].
  const sameState = new Uint8Array(S * A);
  const state = new Uint8Array(S * A * T);
  let ious = new Float64Array(0);
  const bestIou = new Float64Array(maxDet);
  let gtOrder = new Int32Array(0);
  let gtIg = new Uint8Array(0);
  let gtm = new Uint8Array(0);
  for (let c = 0; c < cells; c++) {
    const d0 = cellStart[c];
    const nD = cellStart[c + 1] - d0;
    if (!nD) continue;
    const g0 = gtsOf.start[c];
    const nG = gtsOf.start[c + 1] - g0;
    if (ious.length < nD * nG) ious = new Float64Array(2 * nD * nG);
    if (gtOrder.length < nG) {
      gtOrder = new Int32Array(2 * nG);
      gtIg = new Uint8Array(2 * nG);
      gtm = new Uint8Array(2 * T * nG);
    }
    // computeIoU, once for every range and threshold; a detection whose best IoU is under a threshold matches nothing.
    for (let di = 0; di < nD; di++) {
      bestIou[di] = -Infinity;
      for (let gi = 0; gi < nG; gi++) {
        const gj = gtsOf.order[g0 + gi];
        const v = iou(posBox, 4 * cellPos[d0 + di], gtBox, 4 * gj, gtCrowd[gj] === 1);
        ious[di * nG + gi] = v;
        bestIou[di] = Math.max(bestIou[di], v);
      }
    }
    for (let a = 0; a < A; a++) {
      const lo = AREA_RANGES[a][0];
      const hi = AREA_RANGES[a][1];
      // evaluateImg: ground truth ordered by its ignore flag (stable), regular ones first.
      let n = 0;
      for (let ignored = 0; ignored < 2; ignored++)
        for (let gi = 0; gi < nG; gi++) {
          const gj = gtsOf.order[g0 + gi];
          const ig = gtCrowd[gj] || gtArea[gj] < lo || gtArea[gj] > hi ? 1 : 0;
          if (ig !== ignored) continue;
          gtOrder[n] = gi;
          gtIg[n++] = ig;
        }
      gtm.fill(0, 0, T * nG);
      // Thresholds are independent (one gtm row each), so each detection goes through all of them in turn.
      for (let di = 0; di < nD; di++) {
        const p = cellPos[d0 + di];
        const at = (p * A + a) * T;
        const outside = posArea[p] < lo || posArea[p] > hi;
        if (bestIou[di] < IOU_CUTS[0]) {
          // Under the lowest threshold, and so under all: unmatched at every one.
          sameState[p * A + a] = outside ? IGNORED : FALSE_POSITIVE;
          continue;
        }
        for (let t = 0; t < T; t++) {
          const threshold = IOU_CUTS[t];
          if (bestIou[di] < threshold) {
            // Under this threshold, and so under every higher one: unmatched from here on.
            for (let u = t; u < T; u++) state[at + u] = outside ? IGNORED : FALSE_POSITIVE;
            break;
          }
          let m = -1;
          let best = threshold;
          for (let gi = 0; gi < nG; gi++) {
            const gj = gtsOf.order[g0 + gtOrder[gi]];
            if (gtm[t * nG + gi] && !gtCrowd[gj]) continue; // matched already, and not a crowd
            if (m > -1 && gtIg[m] === 0 && gtIg[gi] === 1) break; // matched a regular one; the rest are ignored
            const v = ious[di * nG + gtOrder[gi]];
            if (v < best) continue;
            best = v;
            m = gi;
          }
          const matched = m > -1 && gtMatchable[gtsOf.order[g0 + gtOrder[m]]] === 1;
          if (m > -1) gtm[t * nG + m] = 1;
          // Unmatched detections outside the area range are ignored.
          const ignored = (m > -1 && gtIg[m] === 1) || (!matched && outside);
          state[at + t] = ignored ? IGNORED : matched ? TRUE_POSITIVE : FALSE_POSITIVE;
        }
        let same = 1;
        while (same < T && state[at + same] === state[at]) same++;
        sameState[p * A + a] = same === T ? state[at] : MIXED;
      }
    }
  }
  return { sameState, state };
}

/** Each kept detection's outcome: sameState[p·A + a], or MIXED and then state[(p·A + a)·T + t]. */
interface Outcomes {
  sameState: Uint8Array;
  state: Uint8Array;
}

/**
 * Per threshold t, the runs of a category's detections (see accumulate): recall and precision where
 * each starts, at rc[t·W + u] and pr[t·W + u] for u < n[t]. There is at most one more run than the
 * category's true positives, which are at most its counted ground truth, so W is that count + 1.
 */
interface Runs {
  W: number;
  rc: Float64Array;
  pr: Float64Array;
  n: Int32Array;
  tp: Int32Array;
  fp: Int32Array;
}

/** The runs of the counted detections pos[from] … pos[to − 1], by score, at area range a, with np ground truth. */
function countRuns(
  { sameState, state }: Outcomes,
  pos: Int32Array,
  from: number,
  to: number,
  a: number,
  np: number,
  { W, rc, pr, n, tp, fp }: Runs,
): void {
  n.fill(0);
  tp.fill(0);
  fp.fill(0);
  // False positives at every threshold, counted once (fp[t] holds the rest).
  let fpAll = 0;
  const record = (t: number) => {
    rc[t * W + n[t]] = tp[t] / np;
    pr[t * W + n[t]++] = tp[t] / (fpAll + fp[t] + tp[t] + EPS);
  };
  for (let j = from; j < to; j++) {
    const first = j === from;
    const same = sameState[pos[j] * A + a];
    if (same === MIXED) {
      const at = (pos[j] * A + a) * T;
      for (let t = 0; t < T; t++) {
        const s = state[at + t];
        if (s === TRUE_POSITIVE) tp[t]++;
        else if (s === FALSE_POSITIVE) fp[t]++;
        if (s === TRUE_POSITIVE || first) record(t);
      }
      continue;
    }
    if (same === FALSE_POSITIVE) fpAll++;
    if (same === TRUE_POSITIVE) for (let t = 0; t < T; t++) tp[t]++;
    if (same === TRUE_POSITIVE || first) for (let t = 0; t < T; t++) record(t);
  }
}

/** accumulate(): precision[t][r][k][a][m] and recall[t][k][a][m], −1 where a category has no ground truth. */
function accumulate(
  gt: Truth,
  dt: Kept,
  outcomes: Outcomes,
  I: number,
  K: number,
): { precision: Float64Array; recall: Float64Array } {
  const { G, cell: gtCell, area: gtArea, crowd: gtCrowd } = gt;
  const { S, rank: posRank, catStart } = dt;
  // The ground truth each category and range counts (not ignored)…
  const npig = new Int32Array(K * A);
  for (let j = 0; j < G; j++)
    for (let a = 0; a < A; a++)
      if (!gtCrowd[j] && !(gtArea[j] < AREA_RANGES[a][0] || gtArea[j] > AREA_RANGES[a][1]))
        npig[Math.floor(gtCell[j] / I) * A + a]++;
  // …the detections each maxDets counts, by category (rank in the cell under it)…
  const counted = MAX_DETS.map((md) => {
    const pos = new Int32Array(S);
    const start = new Int32Array(K + 1);
    let n = 0;
    for (let k = 0; k < K; k++) {
      start[k] = n;
      for (let p = catStart[k]; p < catStart[k + 1]; p++) if (posRank[p] < md) pos[n++] = p;
    }
    start[K] = n;
    return { pos, start };
  });
  // …and precision at each recall threshold. Recall only changes at a true positive, and precision
  // only falls between two, so the runs that start there (and at the first detection) hold every
  // value that the monotone precision and searchsorted(rc, recThrs, 'left') can read.
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const pIdx = (t: number, r: number, k: number, a: number, m: number) => (((t * R + r) * K + k) * A + a) * M + m;
  const rIdx = (t: number, k: number, a: number, m: number) => ((t * K + k) * A + a) * M + m;
  const W = npig.reduce((most, n) => Math.max(most, n), 0) + 1;
  const runs: Runs = {
    W,
    rc: new Float64Array(T * W),
    pr: new Float64Array(T * W),
    n: new Int32Array(T),
    tp: new Int32Array(T),
    fp: new Int32Array(T),
  };
  for (let k = 0; k < K; k++)
    for (let a = 0; a < A; a++) {
      const np = npig[k * A + a];
      if (np === 0) continue;
      for (let m = 0; m < M; m++) {
        const { pos, start } = counted[m];
        countRuns(outcomes, pos, start[k], start[k + 1], a, np, runs);
        for (let t = 0; t < T; t++) {
          const n = runs.n[t];
          const rc = runs.rc;
          const pr = runs.pr;
          const base = t * W;
          recall[rIdx(t, k, a, m)] = n ? rc[base + n - 1] : 0;
          for (let u = base + n - 1; u > base; u--) if (pr[u] > pr[u - 1]) pr[u - 1] = pr[u];
          // Recall points past the last detection keep 0.
          let u = 0;
          for (let r = 0; r < R; r++) {
            while (u < n && rc[base + u] < RECALL_THRESHOLDS[r]) u++;
            precision[pIdx(t, r, k, a, m)] = u < n ? pr[base + u] : 0;
          }
        }
      }
    }
  return { precision, recall };
}

/** Evaluates detections against ground truth as pycocotools' COCOeval(gt, loadRes(dets), 'bbox') does. */
export function cocoEvaluate(truth: CocoGroundTruth, detections: CocoDetection[] | CocoDetectionColumns): CocoResult {
  const imgIds = [...new Set(truth.images.map((i) => i.id))].sort((a, b) => a - b);
  const catIds = [...new Set(truth.categories.map((c) => c.id))].sort((a, b) => a - b);
  const index: Index = {
    imgIndex: new Map(imgIds.map((id, i) => [id, i])),
    catIndex: new Map(catIds.map((id, i) => [id, i])),
    I: imgIds.length,
    K: catIds.length,
  };
  const K = index.K;
  // One function a step, so that each is optimised on its own.
  const gt = readTruth(truth.annotations, index);
  const dt = keepDetections(detections, index);
  const outcomes = evaluateCells(gt, dt, index.I * K);
  const { precision, recall } = accumulate(gt, dt, outcomes, index.I, K);
  const pIdx = (t: number, r: number, k: number, a: number, m: number) => (((t * R + r) * K + k) * A + a) * M + m;
  const rIdx = (t: number, k: number, a: number, m: number) => ((t * K + k) * A + a) * M + m;

  // summarize(): means over precision[t][r][k] in numpy's (C) order, of one threshold or category or all.
  const ap = (a: number, m: number, t?: number, k?: number) => {
    const vals: number[] = [];
    for (let ti = t ?? 0; ti <= (t ?? T - 1); ti++)
      for (let r = 0; r < R; r++)
        for (let ki = k ?? 0; ki <= (k ?? K - 1); ki++) vals.push(precision[pIdx(ti, r, ki, a, m)]);
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

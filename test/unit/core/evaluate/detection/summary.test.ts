// The detection summary: per-box outcomes and their reasons, counts at a confidence, VOC and
// Ultralytics AP, best F1 and the confusion matrix, on hand-built cases whose answers are worked
// out in the comments; and the COCO stats of the pycocotools reference run through the conversion.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import type { CocoDetection, CocoGroundTruth } from '../../../../../src/core/evaluate/detection/cocoEval';
import { outcomesAt, summarizeDetections } from '../../../../../src/core/evaluate/detection/summary';
import type {
  BoxXYWH,
  DetectionBox,
  DetectionImage,
  PredictedBox,
  TruthOutcome,
} from '../../../../../src/core/evaluate/detection/types';
import { repoPath } from '../../../helpers/paths';

const near = (got: number | null, want: number, what = '', tol = 1e-9) =>
  assert.ok(got !== null && Math.abs(got - want) < tol, `${what} ${got} vs ${want}`);

const gt = (id: number, label: number, bbox: BoxXYWH, extra: Partial<DetectionBox> = {}): DetectionBox => ({
  id,
  label,
  bbox,
  area: bbox[2] * bbox[3],
  ...extra,
});
const image = (imageId: number, truths: DetectionBox[]): DetectionImage => ({
  imageId,
  sampleId: `img${imageId}.jpg`,
  width: 200,
  height: 200,
  truths,
});
/** Predictions numbered 0, 1, … in the order given. */
const preds = (...list: [label: number, bbox: BoxXYWH, score: number][]): PredictedBox[] =>
  list.map(([label, bbox, score], id) => ({ id, label, bbox, score }));
const one = (img: DetectionImage, p: PredictedBox[]) => new Map([[img.imageId, p]]);
const brief = (t: TruthOutcome) => [t.id, t.outcome, t.predictionId, t.iou, t.score];

describe('detection summary', () => {
  const CAT = 0;
  const DOG = 1;

  // Truths: 1 cat at (0,0), 2 dog at (20,0), 3 cat at (40,0), 4 a dog crowd region over (60..90, 0..30).
  const truths = [
    gt(1, CAT, [0, 0, 10, 10]),
    gt(2, DOG, [20, 0, 10, 10]),
    gt(3, CAT, [40, 0, 10, 10]),
    gt(4, DOG, [60, 0, 30, 30], { iscrowd: true }),
  ];
  const scene = image(1, truths);
  const scenePreds = preds(
    [CAT, [0, 0, 10, 10], 0.9], // 0: on cat 1, IoU 1 → tp
    [CAT, [20, 0, 10, 10], 0.8], // 1: on dog 2 → fp wrong-class (IoU 1)
    [DOG, [0, 50, 10, 10], 0.7], // 2: on nothing → fp background
    [CAT, [40, 0, 10, 10], 0.1], // 3: on cat 3, IoU 1 → tp, but below the 0.25 confidence
    [DOG, [65, 5, 10, 10], 0.6], // 4: inside the crowd (intersection / own area = 1) → ignored
    [CAT, [1, 0, 10, 10], 0.85], // 5: on cat 1 again, IoU 90/110 → fp duplicate
  );

  it('gives every prediction its outcome and reason, and every truth its match', () => {
    const s = summarizeDetections(['cat', 'dog'], [scene], one(scene, scenePreds));
    const [out] = s.images;
    assert.deepStrictEqual(
      out.predictions.map((p) => [p.id, p.outcome, p.reason, p.truthId, p.iou]),
      [
        [0, 'tp', undefined, 1, 1],
        [1, 'fp', 'wrong-class', 2, 1],
        [2, 'fp', 'background', undefined, undefined],
        [3, 'tp', undefined, 3, 1],
        [4, 'ignored', undefined, 4, 1],
        [5, 'fp', 'duplicate', 1, 90 / 110],
      ],
    );
    assert.deepStrictEqual(out.truths.map(brief), [
      [1, 'matched', 0, 1, 0.9],
      [2, 'fn', undefined, undefined, undefined],
      [3, 'matched', 3, 1, 0.1],
      [4, 'ignored', undefined, undefined, undefined],
    ]);
    assert.strictEqual(out.sampleId, 'img1.jpg');
  });

  it('re-classifies with outcomesAt: predictions below the confidence dropped, their truths missed', () => {
    const [out] = summarizeDetections(['cat', 'dog'], [scene], one(scene, scenePreds)).images;
    // c = 0 keeps everything as it is.
    assert.deepStrictEqual(outcomesAt(out, 0), out);
    // c = 0.25 drops prediction 3 (0.1): cat 3 becomes a miss, with no prediction, IoU or score.
    const at25 = outcomesAt(out, 0.25);
    assert.deepStrictEqual(
      at25.predictions.map((p) => p.id),
      [0, 1, 2, 4, 5],
    );
    assert.deepStrictEqual(at25.truths[2], { ...truths[2], outcome: 'fn' });
    // c = 0.9 is inclusive: prediction 0 (0.9) stays, so cat 1 stays matched.
    const at90 = outcomesAt(out, 0.9);
    assert.deepStrictEqual(
      at90.predictions.map((p) => p.id),
      [0],
    );
    assert.deepStrictEqual(at90.truths.map(brief)[0], [1, 'matched', 0, 1, 0.9]);
    // c = 0.95: nothing left; every regular truth a miss, the crowd region still ignored.
    const at95 = outcomesAt(out, 0.95);
    assert.deepStrictEqual(at95.predictions, []);
    assert.deepStrictEqual(
      at95.truths.map((t) => t.outcome),
      ['fn', 'fn', 'fn', 'ignored'],
    );
    // The input is left as it was.
    assert.strictEqual(out.predictions.length, 6);
    assert.strictEqual(out.truths[2].outcome, 'matched');
  });

  it('counts at the confidence, per class and over all classes, and finds the best-F1 confidence', () => {
    const s = summarizeDetections(['cat', 'dog'], [scene], one(scene, scenePreds), { confidence: 0.25 });
    // Kept (≥ 0.25): 0 tp cat, 5 fp cat, 1 fp cat, 2 fp dog, 4 ignored. Missed: dog 2, cat 3 (its match scores 0.1).
    // cat: tp 1, fp 2, fn 1 → P 1/3, R 1/2, F1 2·1/(2·1 + 2 + 1) = 0.4. dog: tp 0, fp 1, fn 1 → P 0, R 0, F1 0.
    const rows = s.perClass.map((c) => [c.class, c.support, c.tp, c.fp, c.fn, c.precision, c.recall, c.f1]);
    assert.deepStrictEqual(rows, [
      ['cat', 2, 1, 2, 1, 1 / 3, 1 / 2, 0.4],
      ['dog', 1, 0, 1, 1, 0, 0, 0],
    ]);
    // All classes: tp 1, fp 3, fn 2 → P 1/4, R 1/3, F1 2/(2 + 3 + 2) = 2/7.
    assert.strictEqual(s.metrics.precision, 1 / 4);
    assert.strictEqual(s.metrics.recall, 1 / 3);
    assert.strictEqual(s.metrics.F1, 2 / 7);
    // F1 = 2tp / (tp + fp + 3 regular truths) at each distinct score, from the top:
    // 0.9: 2/4 = 0.5; 0.85: 2/5; 0.8: 2/6; 0.7: 2/7; 0.6 (ignored): 2/7; 0.1: tp 2, fp 3 → 4/8 = 0.5.
    // The tie goes to the higher confidence.
    assert.strictEqual(s.metrics.bestF1, 0.5);
    assert.strictEqual(s.metrics.bestF1Confidence, 0.9);
    assert.strictEqual(s.confidence, 0.25);
    assert.strictEqual(s.iou, 0.5);
  });

  it('fills the confusion matrix [truth][predicted] with a background row and column', () => {
    const s = summarizeDetections(['cat', 'dog'], [scene], one(scene, scenePreds), { confidence: 0.25 });
    // Kept (≥ 0.25), matched by IoU > 0.5 whatever the class, one-to-one by highest IoU; crowd left out:
    // cat 1 ↔ prediction 0 (IoU 1 beats prediction 5's 0.82) → [cat][cat]; dog 2 ↔ prediction 1 (cat) → [dog][cat];
    // cat 3's only prediction scores 0.1 → missed [cat][bg]; predictions 5, 2 (dog) and 4 (dog, in the crowd) → [bg][·].
    assert.deepStrictEqual(s.confusion, [
      [1, 0, 1],
      [1, 0, 0],
      [1, 2, 0],
    ]);
  });

  it('finds the best-F1 confidence among the prediction scores', () => {
    const img = image(1, [gt(1, CAT, [0, 0, 10, 10]), gt(2, CAT, [50, 0, 10, 10])]);
    const p = preds(
      [CAT, [0, 0, 10, 10], 0.9], // tp
      [CAT, [100, 100, 10, 10], 0.8], // fp
      [CAT, [50, 0, 10, 10], 0.7], // tp
      [CAT, [150, 100, 10, 10], 0.6], // fp
    );
    // F1 = 2tp / (tp + fp + 2): 0.9 → 2/3; 0.8 → 2/4; 0.7 → 4/5; 0.6 → 4/6.
    const s = summarizeDetections(['cat'], [img], one(img, p));
    assert.strictEqual(s.metrics.bestF1, 0.8);
    assert.strictEqual(s.metrics.bestF1Confidence, 0.7);
  });

  it('tells localisation from background by IoU 0.1 with a truth of the class', () => {
    const img = image(1, [gt(1, CAT, [0, 0, 10, 10])]);
    const p = preds(
      [CAT, [0, 0, 10, 3], 0.9], // IoU 30/100 = 0.3 → localisation
      [CAT, [0, 0, 10, 0.9], 0.8], // IoU 9/100 = 0.09 → background
      [CAT, [5, 5, 0, 10], 0.7], // zero area: IoU 0 → background
    );
    const [out] = summarizeDetections(['cat'], [img], one(img, p)).images;
    assert.deepStrictEqual(
      out.predictions.map((x) => [x.outcome, x.reason, x.truthId, x.iou]),
      [
        ['fp', 'localisation', 1, 0.3],
        ['fp', 'background', undefined, undefined],
        ['fp', 'background', undefined, undefined],
      ],
    );
    assert.strictEqual(out.truths[0].outcome, 'fn');
  });

  it('breaks tied scores by the order the predictions were given', () => {
    const img = image(1, [gt(1, CAT, [0, 0, 10, 10])]);
    const loose: [number, BoxXYWH, number] = [CAT, [0, 0, 10, 6], 0.5]; // IoU 0.6
    const exact: [number, BoxXYWH, number] = [CAT, [0, 0, 10, 10], 0.5]; // IoU 1
    const first = summarizeDetections(['cat'], [img], one(img, preds(loose, exact))).images[0];
    assert.deepStrictEqual(
      first.predictions.map((p) => [p.outcome, p.reason]),
      [
        ['tp', undefined],
        ['fp', 'duplicate'],
      ],
    );
    assert.deepStrictEqual(brief(first.truths[0]), [1, 'matched', 0, 0.6, 0.5]);
    const swapped = summarizeDetections(['cat'], [img], one(img, preds(exact, loose))).images[0];
    assert.deepStrictEqual(brief(swapped.truths[0]), [1, 'matched', 0, 1, 0.5]);
  });

  it('IoU exactly 0.5: a match for COCO, per box and Ultralytics; not for VOC (> 0.5) or the confusion matrix (> 0.5)', () => {
    // [0,0,10,5] in [0,0,10,10]: intersection 50, union 100 + 50 − 50 = 100, IoU 0.5 exactly.
    const img = image(1, [gt(1, CAT, [0, 0, 10, 10])]);
    const s = summarizeDetections(['cat'], [img], one(img, preds([CAT, [0, 0, 10, 5], 0.9])));
    assert.strictEqual(s.images[0].predictions[0].outcome, 'tp');
    // COCO AP50: precision 1/(1 + eps) at every recall point.
    near(s.metrics.AP50, 1, 'AP50', 1e-12);
    // VOC: the only detection is a false positive → AP 0 both ways.
    assert.strictEqual(s.metrics.VOC07_AP50, 0);
    assert.strictEqual(s.metrics.VOC_AP50, 0);
    // Ultralytics at 0.5: recall [1], precision [1]; envelope over recall [0, 1, 1] is [1, 1, 0]; np.interp
    // gives 1 at x < 1 and 0 at x = 1 (the last sentinel); trapezoids: 99 × 0.01 + 0.01 × (1 + 0)/2 = 0.995.
    near(s.metrics.mAP50, 0.995, 'mAP50');
    assert.deepStrictEqual(s.confusion, [
      [0, 1],
      [1, 0],
    ]);
  });

  it('VOC 11-point and all-point AP by hand, with difficult boxes counted neither way', () => {
    // Truths: cats 1, 2, 3 and a difficult cat 4. Detections by score: on 1 (tp), on 4 (difficult: neither),
    // on nothing (fp), on 2 (tp), on 4 again (neither). npos = 3 (difficult left out).
    // Cumulative over the detections: tp 1 1 1 2 2, fp 0 0 1 1 1 → recall 1/3 1/3 1/3 2/3 2/3,
    // precision 1 1 1/2 2/3 2/3.
    // 11-point: max precision at recall ≥ t for t = 0, .1, .2, .3 → 1; .4, .5, .6 → 2/3; .7 … 1 → 0:
    // (4 · 1 + 3 · 2/3) / 11 = 6/11.
    // All-point: envelope 1 up to recall 1/3, 2/3 up to 2/3, then 0: 1/3 · 1 + 1/3 · 2/3 = 5/9.
    const all = [
      gt(1, CAT, [0, 0, 10, 10]),
      gt(2, CAT, [20, 0, 10, 10]),
      gt(3, CAT, [40, 0, 10, 10]),
      gt(4, CAT, [60, 0, 10, 10], { difficult: true }),
    ];
    const p = preds(
      [CAT, [0, 0, 10, 10], 0.9],
      [CAT, [60, 0, 10, 10], 0.85],
      [CAT, [0, 100, 10, 10], 0.8],
      [CAT, [20, 0, 10, 10], 0.7],
      [CAT, [60, 0, 10, 9], 0.6],
    );
    const img = image(1, all);
    const s = summarizeDetections(['cat'], [img], one(img, p));
    near(s.metrics.VOC07_AP50, 6 / 11, 'VOC07');
    near(s.metrics.VOC_AP50, 5 / 9, 'VOC');
    // Per box: both detections on the difficult box are ignored; it remembers the first.
    assert.deepStrictEqual(
      s.images[0].predictions.map((x) => x.outcome),
      ['tp', 'ignored', 'fp', 'tp', 'ignored'],
    );
    assert.deepStrictEqual(
      s.images[0].truths.map((t) => [t.outcome, t.predictionId]),
      [
        ['matched', 0],
        ['matched', 3],
        ['fn', undefined],
        ['matched', 1],
      ],
    );
    // At 0.86 the difficult box's detection is dropped: it goes back to ignored, not to a miss.
    assert.strictEqual(outcomesAt(s.images[0], 0.86).truths[3].outcome, 'ignored');

    // Were cat 4 not difficult, the detection on it would be a tp (npos 4): recall .25 .5 .5 .75 .75,
    // precision 1 1 2/3 3/4 3/5; 11-point: t ≤ .5 → 1, .6, .7 → 3/4, above → 0: (6 + 1.5)/11.
    const plain = image(1, all.slice(0, 3).concat(gt(4, CAT, [60, 0, 10, 10])));
    near(summarizeDetections(['cat'], [plain], one(plain, p)).metrics.VOC07_AP50, 7.5 / 11, 'VOC07 without difficult');
  });

  it('the same detections under COCO, VOC and Ultralytics, worked by hand', () => {
    // Cats 1, 2, 3; detections by score: on 1 (tp), on nothing (fp), on 2 (tp). Recall 1/3 1/3 2/3, precision 1 1/2 2/3.
    const img = image(1, [gt(1, CAT, [0, 0, 10, 10]), gt(2, CAT, [20, 0, 10, 10]), gt(3, CAT, [40, 0, 10, 10])]);
    const p = preds([CAT, [0, 0, 10, 10], 0.9], [CAT, [0, 100, 10, 10], 0.8], [CAT, [20, 0, 10, 10], 0.7]);
    const m = summarizeDetections(['cat'], [img], one(img, p)).metrics;
    // COCO: envelope 1, 2/3, 2/3; recall points 0 … .33 (34) → 1, .34 … .66 (33) → 2/3, .67 … 1 → 0: 56/101.
    near(m.AP50, 56 / 101, 'AP50', 1e-12);
    near(m.VOC07_AP50, 6 / 11, 'VOC07');
    near(m.VOC_AP50, 5 / 9, 'VOC');
    // Ultralytics: recall [0, 1/3, 1/3, 2/3, 1], envelope [1, 1, 2/3, 2/3, 0]; interpolated at x = 0 … 1 step .01:
    // 1 up to .33, 2/3 from .34 to .66, 2 − 2x from .67 on. Trapezoids: .33 + .01 · (1 + 2/3)/2 + .32 · 2/3
    // + .01 · (2/3 + .66)/2 + (1 − (2 · .67 − .67²)) = .33 + .008333 + .213333 + .006633 + .1089 = .6672.
    // All IoUs are 1, so every threshold gives the same: mAP50-95 = mAP50.
    near(m.mAP50, 0.6672, 'mAP50');
    near(m['mAP50-95'], 0.6672, 'mAP50-95');
  });

  it('Ultralytics matches one-to-one by IoU, not greedily by score', () => {
    // Cats a [0,0,10,10] and b [4,0,10,10]. Prediction 0 (0.9) = a (IoU 1 with a); prediction 1 (0.8) [1,0,10,10]:
    // IoU 90/110 = .82 with a, 70/130 = .54 with b. Greedy (COCO, per box): 0 takes a, 1 takes b.
    // Ultralytics at 0.5: both keep their best truth, a; a keeps the first in score order, 0; 1 is wrong.
    // Recall [.5, .5], precision [1, .5]; envelope over [0, .5, .5, 1] is [1, 1, .5, 0]; interpolated: 1 up to .49,
    // .5 at .5 (the last of the equal recalls), 1 − x above. Trapezoids: .49 + .01 · 1.5/2 + ∫.5..1 (1 − x) = .6225.
    const img = image(1, [gt(1, CAT, [0, 0, 10, 10]), gt(2, CAT, [4, 0, 10, 10])]);
    const p = preds([CAT, [0, 0, 10, 10], 0.9], [CAT, [1, 0, 10, 10], 0.8]);
    const s = summarizeDetections(['cat'], [img], one(img, p));
    near(s.metrics.mAP50, 0.6225, 'mAP50');
    assert.deepStrictEqual(
      s.images[0].predictions.map((x) => [x.outcome, x.truthId]),
      [
        ['tp', 1],
        ['tp', 2],
      ],
    );
    near(s.metrics.AP50, 1, 'AP50', 1e-12);
  });

  it('Ultralytics mAP50-95 averages the ten thresholds', () => {
    // One cat; prediction 0 (0.9) IoU 68/100 = .68, prediction 1 (0.8) IoU 1. At .50 … .65 prediction 0 is
    // right and 1 is not: recall [1, 1], precision [1, .5] → .995 (as for a lone tp). At .70 … .95 only
    // prediction 1 is right: recall [0, 1], precision [0, .5]; envelope over [0, 0, 1, 1] is [1, .5, .5, 0],
    // interpolated .5 at x < 1 (x = 0 takes the last of the equal recalls), 0 at 1 → .495 + .0025 = .4975.
    // Mean: (4 · .995 + 6 · .4975) / 10 = .6965.
    const img = image(1, [gt(1, CAT, [0, 0, 10, 10])]);
    const p = preds([CAT, [0, 0, 10, 6.8], 0.9], [CAT, [0, 0, 10, 10], 0.8]);
    const m = summarizeDetections(['cat'], [img], one(img, p)).metrics;
    near(m.mAP50, 0.995, 'mAP50');
    near(m['mAP50-95'], 0.6965, 'mAP50-95');
  });

  it('crowd regions: detections in them are ignored, not false positives; the region is never missed', () => {
    const img = image(1, [gt(1, CAT, [0, 0, 10, 10]), gt(2, CAT, [50, 0, 50, 50], { iscrowd: true })]);
    const p = preds([CAT, [0, 0, 10, 10], 0.9], [CAT, [60, 10, 10, 10], 0.8], [CAT, [55, 5, 10, 10], 0.7]);
    const s = summarizeDetections(['cat'], [img], one(img, p));
    assert.deepStrictEqual(
      s.images[0].predictions.map((x) => [x.outcome, x.truthId]),
      [
        ['tp', 1],
        ['ignored', 2],
        ['ignored', 2],
      ],
    );
    assert.strictEqual(s.images[0].truths[1].outcome, 'ignored');
    assert.deepStrictEqual([s.metrics.precision, s.metrics.recall, s.perClass[0].support], [1, 1, 1]);
    // COCO ignores them too: AP50 is a lone true positive's.
    near(s.metrics.AP50, 1, 'AP50', 1e-12);
  });

  it('a class without ground truth: AP null, left out of the means; its predictions are false positives', () => {
    const classes = ['cat', 'dog', 'bird'];
    const img = image(1, [gt(1, CAT, [0, 0, 10, 10]), gt(2, DOG, [20, 0, 10, 10])]);
    // A bird (no bird in the data) on the dog, a cat and a zero-area cat.
    const p = preds(
      [CAT, [0, 0, 10, 10], 0.9],
      [DOG, [20, 0, 10, 10], 0.8],
      [2, [20, 0, 10, 10], 0.7],
      [CAT, [100, 100, 0, 0], 0.6],
    );
    const s = summarizeDetections(classes, [img], one(img, p));
    const bird = s.perClass[2];
    assert.deepStrictEqual(
      [bird.support, bird.AP, bird.AP50, bird.tp, bird.fp, bird.fn, bird.precision, bird.recall],
      [0, null, null, 0, 1, 0, 0, null],
    );
    assert.strictEqual(s.images[0].predictions[2].reason, 'wrong-class');
    assert.strictEqual(s.images[0].predictions[3].reason, 'background');
    assert.ok(s.prCurves[2].precision.every((v) => v === null));
    // The dog is found at precision 1: AP 1 (up to pycocotools' eps); the cat's zero-area fp comes after
    // its tp, so the cat's AP is 1 too. Means over cat and dog only.
    near(s.metrics.AP50, 1, 'AP50', 1e-12);
    near(s.metrics.VOC_AP50, 1, 'VOC');
    near(s.metrics.VOC07_AP50, 1, 'VOC07');
    near(s.metrics.mAP50, 0.995, 'mAP50');
    // PR curves are at the 101 recall points.
    assert.strictEqual(s.prCurves[0].recall.length, 101);
    near(s.prCurves[0].precision[100], 1, 'cat precision at recall 1', 1e-12);
  });

  it('no ground truth at all: every AP null', () => {
    const img = image(1, []);
    const s = summarizeDetections(['cat'], [img], one(img, preds([CAT, [0, 0, 10, 10], 0.9])));
    for (const k of ['AP', 'AP50', 'VOC07_AP50', 'VOC_AP50', 'mAP50', 'mAP50-95', 'recall', 'F1', 'bestF1'])
      assert.strictEqual(s.metrics[k], null, k);
    assert.strictEqual(s.metrics.precision, 0);
    assert.deepStrictEqual(s.confusion, [
      [0, 0],
      [1, 0],
    ]);
  });

  it('refuses labels outside the classes and repeated image ids', () => {
    const img = image(1, [gt(1, CAT, [0, 0, 10, 10])]);
    assert.throws(
      () => summarizeDetections(['cat'], [img], one(img, preds([3, [0, 0, 10, 10], 0.9]))),
      /image 1: prediction 0 has label 3, not one of the 1 classes/,
    );
    assert.throws(() => summarizeDetections(['cat'], [img, img], new Map()), /image 1 appears twice/);
    assert.throws(
      () => summarizeDetections(['cat'], [img], one(img, preds([0, [0, 0, 10, 10], NaN]))),
      /image 1: prediction 0 has box \[0,0,10,10\] and score NaN/,
    );
    assert.throws(
      () => summarizeDetections(['cat'], [img], one(img, preds([0, [0, 0, -1, 10], 0.5]))),
      /prediction 0 has box \[0,0,-1,10\]/,
    );
  });

  it('puts the COCO stats of the pycocotools reference run under the issue keys', () => {
    const fixture = (f: string) => JSON.parse(readFileSync(repoPath('test/fixtures/coco-reference', f), 'utf8'));
    const truth = fixture('sampled_gts_bbox_area.json') as CocoGroundTruth & {
      images: { id: number; width: number; height: number }[];
    };
    const detections = fixture('sampled_bbox_results.json').annotations as CocoDetection[];
    const catIds = truth.categories.map((c) => c.id).sort((a, b) => a - b);
    const label = new Map(catIds.map((id, i) => [id, i]));
    const images = truth.images.map((i) => ({
      ...image(i.id, []),
      truths: truth.annotations
        .filter((a) => a.image_id === i.id)
        .map((a) =>
          gt(a.id, label.get(a.category_id)!, a.bbox, { area: a.area, ...(a.iscrowd ? { iscrowd: true } : {}) }),
        ),
    }));
    const predictions = new Map<number, PredictedBox[]>();
    for (const d of detections) {
      const list = predictions.get(d.image_id) ?? [];
      list.push({ id: list.length, label: label.get(d.category_id)!, bbox: d.bbox, score: d.score });
      predictions.set(d.image_id, list);
    }
    const s = summarizeDetections(catIds.map(String), images, predictions);
    // Published with the data (review_object_detection_metrics, tests/test_coco_eval.py), from pycocotools.
    const reference = {
      AP: 0.503647,
      AP50: 0.696973,
      AP75: 0.571667,
      APs: 0.593252,
      APm: 0.557991,
      APl: 0.489363,
      AR1: 0.386813,
      AR10: 0.59368,
      AR100: 0.595353,
      ARs: 0.654764,
      ARm: 0.60313,
      ARl: 0.553744,
    };
    for (const [k, v] of Object.entries(reference)) near(s.metrics[k], v, k, 1e-6);
    // VOC and Ultralytics as numpy computes them (voc_ultralytics_numpy.py beside the fixture prints these).
    near(s.metrics.VOC07_AP50, 0.6891883761536421, 'VOC07_AP50', 1e-15);
    near(s.metrics.VOC_AP50, 0.6974111753960991, 'VOC_AP50', 1e-15);
    near(s.metrics.mAP50, 0.7796682919852044, 'mAP50', 1e-15);
    near(s.metrics['mAP50-95'], 0.5955335387196411, 'mAP50-95', 1e-15);
    assert.strictEqual(s.images.length, truth.images.length);
    assert.strictEqual(s.perClass.length, 80);
    // Every detection has an outcome, every ground truth one too.
    assert.strictEqual(
      s.images.reduce((n, i) => n + i.predictions.length, 0),
      detections.length,
    );
    assert.strictEqual(
      s.images.reduce((n, i) => n + i.truths.length, 0),
      truth.annotations.length,
    );
  });
});

// The review panel's queries over stored box outcomes: re-classification at a confidence, the image
// filters and sorts, per-class counts, the confusion matrix with background (Ultralytics' pairing)
// and the crops behind a cell or a class's errors, on hand-built images whose answers are worked out
// in the comments.
import * as assert from 'assert';
import {
  boxCrops,
  browseImages,
  confusionAt,
  confusionPairs,
  countsAt,
  imageAt,
} from '../../../../../src/core/evaluate/detection/browse';
import { outcomesAt, summarizeDetections } from '../../../../../src/core/evaluate/detection/summary';
import type {
  BoxXYWH,
  DetectionImage,
  ImageOutcomes,
  PredictedBox,
  PredictionOutcome,
  TruthOutcome,
} from '../../../../../src/core/evaluate/detection/types';

const CAT = 0;
const DOG = 1;
const BG = 2; // K = 2 classes

let nextId = 1;
const truth = (label: number, bbox: BoxXYWH, o: Partial<TruthOutcome> = {}): TruthOutcome => ({
  id: nextId++,
  label,
  bbox,
  area: bbox[2] * bbox[3],
  outcome: 'fn',
  ...o,
});
const pred = (
  id: number,
  label: number,
  bbox: BoxXYWH,
  score: number,
  o: Partial<PredictionOutcome> = {},
): PredictionOutcome => ({ id, label, bbox, score, outcome: 'fp', reason: 'background', ...o });
const image = (imageId: number, truths: TruthOutcome[], predictions: PredictionOutcome[]): ImageOutcomes => ({
  imageId,
  sampleId: `img${imageId}.jpg`,
  truths,
  predictions,
});

// A: a cat found (0.9), a dog called a cat (0.8), an invented dog (0.7), a duplicate cat below 0.5 (0.3).
const aCat = truth(CAT, [0, 0, 10, 10], { outcome: 'matched', predictionId: 0, iou: 1, score: 0.9 });
const A = image(
  1,
  [aCat, truth(DOG, [20, 20, 10, 10])],
  [
    pred(0, CAT, [0, 0, 10, 10], 0.9, { outcome: 'tp', reason: undefined, truthId: aCat.id, iou: 1 }),
    pred(1, CAT, [20, 20, 10, 10], 0.8, { reason: 'wrong-class' }),
    pred(2, DOG, [50, 50, 10, 10], 0.7),
    pred(3, CAT, [1, 0, 10, 10], 0.3, { reason: 'duplicate' }),
  ],
);
// B: a cat nobody found.
const B = image(2, [truth(CAT, [0, 0, 10, 10])], []);
// C: one dog prediction over two dogs, IoU 90/110 with each: the tie goes to the later truth, the other is missed.
// A crowd region takes no part; the prediction it absorbed (ignored by COCO) is an invented dog here, as in Ultralytics.
const cDog = truth(DOG, [0, 0, 10, 10], { outcome: 'matched', predictionId: 0, iou: 90 / 110, score: 0.9 });
const C = image(
  3,
  [cDog, truth(DOG, [2, 0, 10, 10]), truth(DOG, [100, 100, 50, 50], { outcome: 'ignored', iscrowd: true })],
  [
    pred(0, DOG, [1, 0, 10, 10], 0.9, { outcome: 'tp', reason: undefined, truthId: cDog.id }),
    pred(1, DOG, [110, 110, 10, 10], 0.95, { outcome: 'ignored', reason: undefined }),
  ],
);
// D: two cats; prediction a (0.9) sits on cat a (IoU 1); prediction b (0.8) overlaps cat a by 90/110 and
// cat b by 70/130 > 0.5. Ultralytics keeps each prediction's best pair first, so b's pair is (a, b),
// which loses to (a, a): b stays unpaired (invented) and cat b is missed, although b and cat b overlap.
const dCat = truth(CAT, [0, 0, 10, 10], { outcome: 'matched', predictionId: 0, iou: 1, score: 0.9 });
const dCat2 = truth(CAT, [0, 4, 10, 10], { outcome: 'matched', predictionId: 1, iou: 70 / 130, score: 0.8 });
const D = image(
  4,
  [dCat, dCat2],
  [
    pred(0, CAT, [0, 0, 10, 10], 0.9, { outcome: 'tp', reason: undefined }),
    pred(1, CAT, [0, 1, 10, 10], 0.8, { outcome: 'tp', reason: undefined }),
  ],
);
const ALL = [A, B, C, D];

describe('detection review queries', () => {
  it('outcomesAt drops predictions below the confidence and turns the truths they matched into misses', () => {
    const at = outcomesAt(D, 0.85);
    assert.deepStrictEqual(
      at.predictions.map((p) => p.id),
      [0],
    );
    assert.deepStrictEqual(
      at.truths.map((t) => t.outcome),
      ['matched', 'fn'],
    );
    assert.strictEqual(at.truths[1].predictionId, undefined);
    assert.strictEqual(at.truths[1].score, undefined);
    // Nothing changes at or below the lowest score; the stored image is left as it was.
    assert.deepStrictEqual(outcomesAt(D, 0.8), D);
    assert.strictEqual(D.truths[1].outcome, 'matched');
  });

  it('pairs boxes as Ultralytics does and sums to the hand-computed confusion matrix', () => {
    assert.deepStrictEqual(
      confusionPairs(D, 0.5, 2).map((p) => [p.truth, p.predicted]),
      [
        [CAT, CAT],
        [CAT, BG],
        [BG, CAT],
      ],
    );
    assert.deepStrictEqual(
      confusionPairs(C, 0.5, 2).map((p) => [p.truth, p.predicted, p.truthBox?.bbox[0]]),
      [
        [DOG, BG, 0], // the first dog, missed: the tie went to the second
        [DOG, DOG, 2],
        [BG, DOG, undefined], // the prediction inside the crowd region
      ],
    );
    // Rows are truths (cat, dog, background), columns predictions; at 0.5 A's duplicate (0.3) is out.
    //               cat  dog  bg
    // cat:  A, D    | 2    0    2 | B, D
    // dog:  A       | 1    1    1 | C
    // bg:   D | A, C | 1    2    0 |
    assert.deepStrictEqual(confusionAt(ALL, 0.5, 2), [
      [2, 0, 2],
      [1, 1, 1],
      [1, 2, 0],
    ]);
    // At 0.2 A's duplicate joins; its best truth (the cat, 90/110) is taken by the exact box: one more invented cat.
    assert.deepStrictEqual(confusionAt(ALL, 0.2, 2)[BG], [2, 2, 0]);
    // At 0.85 D's second prediction and A's two below 0.85 drop: the dog A called a cat becomes a miss, A's invented dog goes.
    assert.deepStrictEqual(confusionAt(ALL, 0.85, 2), [
      [2, 0, 2],
      [0, 1, 2],
      [0, 1, 0],
    ]);
  });

  it('lists the boxes behind each confusion cell, as many as the cell counts', () => {
    const m = confusionAt(ALL, 0.5, 2);
    for (let t = 0; t <= 2; t++)
      for (let p = 0; p <= 2; p++)
        assert.strictEqual(boxCrops(ALL, 0.5, { truth: t, predicted: p }, 2).total, m[t][p], `cell ${t},${p}`);
    const [dogAsCat] = boxCrops(ALL, 0.5, { truth: DOG, predicted: CAT }, 2).crops;
    assert.deepStrictEqual(dogAsCat, {
      index: 0,
      sampleId: 'img1.jpg',
      imageId: 1,
      bbox: [20, 20, 10, 10],
      label: CAT,
      score: 0.8,
      kind: 'fp',
      reason: 'wrong-class',
      truth: { bbox: [20, 20, 10, 10], label: DOG },
    });
    const missed = boxCrops(ALL, 0.5, { truth: CAT, predicted: BG }, 2).crops;
    assert.deepStrictEqual(
      missed.map((c) => [c.sampleId, c.kind, c.bbox]),
      [
        ['img2.jpg', 'fn', [0, 0, 10, 10]],
        ['img4.jpg', 'fn', [0, 4, 10, 10]],
      ],
    );
  });

  it("lists a class's false positives (most confident first) and misses at the confidence, capped with the total", () => {
    const fps = boxCrops(ALL, 0.2, { cls: CAT, outcome: 'fp' }, 2);
    assert.deepStrictEqual(
      fps.crops.map((c) => [c.score, c.reason]),
      [
        [0.8, 'wrong-class'],
        [0.3, 'duplicate'],
      ],
    );
    // At 0.85 D's second cat is missed as well as B's.
    const fns = boxCrops(ALL, 0.85, { cls: CAT, outcome: 'fn' }, 2, 1);
    assert.strictEqual(fns.total, 2);
    assert.strictEqual(fns.crops.length, 1);
  });

  it('counts true and false positives and misses per class at the confidence, ignored boxes left out', () => {
    const at5 = countsAt(ALL, 0.5, 2);
    // cat: tp A0, D0, D1; fp A1; fn B. dog: tp C0; fp A2; fn A's dog, C's second dog.
    assert.deepStrictEqual(at5.perClass, [
      { tp: 3, fp: 1, fn: 1 },
      { tp: 1, fp: 1, fn: 2 },
    ]);
    assert.deepStrictEqual(at5.total, { tp: 4, fp: 2, fn: 3 });
    // At 0.85 D's second cat (0.8) no longer counts and its truth is missed; A1 and A2 drop.
    assert.deepStrictEqual(countsAt(ALL, 0.85, 2).perClass, [
      { tp: 2, fp: 0, fn: 2 },
      { tp: 1, fp: 0, fn: 2 },
    ]);
  });

  it('filters images by class and outcome, and sorts by the most confident false positive or the largest miss', () => {
    const ids = (r: { images: { image: ImageOutcomes }[] }) => r.images.map((i) => i.image.imageId);
    assert.deepStrictEqual(ids(browseImages(ALL, { confidence: 0.5 })), [1, 2, 3, 4]);
    assert.deepStrictEqual(ids(browseImages(ALL, { confidence: 0.5, outcome: 'fp' })), [1]);
    assert.deepStrictEqual(ids(browseImages(ALL, { confidence: 0.5, outcome: 'fn' })), [1, 2, 3]);
    // Raising the confidence above D's second prediction makes D an image with a miss.
    assert.deepStrictEqual(ids(browseImages(ALL, { confidence: 0.85, outcome: 'fn', cls: CAT })), [2, 4]);
    assert.deepStrictEqual(ids(browseImages(ALL, { confidence: 0.5, cls: DOG })), [1, 3]);
    assert.deepStrictEqual(ids(browseImages(ALL, { confidence: 0.5, outcome: 'tp', cls: DOG })), [3]);
    // Largest miss: A's dog, B's cat, C's dog are all 100 px²: ties keep the order; D (no miss at 0.5) last.
    const big = image(5, [truth(DOG, [0, 0, 30, 30])], []);
    assert.deepStrictEqual(ids(browseImages([...ALL, big], { confidence: 0.5, sort: 'fn-area' })), [5, 1, 2, 3, 4]);
    const fp = image(6, [], [pred(0, DOG, [0, 0, 5, 5], 0.99)]);
    assert.deepStrictEqual(ids(browseImages([...ALL, fp], { confidence: 0.5, sort: 'fp-score' })), [6, 1, 2, 3, 4]);
    const page = browseImages(ALL, { confidence: 0.5, offset: 1, limit: 2 });
    assert.strictEqual(page.total, 4);
    assert.deepStrictEqual(
      page.images.map((i) => [i.index, i.counts]),
      [
        [1, { tp: 0, fp: 0, fn: 1 }],
        [2, { tp: 1, fp: 0, fn: 1 }],
      ],
    );
    // Each image comes re-classified at the confidence, also when asked for alone.
    const [d] = browseImages(ALL, { confidence: 0.85, offset: 3, limit: 1 }).images;
    assert.deepStrictEqual(d.image, outcomesAt(D, 0.85));
    assert.deepStrictEqual(imageAt(ALL, 3, 0.85), d);
    assert.strictEqual(imageAt(ALL, 4, 0.85), undefined);
  });

  it("agrees with summarizeDetections' confusion matrix and counts at its confidence (crowd, difficult, tied scores)", () => {
    let seed = 3;
    const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const K = 3;
    const images: DetectionImage[] = [];
    const predictions = new Map<number, PredictedBox[]>();
    let annotation = 1;
    for (let i = 1; i <= 300; i++) {
      const truths = Array.from({ length: Math.floor(rnd() * 5) }, () => {
        const w = 10 + Math.floor(rnd() * 60);
        const h = 10 + Math.floor(rnd() * 60);
        const r = rnd();
        return {
          id: annotation++,
          label: Math.floor(rnd() * K),
          bbox: [Math.floor(rnd() * 200), Math.floor(rnd() * 200), w, h] as BoxXYWH,
          area: w * h,
          ...(r < 0.05 ? { iscrowd: true as const } : r < 0.1 ? { difficult: true as const } : {}),
        };
      });
      const preds: PredictedBox[] = [];
      for (const t of truths)
        for (let k = 0; k < 1 + Math.floor(rnd() * 2); k++) {
          const j = Math.floor(rnd() * 6) - 3; // shifted a little: IoU mostly above 0.5, sometimes below
          preds.push({
            id: preds.length,
            label: rnd() < 0.8 ? t.label : Math.floor(rnd() * K),
            bbox: [t.bbox[0] + j, t.bbox[1] - j, t.bbox[2], t.bbox[3]],
            score: Math.round(rnd() * 10) / 10, // tied scores are common
          });
        }
      for (let k = Math.floor(rnd() * 4); k > 0; k--)
        preds.push({
          id: preds.length,
          label: Math.floor(rnd() * K),
          bbox: [rnd() * 250, rnd() * 250, 20, 20],
          score: rnd(),
        });
      images.push({ imageId: i, sampleId: `${i}.jpg`, width: 300, height: 300, truths });
      predictions.set(i, preds);
    }
    for (const confidence of [0.25, 0.5]) {
      const summary = summarizeDetections(['a', 'b', 'c'], images, predictions, { confidence });
      assert.deepStrictEqual(
        confusionAt(summary.images, confidence, K),
        summary.confusion,
        `confusion at ${confidence}`,
      );
      assert.deepStrictEqual(
        countsAt(summary.images, confidence, K).perClass,
        summary.perClass.map((r) => ({ tp: r.tp, fp: r.fp, fn: r.fn })),
        `counts at ${confidence}`,
      );
    }
    // The matrix has something in every kind of cell, so the agreement is not of empty matrices.
    const m = summarizeDetections(['a', 'b', 'c'], images, predictions, { confidence: 0.25 }).confusion;
    assert.ok(m[0][0] > 0 && m[0][1] > 0 && m[0][K] > 0 && m[K][0] > 0, JSON.stringify(m));
  });

  it('answers on 5,000 images of 100 predictions each, agreeing with a per-image count', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const images = Array.from({ length: 5000 }, (_, i) => {
      const truths = Array.from({ length: 7 }, (_, k) =>
        truth(k % 3, [rnd() * 500, rnd() * 400, 10 + rnd() * 100, 10 + rnd() * 100], {
          outcome: rnd() < 0.6 ? 'matched' : 'fn',
          score: rnd(),
        }),
      );
      const predictions = Array.from({ length: 100 }, (_, k) =>
        pred(k, k % 3, [rnd() * 500, rnd() * 400, 10 + rnd() * 100, 10 + rnd() * 100], rnd(), {
          outcome: rnd() < 0.3 ? 'tp' : 'fp',
        }),
      );
      return image(i, truths, predictions);
    });
    const c = 0.6;
    const r = browseImages(images, { confidence: c, cls: 1, outcome: 'fn', sort: 'fn-area', limit: 50 });
    const expected = images.filter((im) => outcomesAt(im, c).truths.some((t) => t.label === 1 && t.outcome === 'fn'));
    assert.strictEqual(r.total, expected.length);
    assert.strictEqual(r.images.length, 50);
    const largest = (im: ImageOutcomes) =>
      Math.max(...im.truths.filter((t) => t.label === 1 && t.outcome === 'fn').map((t) => t.bbox[2] * t.bbox[3]));
    const areas = r.images.map((i) => largest(i.image));
    assert.deepStrictEqual(
      areas,
      [...areas].sort((a, b) => b - a),
    );
    const m = confusionAt(images, c, 3);
    const { total } = countsAt(images, c, 3);
    // Every truth lands once in the matrix (none is ignored here), as does every prediction kept.
    assert.strictEqual(
      m.slice(0, 3).reduce((n, row) => n + row.reduce((a, b) => a + b, 0), 0),
      images.length * 7,
    );
    assert.strictEqual(
      m.reduce((n, row) => n + row.slice(0, 3).reduce((a, b) => a + b, 0), 0),
      total.tp + total.fp,
    );
  });
});

// COCO box evaluation against pycocotools: the 12 stats of a published reference run (COCO val2014
// ground truth and a detector's results, values from the official implementation), and hand-built
// cases whose answers follow from pycocotools' rules.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import {
  cocoEvaluate,
  CocoDetection,
  CocoGroundTruth,
  IOU_THRESHOLDS,
  pairwiseSum,
  RECALL_THRESHOLDS,
} from '../../../../../src/core/evaluate/detection/cocoEval';
import { repoPath } from '../../../helpers/paths';

const fixture = (f: string) => JSON.parse(readFileSync(repoPath('test/fixtures/coco-reference', f), 'utf8'));

// Precision is tp / (tp + fp + eps) as in pycocotools (eps = np.spacing(1)), so a perfect AP is
// 0.9999999999999998, as pycocotools' own (it prints 1.000).
const ONE = 1 / (1 + 2.220446049250313e-16);
const near = (got: number, want: number, what = '') =>
  assert.ok(Math.abs(got - want) < 1e-12, `${what} ${got} vs ${want}`);

describe('COCO box evaluation (pycocotools semantics)', () => {
  it('agrees with the official implementation on 100 COCO val2014 images (830 boxes, 80 classes) to 1e-6', () => {
    const gt = fixture('sampled_gts_bbox_area.json') as CocoGroundTruth;
    const dt = fixture('sampled_bbox_results.json').annotations as CocoDetection[];
    const { stats } = cocoEvaluate(gt, dt);
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
    for (const [k, v] of Object.entries(reference))
      assert.ok(Math.abs(stats[k as keyof typeof stats] - v) < 1e-6, `${k}: ${stats[k as keyof typeof stats]} vs ${v}`);
  });

  it('thresholds are numpy linspace values; 0.75 is among them exactly', () => {
    assert.strictEqual(IOU_THRESHOLDS.length, 10);
    assert.strictEqual(IOU_THRESHOLDS[5], 0.75);
    assert.strictEqual(IOU_THRESHOLDS[9], 0.95);
    assert.strictEqual(RECALL_THRESHOLDS.length, 101);
    assert.strictEqual(RECALL_THRESHOLDS[100], 1);
  });

  const box = (x: number, y: number, w: number, h: number) => [x, y, w, h] as [number, number, number, number];
  const truth = (annotations: CocoGroundTruth['annotations'], cats = [1]): CocoGroundTruth => ({
    images: [{ id: 1 }, { id: 2 }],
    annotations,
    categories: cats.map((id) => ({ id, name: `c${id}` })),
  });
  const gtBox = (
    id: number,
    bbox: [number, number, number, number],
    extra: Partial<CocoGroundTruth['annotations'][0]> = {},
  ) => ({
    id,
    image_id: 1,
    category_id: 1,
    bbox,
    area: bbox[2] * bbox[3],
    iscrowd: 0,
    ...extra,
  });
  const det = (bbox: [number, number, number, number], score: number, extra: Partial<CocoDetection> = {}) => ({
    image_id: 1,
    category_id: 1,
    bbox,
    score,
    ...extra,
  });

  it('a perfect detection: AP 1 at every threshold; a category without ground truth is −1 and not averaged', () => {
    const r = cocoEvaluate(truth([gtBox(1, box(0, 0, 50, 50))], [1, 2]), [det(box(0, 0, 50, 50), 0.9)]);
    assert.strictEqual(r.stats.AP, ONE);
    assert.strictEqual(r.stats.AR1, 1);
    assert.strictEqual(r.stats.APs, -1, 'no small object');
    assert.strictEqual(r.stats.APm, ONE);
    assert.deepStrictEqual(
      r.perClass.map((c) => [c.name, c.AP]),
      [
        ['c1', ONE],
        ['c2', -1],
      ],
    );
  });

  it('IoU exactly at a threshold matches it (≥), and a box half-overlapping gives AP over the thresholds it passes', () => {
    // Inter 60·100 over union 100·100: IoU 0.6.
    const r = cocoEvaluate(truth([gtBox(1, box(0, 0, 100, 100))]), [det(box(0, 0, 60, 100), 0.9)]);
    // The thresholds it passes, by pycocotools' test (IoU < min(t, 1 − 1e-10) fails): .50, .55 and .60 as linspace makes it.
    const passed = IOU_THRESHOLDS.filter((t) => 0.6 >= Math.min(t, 1 - 1e-10)).length;
    assert.ok(Math.abs(r.stats.AP - passed / 10) < 1e-12, `${r.stats.AP} vs ${passed}/10`);
    near(r.stats.AP50, 1);
    assert.strictEqual(r.stats.AP75, 0);
  });

  it('a duplicate detection is a false positive; tied scores keep the results order (stable sort)', () => {
    const g = [gtBox(1, box(0, 0, 50, 50))];
    // The first of two tied detections matches, the second is a duplicate: precision 1 at recall 1.
    near(cocoEvaluate(truth(g), [det(box(0, 0, 50, 50), 0.5), det(box(0, 0, 50, 50), 0.5)]).stats.AP, 1);
    // A miss before the hit, at the same score: precision at recall 1 is 1/2 in every threshold.
    const missFirst = cocoEvaluate(truth(g), [det(box(200, 200, 50, 50), 0.5), det(box(0, 0, 50, 50), 0.5)]);
    assert.ok(Math.abs(missFirst.stats.AP - 0.5) < 1e-12, String(missFirst.stats.AP));
    const hitFirst = cocoEvaluate(truth(g), [det(box(0, 0, 50, 50), 0.5), det(box(200, 200, 50, 50), 0.5)]);
    near(hitFirst.stats.AP, 1);
  });

  it('a crowd region is ignored: detections on it neither count nor hurt, and one crowd takes many', () => {
    const g = [gtBox(1, box(0, 0, 50, 50)), gtBox(2, box(100, 0, 200, 200), { iscrowd: 1 })];
    const d = [det(box(0, 0, 50, 50), 0.9), det(box(110, 10, 40, 40), 0.95), det(box(160, 10, 40, 40), 0.94)];
    const r = cocoEvaluate(truth(g), d);
    near(r.stats.AP, 1, 'the two crowd detections are ignored');
    assert.strictEqual(r.stats.AR100, 1);
  });

  it('maxDets: with only the best detection per image a later true positive does not count toward AR1', () => {
    const g = [gtBox(1, box(0, 0, 50, 50)), gtBox(2, box(100, 100, 50, 50))];
    const d = [det(box(0, 0, 50, 50), 0.9), det(box(100, 100, 50, 50), 0.8)];
    const r = cocoEvaluate(truth(g), d);
    assert.strictEqual(r.stats.AR1, 0.5);
    assert.strictEqual(r.stats.AR10, 1);
  });

  it('detections of an unknown category or image are left out; a zero-area box matches nothing', () => {
    const g = [gtBox(1, box(0, 0, 50, 50))];
    const r = cocoEvaluate(truth(g), [
      det(box(0, 0, 50, 50), 0.9),
      det(box(0, 0, 50, 50), 0.99, { category_id: 7 }),
      det(box(0, 0, 0, 0), 0.98),
    ]);
    // The zero-area detection is a false positive above the hit (area 0 lies in "all"): precision 1/2 at recall 1.
    assert.ok(Math.abs(r.stats.AP - 0.5) < 1e-12, String(r.stats.AP));
  });

  it('sums as numpy does (pairwise): differs from a plain loop where rounding shows', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => 0.1 * ((i % 7) + 1) + 1e-7 * i);
    let plain = 0;
    for (const x of xs) plain += x;
    const pw = pairwiseSum(xs);
    assert.ok(Math.abs(pw - plain) < 1e-9);
    assert.strictEqual(pairwiseSum([1, 2, 3]), 6);
    assert.strictEqual(
      pairwiseSum(Array.from({ length: 20 }, () => 0.1)),
      2.0000000000000004 - 2.0000000000000004 + pairwiseSum(Array.from({ length: 20 }, () => 0.1)),
    );
  });
});

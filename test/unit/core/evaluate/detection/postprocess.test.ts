// Detector postprocessing on hand-built outputs whose answers follow from the rules: config checks,
// raw YOLO decoding, class-wise NMS, boxes/scores/labels outputs, and the letterbox geometry (a box
// mapped into the padded input and back lands where it started).
import * as assert from 'assert/strict';
import {
  inputGeometry,
  preprocessFromConfig,
  preprocessRgba,
  resizePlane,
} from '../../../../../src/core/datasets/samples';
import {
  decodeYolo,
  Detection,
  iou,
  nmsClasswise,
  OutputTensor,
  postprocessFromConfig,
  readBoxesScoresLabels,
  toImageBoxes,
} from '../../../../../src/core/evaluate/detection/postprocess';
import { InputError } from '../../../../../src/core/errors';

const det = (x1: number, y1: number, x2: number, y2: number, score: number, label: number): Detection => ({
  x1,
  y1,
  x2,
  y2,
  score,
  label,
});

describe('detector postprocessing', () => {
  describe('config.json postprocessing', () => {
    it('fills in the defaults, box format by kind', () => {
      assert.deepEqual(postprocessFromConfig({ postprocessing: { kind: 'yolo' } }), {
        kind: 'yolo',
        scoreThreshold: 0.001,
        iouThreshold: 0.7,
        maxDetections: 100,
        multiLabel: false,
        boxFormat: 'cxcywh',
        normalized: false,
        labelOffset: 0,
        outputs: {},
      });
      const p = postprocessFromConfig({
        postprocessing: { kind: 'boxes-scores-labels', label_offset: 1, score_threshold: 0.2, outputs: { boxes: 'b' } },
      });
      assert.deepEqual([p.boxFormat, p.labelOffset, p.scoreThreshold, p.outputs], ['xyxy', 1, 0.2, { boxes: 'b' }]);
    });

    const refuses = (postprocessing: unknown, message: RegExp) =>
      assert.throws(
        () => postprocessFromConfig({ postprocessing }),
        (e: unknown) => e instanceof InputError && e.file === 'config.json' && message.test(e.problem),
      );

    it('refuses what it cannot use, naming config.json and the key', () => {
      refuses({ kind: 'ssd' }, /^postprocessing\.kind must be "yolo" or "boxes-scores-labels", not "ssd"/);
      refuses({}, /^postprocessing\.kind must be/);
      refuses(
        { kind: 'yolo', score_threshold: -0.1 },
        /^postprocessing\.score_threshold must be a number from 0 to 1, not -0\.1/,
      );
      refuses({ kind: 'yolo', iou_threshold: '0.5' }, /^postprocessing\.iou_threshold must be a number/);
      refuses({ kind: 'yolo', max_detections: 0 }, /^postprocessing\.max_detections must be a whole number above 0/);
      refuses({ kind: 'yolo', box_format: 'yxyx' }, /^postprocessing\.box_format must be "xyxy", "xywh", "cxcywh"/);
      refuses({ kind: 'yolo', multi_label: 1 }, /^postprocessing\.multi_label must be true or false, not 1/);
      refuses({ kind: 'yolo', label_offset: 0.5 }, /^postprocessing\.label_offset must be a whole number/);
      refuses(
        { kind: 'yolo', outputs: { box: 'x' } },
        /^postprocessing\.outputs\.box must be one of boxes, scores, labels/,
      );
      refuses({ kind: 'yolo', scoreThreshold: 0.1 }, /^postprocessing\.scoreThreshold is not a setting/);
      refuses('yolo', /^"postprocessing" must be an object/);
      assert.throws(() => postprocessFromConfig({}), /config\.json: a detector needs "postprocessing"/);
    });
  });

  describe('class-wise NMS', () => {
    it('suppresses a weaker overlapping box of the same class, keeps one of another class', () => {
      const a = det(0, 0, 10, 10, 0.9, 0);
      const b = det(1, 0, 11, 10, 0.8, 0); // IoU 90/110 with a
      const c = det(1, 0, 11, 10, 0.7, 1);
      const d = det(20, 20, 30, 30, 0.6, 0);
      assert.deepEqual(nmsClasswise([d, c, b, a], 0.5, 100), [a, c, d]);
      // Above the threshold only: at IoU 90/110 with a threshold of exactly 90/110, b stays.
      assert.deepEqual(nmsClasswise([a, b], iou(a, b), 100), [a, b]);
    });

    it('sorts by score with ties in their given order, and stops at maxDetections', () => {
      const boxes = [0, 1, 2, 3].map((i) => det(i * 20, 0, i * 20 + 10, 10, i === 3 ? 0.9 : 0.5, 0));
      assert.deepEqual(nmsClasswise(boxes, 0.5, 3), [boxes[3], boxes[0], boxes[1]]);
    });

    it('a suppressed box suppresses nothing', () => {
      // b overlaps a (suppressed by it) and c; c overlaps a too little, so c is kept.
      const a = det(0, 0, 10, 10, 0.9, 0);
      const b = det(3, 0, 13, 10, 0.8, 0);
      const c = det(7, 0, 17, 10, 0.7, 0);
      assert.ok(iou(a, b) > 0.3 && iou(b, c) > 0.3 && iou(a, c) < 0.3);
      assert.deepEqual(nmsClasswise([a, b, c], 0.3, 100), [a, c]);
    });
  });

  describe('raw YOLO output', () => {
    // [1, 4 + 2, 3]: rows are cx, cy, w, h, score of class 0, score of class 1; columns are anchors.
    const raw = [
      [50, 10, 30],
      [40, 20, 30],
      [20, 4, 10],
      [10, 8, 10],
      [0.3, 0.0001, 0.2],
      [0.6, 0.0002, 0.1],
    ].flat();

    it('keeps each anchor best class above the threshold, as corners', () => {
      assert.deepEqual(decodeYolo(raw, [1, 6, 3], { scoreThreshold: 0.001 }), [
        det(40, 35, 60, 45, 0.6, 1),
        det(25, 25, 35, 35, 0.2, 0),
      ]);
      // Every class above the threshold, anchor by anchor, as Ultralytics' validator.
      assert.deepEqual(decodeYolo(raw, [1, 6, 3], { scoreThreshold: 0.15, multiLabel: true }), [
        det(40, 35, 60, 45, 0.3, 0),
        det(40, 35, 60, 45, 0.6, 1),
        det(25, 25, 35, 35, 0.2, 0),
      ]);
      // Without a batch dimension, and normalised boxes scaled by [h, w].
      const norm = [0.5, 0.5, 0.5, 0.25, 0.9, 0.1];
      assert.deepEqual(decodeYolo(norm, [6, 1], { scoreThreshold: 0.5, normalized: true, inputSize: [100, 200] }), [
        det(50, 37.5, 150, 62.5, 0.9, 0),
      ]);
    });

    it('refuses a shape that is not [1, 4 + classes, anchors]', () => {
      assert.throws(
        () => decodeYolo([0.1, 0.9], [1, 2], { scoreThreshold: 0 }),
        /\[1, 4 \+ classes, anchors\], not \[1, 2\]/,
      );
      assert.throws(() => decodeYolo(raw, [2, 6, 3], { scoreThreshold: 0 }), /not \[2, 6, 3\]/);
    });
  });

  describe('boxes, scores and labels', () => {
    const p = postprocessFromConfig({ postprocessing: { kind: 'boxes-scores-labels', score_threshold: 0.1 } });
    const t = (name: string, type: string, dims: number[], data: number[] | BigInt64Array): OutputTensor => ({
      name,
      type,
      dims,
      data,
    });

    it('finds the outputs by shape and type, with or without a batch dimension, and filters by score', () => {
      const outputs = [
        t('scores_out', 'float32', [1, 3], [0.05, 0.9, 0.5]),
        t('labels_out', 'int64', [1, 3], new BigInt64Array([1n, 2n, 3n])),
        t('dets', 'float32', [1, 3, 4], [0, 0, 1, 1, 10, 10, 20, 30, 5, 5, 6, 6]),
      ];
      assert.deepEqual(readBoxesScoresLabels(outputs, p, [100, 100]), [
        det(10, 10, 20, 30, 0.9, 2),
        det(5, 5, 6, 6, 0.5, 3),
      ]);
      const xywh = postprocessFromConfig({
        postprocessing: { kind: 'boxes-scores-labels', box_format: 'xywh', normalized: true, max_detections: 1 },
      });
      const flat = [
        t('boxes', 'float32', [2, 4], [0.1, 0.2, 0.5, 0.5, 0, 0, 1, 1]),
        t('labels', 'float32', [2], [4, 5]),
        t('scores', 'float32', [2], [0.3, 0.7]),
      ];
      assert.deepEqual(readBoxesScoresLabels(flat, xywh, [200, 100]), [det(0, 0, 100, 200, 0.7, 5)]);
    });

    it('says which outputs do not fit', () => {
      assert.throws(
        () => readBoxesScoresLabels([t('output0', 'float32', [1, 7, 6], new Array(42).fill(0))], p, [320, 320]),
        /cannot tell which outputs are boxes, scores and labels; kind "boxes-scores-labels" needs .*\(outputs: output0 \[1, 7, 6\]\)/,
      );
      assert.throws(
        () =>
          readBoxesScoresLabels(
            [
              t('boxes', 'float32', [2, 4], new Array(8).fill(0)),
              t('scores', 'float32', [3], [1, 1, 1]),
              t('labels', 'int64', [3], new BigInt64Array(3)),
            ],
            p,
            [320, 320],
          ),
        /boxes \[2, 4\], scores \[3\] and labels \[3\] do not fit/,
      );
      const named = postprocessFromConfig({
        postprocessing: { kind: 'boxes-scores-labels', outputs: { scores: 'conf' } },
      });
      assert.throws(
        () => readBoxesScoresLabels([], named, [1, 1]),
        /postprocessing\.outputs\.scores names "conf", which the model does not output/,
      );
    });
  });

  describe('mapping boxes back to the image', () => {
    it('letterbox: a box in a 200×100 image, into the padded 320×320 input and back, exactly', () => {
      const pre = preprocessFromConfig({ preprocessing: { size: 320, letterbox: true } }, undefined);
      const g = inputGeometry(200, 100, pre);
      // gain min(320/100, 320/200) = 1.6; the image becomes 320×160, centred: 80 rows of padding above.
      assert.deepEqual(g, { scaleX: 1.6, scaleY: 1.6, padX: 0, padY: 80, resizedW: 320, resizedH: 160 });
      const [x, y, w, h] = [20, 10, 50, 30];
      const inInput = det(x * 1.6, y * 1.6 + 80, (x + w) * 1.6, (y + h) * 1.6 + 80, 0.5, 3);
      assert.deepEqual(inInput, det(32, 96, 112, 144, 0.5, 3));
      assert.deepEqual(toImageBoxes([inInput], g, { width: 200, height: 100 }, 1), [
        { id: 0, label: 2, bbox: [20, 10, 50, 30], score: 0.5 },
      ]);
    });

    it('letterbox rounding as Ultralytics: a 100×37 image into 64×64', () => {
      const pre = preprocessFromConfig({ preprocessing: { size: [64, 64], letterbox: true } }, undefined);
      // gain 0.64; 37 * 0.64 = 23.68 → 24 rows; (64 - 24) / 2 = 20 → round(19.9) = 20 above.
      assert.deepEqual(inputGeometry(100, 37, pre), {
        scaleX: 0.64,
        scaleY: 0.64,
        padX: 0,
        padY: 20,
        resizedW: 64,
        resizedH: 24,
      });
      // An odd spare room: 63 rows for 24 → 39 spare, round(19.4) = 19 above, 20 below.
      const odd = preprocessFromConfig({ preprocessing: { size: [63, 64], letterbox: true } }, undefined);
      assert.equal(inputGeometry(100, 37, odd).padY, 19);
    });

    it('plain resize: each axis scaled back on its own; boxes clipped to the image, empty ones dropped', () => {
      const pre = preprocessFromConfig({ preprocessing: { size: [100, 200] } }, undefined);
      const g = inputGeometry(200, 50, pre);
      assert.deepEqual([g.scaleX, g.scaleY, g.padX, g.padY], [1, 2, 0, 0]);
      const boxes = toImageBoxes(
        [det(40, 20, 440, 60, 0.9, 1), det(-10, -10, -1, 5, 0.8, 2), det(0, 0, 10, 10, 0.7, 0)],
        g,
        { width: 200, height: 50 },
        1,
      );
      // The first is clipped at x = 200; the second lies outside; the third's label is 0 - 1 (background).
      assert.deepEqual(boxes, [{ id: 0, label: 0, bbox: [40, 10, 160, 20], score: 0.9 }]);
    });

    it('the letterboxed input holds the resized image between grey bands', () => {
      // A 4×2 image: left half red, right half blue → 8×8 input, 8×4 image with 2 grey rows above and below.
      const data = new Uint8Array(4 * 2 * 4);
      for (let i = 0; i < 8; i++) data.set(i % 4 < 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
      const pre = preprocessFromConfig(
        { preprocessing: { size: 8, letterbox: true, mean: 0, std: 1, scale: 1 } },
        undefined,
      );
      const out = preprocessRgba({ width: 4, height: 2, data }, pre);
      const red = resizePlane(Float32Array.from([255, 255, 0, 0, 255, 255, 0, 0]), 4, 2, 8, 4);
      const plane = out.subarray(0, 64);
      assert.deepEqual([...plane.subarray(0, 16)], new Array(16).fill(114));
      assert.deepEqual([...plane.subarray(16, 48)], [...red]);
      assert.deepEqual([...plane.subarray(48, 64)], new Array(16).fill(114));
      assert.throws(
        () => preprocessFromConfig({ preprocessing: { letterbox: 'yes' } }, undefined),
        /config\.json: preprocessing\.letterbox must be true or false, not "yes"/,
      );
    });
  });
});

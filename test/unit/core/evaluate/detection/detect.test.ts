// Detectors through real onnxruntime (OrtSession) and our postprocessing: a model with Ultralytics' raw
// output whose values are known exactly, torchvision's SSDlite against what torch itself gave on the
// same image (test/fixtures/detectors, made by scripts/fixtures/export_detectors.py), and models or
// images that do not fit.
import * as assert from 'assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { loadImage, preprocessFromConfig } from '../../../../../src/core/datasets/samples';
import { detectImages, DetectResult } from '../../../../../src/core/evaluate/detection/detect';
import type { PredictedBox } from '../../../../../src/core/evaluate/detection/types';
import { InputError } from '../../../../../src/core/errors';
import { OrtSession } from '../../../../../src/core/onnxrt/session';
import { channelMeanModelBytes } from '../../../helpers/makeWeights';
import { repoPath } from '../../../helpers/paths';
import { tempDir } from '../../../helpers/tmp';

const fixture = (f: string) => repoPath('test/fixtures/detectors', f);
// shapes.png is 256 wide, 192 high.
const SHAPES = { file: fixture('shapes.png'), width: 256, height: 192 };

/** Boxes of one image, or the test fails with its error. */
function boxesOf(r: DetectResult): PredictedBox[] {
  assert.equal(r.error, undefined);
  return r.boxes!;
}

function assertBoxes(actual: PredictedBox[], expected: PredictedBox[], tol = 1e-9): void {
  assert.equal(actual.length, expected.length, `${actual.length} boxes, expected ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.deepEqual([a.id, a.label], [e.id, e.label], `box ${i}`);
    assert.ok(Math.abs(a.score - e.score) <= tol, `box ${i}: score ${a.score}, expected ${e.score}`);
    a.bbox.forEach((v, k) =>
      assert.ok(
        Math.abs(v - e.bbox[k]) <= tol * Math.max(1, Math.abs(e.bbox[k])),
        `box ${i}: [${a.bbox}], expected [${e.bbox}]`,
      ),
    );
  });
}

describe('running ONNX detectors', function () {
  this.timeout(60000);

  describe('raw YOLO output (yolo_raw.onnx: a constant [1, 7, 6] whatever the image)', () => {
    let session: OrtSession;
    before(async () => (session = await OrtSession.create(fixture('yolo_raw.onnx'))));
    after(() => session.release());

    const f = Math.fround;
    const config = (pre: Record<string, unknown>, post: Record<string, unknown> = {}) => ({
      preprocessing: { size: [320, 320], mean: 0, std: 1, ...pre },
      postprocessing: { kind: 'yolo', iou_threshold: 0.5, ...post },
    });

    it('letterbox: decoded, suppressed per class and mapped back to the 256×192 image', async () => {
      // gain min(320/256, 320/192) = 1.25: the image is 320×240 with 40 grey rows above, so an input
      // point (x, y) is ((x - 0) / 1.25, (y - 40) / 1.25) in the image.
      const progress: number[] = [];
      const [r] = await detectImages(session, config({ letterbox: true }), [SHAPES], {
        model: 'yolo_raw.onnx',
        onProgress: (done) => progress.push(done),
      });
      assert.deepEqual(progress, [1]);
      assertBoxes(boxesOf(r), [
        // anchor 0: 80..120 × 80..120; anchor 1 (same class, IoU 0.82) is suppressed
        { id: 0, label: 0, bbox: [64, 32, 32, 32], score: f(0.9) },
        // anchor 2: the same place, another class: kept
        { id: 1, label: 1, bbox: [64.8, 32.8, 32, 32], score: f(0.7) },
        // anchor 3: 220..280 × 185..215
        { id: 2, label: 2, bbox: [176, 116, 48, 24], score: f(0.6) },
        // anchor 5: 290..330 × 30..70, clipped to the image: x 232..256, y 0..24
        { id: 3, label: 2, bbox: [232, 0, 24, 24], score: f(0.5) },
        // anchor 4 scores 0.0005, under the default threshold 0.001
      ]);
    });

    it('plain resize scales each axis back; a looser NMS threshold keeps the overlapping box', async () => {
      const [r] = await detectImages(session, config({}, { iou_threshold: 0.9, score_threshold: 0.55 }), [SHAPES], {
        model: 'yolo_raw.onnx',
      });
      // x × 256/320 = 0.8, y × 192/320 = 0.6.
      assertBoxes(boxesOf(r), [
        { id: 0, label: 0, bbox: [64, 48, 32, 24], score: f(0.9) },
        { id: 1, label: 0, bbox: [65.6, 49.2, 32, 24], score: f(0.8) },
        { id: 2, label: 1, bbox: [64.8, 48.6, 32, 24], score: f(0.7) },
        { id: 3, label: 2, bbox: [176, 111, 48, 18], score: f(0.6) },
      ]);
    });

    it('an unreadable image gets its error; the others still run', async () => {
      const dir = tempDir();
      const bad = path.join(dir, 'bad.png');
      writeFileSync(bad, readFileSync(SHAPES.file).subarray(0, 200));
      const copy = path.join(dir, 'copy.png');
      copyFileSync(SHAPES.file, copy);
      const results = await detectImages(
        session,
        config({ letterbox: true }),
        [
          { ...SHAPES, file: bad },
          { ...SHAPES, file: copy },
        ],
        { model: 'yolo_raw.onnx' },
      );
      assert.match(
        results[0].error ?? '',
        /bad\.png: not a readable PNG\/JPEG image \(corrupt PNG: the file ends early/,
      );
      assert.equal(boxesOf(results[1]).length, 4);
    });

    it('refuses boxes-scores-labels for a raw output, and a bad config, naming what is wrong', async () => {
      await assert.rejects(
        detectImages(session, config({}, { kind: 'boxes-scores-labels' }), [SHAPES], { model: 'm@v1:yolo_raw.onnx' }),
        (e: unknown) =>
          e instanceof InputError &&
          e.file === 'm@v1:yolo_raw.onnx' &&
          /^its outputs do not fit config\.json's postprocessing\.kind "boxes-scores-labels": cannot tell which outputs are boxes, scores and labels.*output0 \[1, 7, 6\]/.test(
            e.problem,
          ),
      );
      await assert.rejects(
        detectImages(session, config({}, { score_threshold: -1 }), [SHAPES], { model: 'yolo_raw.onnx' }),
        /^InputError: config\.json: postprocessing\.score_threshold must be a number from 0 to 1, not -1/,
      );
      await assert.rejects(
        detectImages(session, config({}, { kind: 'detr' }), [SHAPES], { model: 'yolo_raw.onnx' }),
        /config\.json: postprocessing\.kind must be "yolo" or "boxes-scores-labels", not "detr"/,
      );
    });
  });

  it('refuses a classifier declared as a YOLO detector, naming the model', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'classifier.onnx');
    writeFileSync(file, channelMeanModelBytes(8));
    const session = await OrtSession.create(file);
    try {
      await assert.rejects(
        detectImages(session, { preprocessing: { size: 8 }, postprocessing: { kind: 'yolo' } }, [SHAPES], {
          model: 'classifier.onnx',
        }),
        (e: unknown) =>
          e instanceof InputError &&
          e.file === 'classifier.onnx' &&
          /postprocessing\.kind "yolo": a raw YOLO output is \[1, 4 \+ classes, anchors\], not \[1, 3\]/.test(
            e.problem,
          ),
      );
    } finally {
      await session.release();
    }
  });

  describe("torchvision's SSDlite (ssdlite.onnx) against torch's own outputs", () => {
    const ref = JSON.parse(readFileSync(fixture('ssdlite.reference.json'), 'utf8')) as {
      boxes_xyxy_input: number[][];
      scores: number[];
      labels: number[];
      input_sum: number;
    };
    // torchvision normalises inside the model: it takes 0..1 pixels; its label 0 is background.
    const config = {
      preprocessing: { size: [320, 320], mean: 0, std: 1 },
      postprocessing: { kind: 'boxes-scores-labels', label_offset: 1, max_detections: 300 },
    };

    it('our preprocessing makes the input torch was given', async () => {
      const input = await loadImage(SHAPES.file, preprocessFromConfig(config, [1, 3, 320, 320]));
      const sum = input.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - ref.input_sum) < 1e-6 * ref.input_sum, `input sum ${sum}, torch's ${ref.input_sum}`);
    });

    it('onnxruntime + postprocessing give torch’s boxes, scores and labels, in the original image’s pixels', async () => {
      const session = await OrtSession.create(fixture('ssdlite.onnx'));
      let boxes: PredictedBox[];
      try {
        [boxes] = (await detectImages(session, config, [SHAPES], { model: 'ssdlite.onnx' })).map(boxesOf);
      } finally {
        await session.release();
      }
      const [sx, sy] = [256 / 320, 192 / 320];
      const expected = ref.scores.map((score, i) => {
        const [x1, y1, x2, y2] = ref.boxes_xyxy_input[i];
        return { id: i, label: ref.labels[i] - 1, score, bbox: [x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy] };
      }) as PredictedBox[];
      assert.ok(new Set(expected.map((b) => b.label)).size >= 2, 'the fixture gives several classes');
      assertBoxes(boxes, expected, 1e-3);
    });
  });
});

// The three ways a detection evaluation is recorded, on real parts: torchvision's SSDlite (exported by
// torch, test/fixtures/detectors) run by the built-in evaluator through onnxruntime on the coco-shapes
// images; the same boxes written out as COCO results and recorded as predictions made elsewhere; and an
// external evaluator (a real script) that writes them. All three must give the same numbers, so the
// detector's coordinates, label offset and class mapping survive every path.
import * as assert from 'assert';
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { registerDataset } from '../../../../../src/core/datasets/register';
import { evaluateFromPredictions } from '../../../../../src/core/evaluate/detection/record';
import { evaluateVersion } from '../../../../../src/core/evaluate/evaluate';
import { checkEvaluatorProfile, evaluateExternally } from '../../../../../src/core/evaluate/external';
import { Registry } from '../../../../../src/core/registry/registry';
import { importOnnxModel } from '../../../helpers/importModel';
import { repoRoot } from '../../../helpers/paths';
import { tempDir } from '../../../helpers/tmp';

const FIXTURES = path.join(repoRoot, 'test', 'fixtures');
const CONFIG = {
  preprocessing: { size: [320, 320], mean: 0, std: 1 },
  // torchvision's labels are 1-based (0 is background); its classes are the dataset's first three.
  postprocessing: { kind: 'boxes-scores-labels', label_offset: 1, max_detections: 100 },
  labels: ['cloud', 'heart', 'arrow'],
};

describe('detection evaluations: built-in detector, predictions made elsewhere, external evaluator', function () {
  this.timeout(120_000);
  let work: string;
  let r: Registry;

  before(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, '.modelreg'));
    cpSync(path.join(FIXTURES, 'coco-shapes'), path.join(work, 'shapes'), { recursive: true });
    await registerDataset(r, path.join(work, 'shapes', 'gt_dataset.json'), {
      name: 'shapes',
      images: path.join(work, 'shapes'),
      boundary: work,
    });
    await importOnnxModel(r, work, 'ssd', readFileSync(path.join(FIXTURES, 'detectors', 'ssdlite.onnx')), CONFIG);
  });
  after(() => r.close());

  it('runs SSDlite on every image and records metrics, classes by name and each box’s outcome', async () => {
    const progress: number[] = [];
    const e = await evaluateVersion(r, 'ssd@v1', { dataset: 'shapes', onProgress: (d) => progress.push(d) });
    assert.deepStrictEqual([e.evaluator, e.sampleCount, e.errorCount, e.details.task], ['builtin', 3, 0, 'detection']);
    assert.strictEqual(e.details.classMap, 'by name');
    assert.deepStrictEqual(progress.at(-1), 3);
    const images = await r.evaluationImages(e.id);
    assert.strictEqual(images.length, 3);
    const predictions = images.flatMap((im) => im.predictions);
    assert.strictEqual(predictions.length, e.details.predictionCount);
    assert.ok(predictions.length > 0 && predictions.length <= 300);
    // Labels are dataset classes 0..2 (cloud, heart, arrow): never star (3), which the model lacks.
    assert.ok(predictions.every((p) => p.label >= 0 && p.label <= 2));
    // Boxes are in the 256×256 images' pixels, not the 320×320 input's.
    assert.ok(predictions.every((p) => p.bbox[0] >= 0 && p.bbox[0] + p.bbox[2] <= 256 + 1e-6));
    // Every ground truth is accounted for: matched or missed.
    assert.strictEqual(
      images.flatMap((im) => im.truths).filter((t) => t.outcome === 'matched' || t.outcome === 'fn').length,
      9,
    );
    for (const k of ['AP', 'AP50', 'AR100', 'VOC_AP50', 'mAP50', 'F1'])
      assert.strictEqual(typeof e.metrics[k], 'number', k);
  });

  it('the same boxes as COCO results, recorded as predictions made elsewhere and by an external evaluator, give the same metrics', async () => {
    const builtin = (await r.evaluationsOf((await r.resolve('ssd@v1')).id)).find((e) => e.evaluator === 'builtin')!;
    const manifest = await r.readManifest(await r.getDataset('shapes'));
    const ids = manifest.detection!.categoryIds;
    const results = (await r.evaluationImages(builtin.id)).flatMap((im) =>
      im.predictions.map((p) => ({ image_id: im.imageId, category_id: ids[p.label], bbox: p.bbox, score: p.score })),
    );
    const file = path.join(work, 'results.json');
    writeFileSync(file, JSON.stringify(results));
    const imported = await evaluateFromPredictions(r, 'ssd@v1', file, { dataset: 'shapes' });
    assert.deepStrictEqual(imported.metrics, builtin.metrics);
    assert.deepStrictEqual(imported.perClass, builtin.perClass);
    assert.deepStrictEqual(imported.confusion, builtin.confusion);

    // An external evaluator writes the same file into its output folder.
    const tool = path.join(work, 'detector.js');
    writeFileSync(
      tool,
      `#!${process.execPath}\nrequire('fs').copyFileSync(${JSON.stringify(file)}, require('path').join(process.argv[2], 'predictions.json'));\n`,
    );
    chmodSync(tool, 0o755);
    const profile = checkEvaluatorProfile({ id: 'remote', tool, args: ['${outputDir}'] }, 'test');
    const external = await evaluateExternally(r, 'ssd@v1', profile, { dataset: 'shapes' });
    assert.strictEqual(external.evaluator, 'remote');
    assert.deepStrictEqual(external.metrics, builtin.metrics);
  });

  it('refuses a dataset registered without its images, and says what would work', async () => {
    await registerDataset(r, path.join(work, 'shapes', 'gt_dataset.json'), { name: 'boxes-only', boundary: work });
    await assert.rejects(
      evaluateVersion(r, 'ssd@v1', { dataset: 'boxes-only' }),
      /dataset boxes-only was registered without its images, so a detector cannot run on it: register it again with its images folder \(--images DIR\), or record predictions made elsewhere/,
    );
  });
});

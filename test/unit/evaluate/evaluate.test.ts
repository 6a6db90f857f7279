// The built-in evaluator end to end: tiny ONNX classifiers written here, a CSV dataset and an image
// folder generated here, known predictions, so known accuracy and confusion; a corrupt image and a
// label the model does not know are reported per sample without stopping the run.
import * as assert from 'assert';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { registerDataset } from '../../../src/core/datasets/register';
import { evaluateVersion } from '../../../src/core/evaluate/evaluate';
import { evaluationSamples, evaluationsOf } from '../../../src/core/evaluate/store';
import { importTrainingOutput } from '../../../src/core/importers/trainingOutput';
import { onnxModelType } from '../../../src/core/inspect/weights/onnxSchema';
import { Registry } from '../../../src/core/registry/registry';
import { onnxModelBytes } from '../helpers/makeWeights';
import { git, makeGitRepo, tempDir } from '../helpers/tmp';

/** Input [batch, 3, 4, 4] → GlobalAveragePool → Flatten → [batch, 3]: the mean of each colour channel. */
function channelMeanModel(): Buffer {
  const dim = (d: number | string) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d });
  const info = (name: string, dims: (number | string)[]) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map(dim) } } } });
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'modelreg-tests',
    graph: {
      name: 'channel_mean',
      node: [
        { op_type: 'GlobalAveragePool', name: 'pool', input: ['image'], output: ['pooled'] },
        { op_type: 'Flatten', name: 'flat', input: ['pooled'], output: ['scores'] },
      ],
      input: [info('image', ['batch', 3, 4, 4])],
      output: [info('scores', ['batch', 3])],
    },
  };
  const t = onnxModelType();
  return Buffer.from(t.encode(t.fromObject(model)).finish());
}

function png(file: string, rgb: [number, number, number], w = 4, h = 4): void {
  const img = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) img.data.set([...rgb, 255], 4 * i);
  writeFileSync(file, PNG.sync.write(img));
}

describe('built-in evaluator', () => {
  let work: string;
  let r: Registry;
  beforeEach(async () => {
    work = tempDir();
    makeGitRepo(work);
    r = await Registry.open(path.join(work, '.modelreg'));
  });
  afterEach(() => r.close());

  async function importModel(name: string, onnx: Buffer, config?: unknown) {
    const dir = path.join(work, 'models', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'model.onnx'), onnx);
    if (config) writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    return importTrainingOutput(r, dir, { model: name });
  }

  it('a CSV dataset: accuracy, confusion matrix and per-sample predictions as computed by hand', async () => {
    // logits = [x1, x2, 0.5]: the larger of x1, x2 wins unless both are below 0.5.
    await importModel('mlp', onnxModelBytes({ features: 2, classes: 3, weights: [1, 0, 0, 0, 1, 0], bias: [0, 0, 0.5], softmax: false }));
    const csv = path.join(work, 'data.csv');
    writeFileSync(csv, 'x1,x2,label\n1,0,a\n0.9,0.1,a\n0,1,b\n0,0,c\n0.2,0.9,a\n0.1,0.2,b\n');
    await registerDataset(r, csv, { name: 'points' });
    const progress: number[] = [];
    const e = await evaluateVersion(r, 'mlp@v1', { dataset: 'points', batchSize: 4, cwd: work, onProgress: (d) => progress.push(d) });
    assert.deepStrictEqual(progress, [4, 6]);
    assert.strictEqual(e.metrics.accuracy, 4 / 6);
    assert.deepStrictEqual(e.confusion, [
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    assert.deepStrictEqual(e.classes, ['a', 'b', 'c']);
    assert.deepStrictEqual([e.sampleCount, e.errorCount, e.split, e.evaluator], [6, 0, null, 'builtin']);
    assert.strictEqual(e.git?.commit, git(work, 'rev-parse', 'HEAD'));
    assert.match(e.datasetSha256, /^[0-9a-f]{64}$/);
    // The cell "labelled a, predicted b" holds exactly the fifth row.
    const cell = await evaluationSamples(r, e.id, { label: 0, prediction: 1 });
    assert.deepStrictEqual(cell.map((s) => s.sampleId), ['data.csv#4']);
    assert.deepStrictEqual((await evaluationsOf(r, e.versionId)).map((x) => x.id), [e.id]);
  });

  it('an image folder: preprocessing from config.json, classes matched by name, a corrupt image reported and skipped', async () => {
    const config = { preprocessing: { size: [4, 4], scale: 1 / 255, mean: 0, std: 1 }, labels: ['red', 'green', 'blue'] };
    await importModel('colours', channelMeanModel(), config);
    const root = path.join(work, 'colours');
    for (const c of ['red', 'green', 'blue']) mkdirSync(path.join(root, c), { recursive: true });
    png(path.join(root, 'red', 'r1.png'), [255, 0, 0]);
    png(path.join(root, 'red', 'r2.png'), [200, 10, 10], 8, 6); // resized to 4×4
    png(path.join(root, 'red', 'mislabelled.png'), [0, 0, 255]);
    png(path.join(root, 'green', 'g1.png'), [0, 255, 0]);
    png(path.join(root, 'blue', 'b1.png'), [10, 20, 250]);
    writeFileSync(path.join(root, 'green', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n this is not a png'));
    await registerDataset(r, root, { name: 'colours' });
    const e = await evaluateVersion(r, 'colours@v1', { dataset: 'colours', batchSize: 2 });
    assert.deepStrictEqual(e.classes, ['blue', 'green', 'red']);
    assert.deepStrictEqual([e.sampleCount, e.errorCount], [5, 1]);
    assert.strictEqual(e.metrics.accuracy, 4 / 5);
    assert.strictEqual(e.confusion[2][0], 1, 'the blue image labelled red');
    const errors = await evaluationSamples(r, e.id, { errors: true });
    assert.deepStrictEqual(errors.map((s) => s.sampleId), ['green/broken.png']);
    assert.match(errors[0].error!, /broken\.png: not a readable PNG/);
    const wrong = await evaluationSamples(r, e.id, { wrong: true });
    assert.deepStrictEqual(wrong.map((s) => [s.sampleId, s.label, s.prediction]), [['red/mislabelled.png', 2, 0]]);
  });

  it('refuses a version without ONNX, an unknown split, and leaves nothing when cancelled', async () => {
    await importModel('mlp', onnxModelBytes({ features: 2, classes: 3, softmax: false }));
    const csv = path.join(work, 'data.csv');
    writeFileSync(csv, 'x1,x2,label,split\n1,0,a,test\n0,1,b,train\n');
    await registerDataset(r, csv, { name: 'points' });
    await assert.rejects(evaluateVersion(r, 'mlp@v1', { dataset: 'points', split: 'val' }), /dataset points has no split 'val' \(splits: .*test.*\)/);
    await assert.rejects(evaluateVersion(r, 'mlp@v1', { dataset: 'nope' }), /no dataset 'nope' \(datasets: points\)/);
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(evaluateVersion(r, 'mlp@v1', { dataset: 'points', signal: abort.signal }), /cancelled/);
    assert.deepStrictEqual(await r.db.all('SELECT id FROM evaluations'), []);
    // The default split is test: one sample.
    assert.strictEqual((await evaluateVersion(r, 'mlp@v1', { dataset: 'points' })).sampleCount, 1);
  });
});

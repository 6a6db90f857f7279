// The built-in evaluator end to end: tiny ONNX classifiers written here, a CSV dataset and an image
// folder generated here, known predictions, so known accuracy and confusion; a corrupt image and a
// label the model does not know are reported per sample without stopping the run.
import * as assert from 'assert';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { buildComparison } from '../../../../src/extension/compare/comparison';
import { registerDataset } from '../../../../src/core/datasets/register';
import { evaluateVersion } from '../../../../src/core/evaluate/evaluate';
import { checkEvaluatorProfile, evaluateExternally } from '../../../../src/core/evaluate/external';
import { Registry } from '../../../../src/core/registry/registry';
import { channelMeanModelBytes, onnxModelBytes, solidPng } from '../../helpers/makeWeights';
import { importOnnxModel } from '../../helpers/importModel';
import { git, makeGitRepo, tempDir } from '../../helpers/tmp';
import { sqlOf } from '../../helpers/sql';

function png(file: string, rgb: [number, number, number], w = 4, h = 4): void {
  writeFileSync(file, solidPng(rgb, w, h));
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

  const importModel = (name: string, onnx: Buffer, config?: unknown) => importOnnxModel(r, work, name, onnx, config);

  it('a CSV dataset: accuracy, confusion matrix and per-sample predictions as computed by hand', async () => {
    // logits = [x1, x2, 0.5]: the larger of x1, x2 wins unless both are below 0.5.
    await importModel(
      'mlp',
      onnxModelBytes({ features: 2, classes: 3, weights: [1, 0, 0, 0, 1, 0], bias: [0, 0, 0.5], softmax: false }),
    );
    const csv = path.join(work, 'data.csv');
    writeFileSync(csv, 'x1,x2,label\n1,0,a\n0.9,0.1,a\n0,1,b\n0,0,c\n0.2,0.9,a\n0.1,0.2,b\n');
    await registerDataset(r, csv, { name: 'points' });
    const progress: number[] = [];
    const e = await evaluateVersion(r, 'mlp@v1', {
      dataset: 'points',
      batchSize: 4,
      cwd: work,
      onProgress: (d) => progress.push(d),
    });
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
    const cell = await r.evaluationSamples(e.id, { label: 0, prediction: 1 });
    assert.deepStrictEqual(
      cell.map((s) => s.sampleId),
      ['data.csv#4'],
    );
    assert.deepStrictEqual(
      (await r.evaluationsOf(e.versionId)).map((x) => x.id),
      [e.id],
    );
  });

  it('an image folder: preprocessing from config.json, classes matched by name, a corrupt image reported and skipped', async () => {
    const config = {
      preprocessing: { size: [4, 4], scale: 1 / 255, mean: 0, std: 1 },
      labels: ['red', 'green', 'blue'],
    };
    await importModel('colours', channelMeanModelBytes(), config);
    const root = path.join(work, 'colours');
    for (const c of ['red', 'green', 'blue']) mkdirSync(path.join(root, c), { recursive: true });
    png(path.join(root, 'red', 'r1.png'), [255, 0, 0]);
    png(path.join(root, 'red', 'r2.png'), [200, 10, 10], 8, 6); // resized to 4×4
    png(path.join(root, 'red', 'mislabelled.png'), [0, 0, 255]);
    png(path.join(root, 'green', 'g1.png'), [0, 255, 0]);
    png(path.join(root, 'blue', 'b1.png'), [10, 20, 250]);
    writeFileSync(path.join(root, 'green', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n this is not a png'));
    mkdirSync(path.join(root, 'purple'));
    png(path.join(root, 'purple', 'p1.png'), [128, 0, 128]); // a class the model does not have
    await registerDataset(r, root, { name: 'colours' });
    const e = await evaluateVersion(r, 'colours@v1', { dataset: 'colours', batchSize: 2 });
    assert.deepStrictEqual(e.classes, ['blue', 'green', 'purple', 'red']);
    assert.deepStrictEqual([e.sampleCount, e.errorCount], [5, 2]);
    assert.strictEqual(e.metrics.accuracy, 4 / 5);
    assert.strictEqual(e.confusion[3][0], 1, 'the blue image labelled red');
    const errors = await r.evaluationSamples(e.id, { errors: true });
    assert.deepStrictEqual(errors.map((s) => s.sampleId).sort(), ['green/broken.png', 'purple/p1.png']);
    assert.match(errors.find((s) => s.sampleId === 'green/broken.png')!.error!, /broken\.png: not a readable PNG/);
    assert.match(
      errors.find((s) => s.sampleId === 'purple/p1.png')!.error!,
      /label 'purple' is not a class of the model \(it has: red, green, blue\)/,
    );
    const wrong = await r.evaluationSamples(e.id, { wrong: true });
    assert.deepStrictEqual(
      wrong.map((s) => [s.sampleId, s.label, s.prediction]),
      [['red/mislabelled.png', 3, 0]],
    );
  });

  it('refuses a version without ONNX, an unknown split, and leaves nothing when cancelled', async () => {
    await importModel('mlp', onnxModelBytes({ features: 2, classes: 3, softmax: false }));
    const csv = path.join(work, 'data.csv');
    writeFileSync(csv, 'x1,x2,label,split\n1,0,a,test\n0,1,b,train\n');
    await registerDataset(r, csv, { name: 'points' });
    await assert.rejects(
      evaluateVersion(r, 'mlp@v1', { dataset: 'points', split: 'val' }),
      /dataset points has no split 'val' \(splits: .*test.*\)/,
    );
    await assert.rejects(evaluateVersion(r, 'mlp@v1', { dataset: 'nope' }), /no dataset 'nope' \(datasets: points\)/);
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(evaluateVersion(r, 'mlp@v1', { dataset: 'points', signal: abort.signal }), /cancelled/);
    assert.deepStrictEqual(await sqlOf(r).all('SELECT id FROM evaluations'), []);
    // The default split is test: one sample.
    assert.strictEqual((await evaluateVersion(r, 'mlp@v1', { dataset: 'points' })).sampleCount, 1);
  });

  it('evaluations of the same dataset appear in the comparison as metric rows, best marked', async () => {
    await importModel(
      'mlp',
      onnxModelBytes({ features: 2, classes: 3, weights: [1, 0, 0, 0, 1, 0], bias: [0, 0, 0.5], softmax: false }),
    );
    await importModel(
      'mlp',
      onnxModelBytes({ features: 2, classes: 3, weights: [0, 1, 0, 1, 0, 0], bias: [0, 0, 0.5], softmax: false }),
    );
    const csv = path.join(work, 'data.csv');
    writeFileSync(csv, 'x1,x2,label\n1,0,a\n0.9,0.1,a\n0,1,b\n0,0,c\n');
    await registerDataset(r, csv, { name: 'points' });
    const [a, b] = [
      await evaluateVersion(r, 'mlp@v1', { dataset: 'points' }),
      await evaluateVersion(r, 'mlp@v2', { dataset: 'points' }),
    ];
    assert.deepStrictEqual([a.metrics.accuracy, b.metrics.accuracy], [1, 0.25]);
    const cmp = await buildComparison(r, [a.versionId, b.versionId]);
    const row = cmp.metrics.find((m) => m.key === 'eval points: accuracy')!;
    assert.deepStrictEqual([row.values, row.direction, row.best], [[1, 0.25], 'higher', [0]]);
    assert.ok(cmp.metrics.some((m) => m.key === 'eval points: ECE' && m.direction === 'lower'));
  });

  describe('external evaluators', () => {
    /** A stand-in evaluator: reads the manifest, predicts each sample's label except the first ("c"), scores 0.9. */
    const SCRIPT = `#!/usr/bin/env node
const fs = require('fs'), path = require('path');
const [model, dataset, manifestFile, split, out] = process.argv.slice(2);
if (!fs.existsSync(model)) { console.error('no model at ' + model); process.exit(4); }
if (split === 'fail') { console.error('CUDA error: out of memory'); process.exit(2); }
const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
console.log('evaluating ' + m.samples.length + ' samples of ' + dataset);
const lines = m.samples.map((s, i) => JSON.stringify({ sample_id: s.id, prediction: i === 0 ? 'c' : m.classes[s.label], score: 0.9 }));
lines.push(JSON.stringify({ sample_id: 'not-in-dataset', prediction: 'a' }));
fs.writeFileSync(path.join(out, 'predictions.jsonl'), lines.join('\\n') + '\\n');
fs.writeFileSync(path.join(out, 'metrics.json'), JSON.stringify({ latency_ms: 12.5, accuracy: 0.5 }));
`;
    /** A model, a "points" dataset from the CSV text, and the stand-in evaluator as a profile. */
    async function setup(csvText: string) {
      await importModel('mlp', onnxModelBytes({ features: 2, classes: 3, softmax: false }));
      const csv = path.join(work, 'data.csv');
      writeFileSync(csv, csvText);
      await registerDataset(r, csv, { name: 'points' });
      const tool = path.join(work, 'fake-eval');
      writeFileSync(tool, SCRIPT);
      chmodSync(tool, 0o755);
      return {
        csv,
        profile: checkEvaluatorProfile(
          { id: 'fake', tool, args: ['${model}', '${dataset}', '${manifest}', '${split}', '${outputDir}'] },
          'test',
        ),
      };
    }

    it('runs the command, ingests predictions.jsonl and metrics.json (its numbers win), keeps the log', async () => {
      const { csv, profile } = await setup('x1,x2,label\n1,0,a\n0,1,b\n0,0,c\n1,1,a\n');
      const lines: string[] = [];
      const e = await evaluateExternally(r, 'mlp@v1', profile, { dataset: 'points', log: (l) => lines.push(l) });
      assert.deepStrictEqual([e.evaluator, e.sampleCount, e.errorCount], ['fake', 4, 0]);
      assert.deepStrictEqual(e.confusion, [
        [1, 0, 1],
        [0, 1, 0],
        [0, 0, 1],
      ]);
      assert.strictEqual(e.metrics.accuracy, 0.5, "the evaluator's own accuracy wins over the computed 0.75");
      assert.strictEqual(e.metrics.latency_ms, 12.5);
      assert.strictEqual(e.metrics.macroRecall, (0.5 + 1 + 1) / 3);
      assert.ok(lines.some((l) => l === 'evaluating 4 samples of ' + csv));
      assert.match(readFileSync((e.details as { log: string }).log, 'utf8'), /1 unknown or repeated ids ignored/);
      await assert.rejects(
        evaluateExternally(r, 'mlp@v1', profile, { dataset: 'points', split: 'fail' }),
        /no split 'fail'/,
      );
    });

    it('a failing evaluator leaves no evaluation and names its last lines and log', async () => {
      const { profile } = await setup('x1,x2,label,split\n1,0,a,fail\n');
      await assert.rejects(
        evaluateExternally(r, 'mlp@v1', profile, { dataset: 'points', split: 'fail' }),
        (err: Error) => {
          assert.match(err.message, /fake-eval failed \(exit 2\): CUDA error: out of memory\. Full log: (.*\.log)$/);
          assert.ok(existsSync(/Full log: (.*\.log)$/.exec(err.message)![1]));
          return true;
        },
      );
      assert.deepStrictEqual(await sqlOf(r).all('SELECT id FROM evaluations'), []);
      assert.throws(
        () => checkEvaluatorProfile({ id: 'x', tool: 'y', args: 'z' }, 'settings'),
        /settings: evaluator "x": "args" must be a list of strings/,
      );
    });

    it('a prediction nested 100k deep is refused naming predictions.jsonl and its line; nothing is stored', async () => {
      const { profile } = await setup('x1,x2,label\n1,0,a\n');
      const deep = path.join(work, 'deep-eval');
      writeFileSync(
        deep,
        `#!/usr/bin/env node
const fs = require('fs'), path = require('path');
const out = process.argv[process.argv.length - 1];
fs.writeFileSync(path.join(out, 'predictions.jsonl'), '{"sample_id":"0","prediction":"a"}\\n{"sample_id":"1","prediction":' + '['.repeat(100000) + ']'.repeat(100000) + '}\\n');
fs.writeFileSync(path.join(out, 'metrics.json'), '{}');
`,
      );
      chmodSync(deep, 0o755);
      const deepProfile = checkEvaluatorProfile({ ...profile, id: 'deep', tool: deep }, 'test');
      await assert.rejects(
        evaluateExternally(r, 'mlp@v1', deepProfile, { dataset: 'points' }),
        /deep: predictions\.jsonl: line 2 is nested more than 128 levels deep/,
      );
      assert.deepStrictEqual(await sqlOf(r).all('SELECT id FROM evaluations'), []);
    });
  });
});

// `modelreg evaluate` through the real CLI: a model whose input does not fit the dataset is refused
// in our words before onnxruntime runs, and the split defaults to held-out data, never train.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { onnxModelBytes, solidPng } from '../helpers/makeWeights';
import { CLI_JS } from '../helpers/paths';
import { makeGitRepo, tempDir } from '../helpers/tmp';

function modelreg(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI_JS, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('modelreg evaluate', () => {
  let ws: string;
  const ok = (...args: string[]) => {
    const r = modelreg(ws, ...args);
    assert.strictEqual(r.code, 0, r.err);
    return r;
  };
  const model = (name: string, onnx: Buffer) => {
    mkdirSync(path.join(ws, 'models', name), { recursive: true });
    writeFileSync(path.join(ws, 'models', name, 'model.onnx'), onnx);
    ok('import', `models/${name}`, '--model', name);
  };
  beforeEach(() => {
    ws = tempDir();
    makeGitRepo(ws);
  });

  it('refuses a model whose input does not fit what the dataset gives, naming both shapes; nothing is recorded', () => {
    model('colour-net', onnxModelBytes({ features: 16, classes: 2 }));
    for (const [c, rgb] of [
      ['red', [255, 0, 0]],
      ['green', [0, 255, 0]],
    ] as const) {
      mkdirSync(path.join(ws, 'colours', c), { recursive: true });
      writeFileSync(path.join(ws, 'colours', c, '1.png'), solidPng([...rgb]));
    }
    ok('dataset', 'add', 'colours');
    const r = modelreg(ws, 'evaluate', 'colour-net@v1', '--dataset', 'colours');
    assert.strictEqual(r.code, 2, r.err);
    assert.match(
      r.err,
      /^modelreg: colour-net@v1 expects \[batch, 16\] \(input 'input' of model\.onnx\); the dataset's images give \[batch, 3, 224, 224\] \(colours\)\n/,
    );
    assert.doesNotMatch(r.err, /onnxruntime|Invalid rank/);
    assert.match(ok('evaluations', 'colour-net@v1').out, /has not been evaluated/);

    // A table with 2 feature columns against the same model: its rows, by the same words.
    writeFileSync(path.join(ws, 'points.csv'), 'x1,x2,label\n1,0,red\n0,1,green\n');
    ok('dataset', 'add', 'points.csv', '--name', 'points');
    const rows = modelreg(ws, 'evaluate', 'colour-net@v1', '--dataset', 'points');
    assert.strictEqual(rows.code, 2, rows.err);
    assert.match(
      rows.err,
      /^modelreg: colour-net@v1 expects \[batch, 16\] \(input 'input' of model\.onnx\); the dataset's rows give \[batch, 2\] \(points\.csv\)\n/,
    );
    // A model that fits runs.
    model('mlp', onnxModelBytes({ features: 2, classes: 2 }));
    assert.match(ok('evaluate', 'mlp@v1', '--dataset', 'points').out, /mlp@v1 on points .*: 2 samples/);
  });

  it('without --split runs on test or val, never train; a dataset with only train must be asked for it', () => {
    model('mlp', onnxModelBytes({ features: 2, classes: 2 }));
    writeFileSync(path.join(ws, 'tv.csv'), 'x1,x2,label,split\n1,0,a,train\n0,1,b,train\n1,1,a,val\n');
    ok('dataset', 'add', 'tv.csv', '--name', 'tv');
    const e = JSON.parse(ok('evaluate', 'mlp@v1', '--dataset', 'tv', '--json').out);
    assert.deepStrictEqual([e.split, e.sampleCount], ['val', 1]);

    writeFileSync(path.join(ws, 'tr.csv'), 'x1,x2,label,split\n1,0,a,train\n0,1,b,train\n');
    ok('dataset', 'add', 'tr.csv', '--name', 'tr');
    const r = modelreg(ws, 'evaluate', 'mlp@v1', '--dataset', 'tr');
    assert.strictEqual(r.code, 2, r.err);
    assert.match(r.err, /^modelreg: dataset tr has no test or validation split \(splits: train\)/);
    const asked = JSON.parse(ok('evaluate', 'mlp@v1', '--dataset', 'tr', '--split', 'train', '--json').out);
    assert.deepStrictEqual([asked.split, asked.sampleCount], ['train', 2]);
  });
});

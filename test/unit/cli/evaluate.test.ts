// `modelreg evaluate` through the real CLI: the split defaults to held-out data, never train.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { onnxModelBytes } from '../helpers/makeWeights';
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

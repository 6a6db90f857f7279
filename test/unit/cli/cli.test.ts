import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { chmodSync, cpSync, existsSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { makeSampleWorkspace } from '../../fixtures/sampleWorkspace';
import { git, tempDir } from '../helpers/tmp';
import { CLI_JS } from '../helpers/paths';

const cli = CLI_JS;

function modelreg(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('modelreg CLI', () => {
  let ws: string;
  before(async () => {
    ws = tempDir();
    await makeSampleWorkspace(ws);
  });

  it('import --json prints the new version with files, git and metrics; the registry defaults to ./.modelreg', () => {
    const r = modelreg(ws, 'import', 'outputs/run1', '--json');
    assert.strictEqual(r.code, 0, r.err);
    const v = JSON.parse(r.out);
    assert.strictEqual(v.model, 'run1');
    assert.strictEqual(v.number, 1);
    assert.strictEqual(v.format, 'safetensors');
    assert.strictEqual(v.git.commit, git(ws, 'rev-parse', 'HEAD'));
    assert.ok(v.files.every((f: { sha256: string }) => /^[0-9a-f]{64}$/.test(f.sha256)));
    assert.ok(v.metrics.some((m: { key: string }) => m.key === 'eval_accuracy'));
    assert.ok(existsSync(path.join(ws, '.modelreg', 'registry.db')));
  });

  it('list, show and --model', () => {
    assert.strictEqual(modelreg(ws, 'import', 'outputs/resnet-cifar', '--model', 'resnet').code, 0);
    const models = JSON.parse(modelreg(ws, 'list', '--json').out);
    assert.deepStrictEqual(
      models.map((m: { name: string }) => m.name),
      ['resnet', 'run1'],
    );
    const versions = JSON.parse(modelreg(ws, 'list', 'run1', '--json').out);
    assert.deepStrictEqual(
      versions.map((v: { ref: string }) => v.ref),
      ['run1@v1'],
    );
    const show = modelreg(ws, 'show', 'resnet@v1');
    assert.strictEqual(show.code, 0, show.err);
    assert.match(show.out, /input +input float32\[batch, 16\]/);
    assert.match(show.out, /val_acc/);
  });

  it('fails with exit 2 and a message naming the problem', () => {
    const missing = modelreg(ws, 'import', 'outputs/nope');
    assert.strictEqual(missing.code, 2);
    assert.match(missing.err, /^modelreg: .*outputs\/nope: no such file or folder/);
    const unknown = modelreg(ws, 'show', 'ghost@v1');
    assert.strictEqual(unknown.code, 2);
    assert.match(unknown.err, /no model named 'ghost'/);
    const badName = modelreg(ws, 'import', 'outputs/run1', '--model', 'a b');
    assert.strictEqual(badName.code, 2);
    assert.match(badName.err, /invalid model name 'a b'/);
  });

  it('verify exits 1 and names the damaged object; gc reports what it removed', () => {
    const reg = tempDir();
    assert.strictEqual(modelreg(ws, '--registry', reg, 'import', 'outputs/yolo-detect').code, 0);
    const ok = modelreg(ws, '--registry', reg, 'verify', '--json');
    assert.strictEqual(ok.code, 0);
    assert.deepStrictEqual(JSON.parse(ok.out).problems, []);
    const v = JSON.parse(modelreg(ws, '--registry', reg, 'show', 'yolo-detect', '--json').out);
    const results = v.files.find((f: { path: string }) => f.path === 'results.csv');
    const obj = path.join(reg, 'objects', results.sha256.slice(0, 2), results.sha256.slice(2));
    chmodSync(obj, 0o644);
    writeFileSync(obj, 'tampered');
    const bad = modelreg(ws, '--registry', reg, 'verify');
    assert.strictEqual(bad.code, 1);
    assert.match(bad.out, new RegExp(`CORRUPT ${results.sha256} +used by yolo-detect@v1:results.csv`));
    const gc = JSON.parse(modelreg(ws, '--registry', reg, 'gc', '--json').out);
    assert.deepStrictEqual(gc, { removedObjects: 0, removedBytes: 0, removedVersions: 0, removedEvaluations: 0 });
  });
});

describe('modelreg import without --model: a second run is a new version', () => {
  let ws: string;
  before(async () => {
    ws = tempDir();
    await makeSampleWorkspace(ws);
  });

  it('goes into the model it is confidently a run of, says so on stderr, and --json names the model and why', () => {
    assert.strictEqual(modelreg(ws, 'import', 'outputs/resnet-cifar').code, 0);
    // A second run: the same head, another learning rate.
    cpSync(path.join(ws, 'outputs', 'resnet-cifar'), path.join(ws, 'outputs', 'resnet-lr05'), { recursive: true });
    const hparams = path.join(ws, 'outputs', 'resnet-lr05', 'lightning_logs', 'version_0', 'hparams.yaml');
    writeFileSync(hparams, readFileSync(hparams, 'utf8').replace(/^lr: .*$/m, 'lr: 0.05'));
    writeFileSync(path.join(ws, 'outputs', 'resnet-lr05', 'notes.txt'), 'lr 0.05\n');
    const r = modelreg(ws, 'import', 'outputs/resnet-lr05', '--json');
    assert.strictEqual(r.code, 0, r.err);
    const v = JSON.parse(r.out);
    assert.strictEqual(v.ref, 'resnet-cifar@v2');
    const reasons = [
      'same weights (onnx, 170 parameters)',
      'same training config (lightning_logs/version_0/hparams.yaml, 3 of 4 values equal)',
      'same parent folder outputs/',
    ];
    assert.deepStrictEqual(v.modelChoice, { model: 'resnet-cifar', by: 'match', reasons });
    assert.strictEqual(
      r.err.trim(),
      `note: importing into resnet-cifar as a new version (${reasons.join(', ')}); --model NAME picks another`,
    );
  });

  it('another kind of output is a new model named after its folder; --model still names it', () => {
    const yolo = modelreg(ws, 'import', 'outputs/yolo-detect', '--json');
    assert.strictEqual(yolo.code, 0, yolo.err);
    assert.deepStrictEqual(
      [JSON.parse(yolo.out).ref, JSON.parse(yolo.out).modelChoice],
      ['yolo-detect@v1', { model: 'yolo-detect', by: 'default', reasons: [] }],
    );
    assert.doesNotMatch(yolo.err, /note:/);
    const named = modelreg(ws, 'import', 'outputs/resnet-lr05', '--model', 'lr05', '--allow-duplicate', '--json');
    assert.strictEqual(named.code, 0, named.err);
    assert.deepStrictEqual(
      [JSON.parse(named.out).ref, JSON.parse(named.out).modelChoice],
      ['lr05@v1', { model: 'lr05', by: 'option', reasons: [] }],
    );
    // Imported into lr05 before: that is where the folder goes next.
    const again = modelreg(ws, 'import', 'outputs/resnet-lr05');
    assert.strictEqual(again.code, 0, again.err);
    assert.match(again.out, /^same files as lr05@v1: nothing imported/);
    assert.match(again.err, /^note: importing into lr05 as a new version \(imported from this folder before \(v1\), /);
  });
});

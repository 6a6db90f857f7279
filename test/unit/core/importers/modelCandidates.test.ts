import * as assert from 'assert';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { mayHoldWeights, rankModels } from '../../../../src/core/importers/modelCandidates';
import { Registry } from '../../../../src/core/registry/registry';
import { writeParamsFile } from '../../helpers/makeLogs';
import { writeOnnx, writeSafetensors } from '../../helpers/makeWeights';
import { useSampleRegistry } from '../../helpers/sampleRegistry';
import { git, tempDir } from '../../helpers/tmp';

/** A second Lightning run beside outputs/resnet-cifar: the same head, another learning rate. */
async function resnetRun(ws: string, name: string, opts: { lr?: number; classes?: number } = {}): Promise<string> {
  const dir = path.join(ws, 'outputs', name);
  cpSync(path.join(ws, 'outputs', 'resnet-cifar'), dir, { recursive: true });
  await writeOnnx(path.join(dir, 'model.onnx'), {
    features: 16,
    classes: opts.classes ?? 10,
    graphName: 'resnet_head',
    weights: Array.from({ length: 16 * (opts.classes ?? 10) }, (_, i) => (i % 7) / 10),
  });
  await writeParamsFile(path.join(dir, 'lightning_logs', 'version_0', 'hparams.yaml'), {
    lr: opts.lr ?? 0.05,
    batch_size: 128,
    optimizer: 'sgd',
    momentum: 0.9,
  });
  return dir;
}

describe('rankModels: which model a training output is a new version of', () => {
  let ws: string;
  let r: Registry;
  useSampleRegistry((w, reg) => {
    ws = w;
    r = reg;
  });

  it('a second run beside the first: same weights, same recipe, same parent folder, confident', async () => {
    await importTrainingOutput(r, path.join(ws, 'outputs', 'resnet-cifar'));
    await importTrainingOutput(r, path.join(ws, 'outputs', 'run1'));
    const lr05 = await resnetRun(ws, 'resnet-lr05');
    const [top, ...rest] = await rankModels(r, lr05);
    assert.strictEqual(top.model, 'resnet-cifar');
    assert.deepStrictEqual(top.reasons, [
      'same weights (onnx, 170 parameters)',
      'same training config (lightning_logs/version_0/hparams.yaml, 3 of 4 values equal)',
      'same parent folder outputs/',
    ]);
    assert.strictEqual(top.confident, true);
    // run1 shares only the place: listed after, not confident.
    assert.deepStrictEqual(
      rest.map((c) => [c.model, c.reasons, c.confident]),
      [['run1', ['same parent folder outputs/'], false]],
    );
  });

  it('the folder was imported into a model before: that model first, whatever its name; the latest such model first', async () => {
    const lr05 = await resnetRun(ws, 'resnet-lr05b');
    await importTrainingOutput(r, path.join(ws, 'outputs', 'resnet-cifar'));
    await importTrainingOutput(r, lr05, { model: 'cifar-head' });
    const [top, second] = await rankModels(r, lr05);
    assert.strictEqual(top.model, 'cifar-head');
    assert.strictEqual(top.reasons[0], 'imported from this folder before (v1)');
    assert.strictEqual(top.confident, true);
    assert.strictEqual(second.model, 'resnet-cifar');
    // Imported into another model since: that one is the memory now.
    await importTrainingOutput(r, lr05, { model: 'cifar-head-2' });
    assert.deepStrictEqual(
      (await rankModels(r, lr05)).map((c) => c.model),
      ['cifar-head-2', 'cifar-head', 'resnet-cifar'],
    );
  });

  it('Hugging Face outputs: the same architectures and weights, from a clone of the same remote elsewhere', async () => {
    const remote = 'git@github.com:acme/sentiment.git';
    git(ws, 'remote', 'add', 'origin', remote);
    try {
      await importTrainingOutput(r, path.join(ws, 'outputs', 'run1'));
      const clone = tempDir();
      const run2 = path.join(clone, 'outputs', 'run2');
      mkdirSync(run2, { recursive: true });
      for (const f of ['config.json', 'model.safetensors'])
        cpSync(path.join(ws, 'outputs', 'run1', f), path.join(run2, f));
      git(clone, 'init', '-q', '-b', 'main');
      git(clone, 'remote', 'add', 'origin', 'https://github.com/acme/sentiment');
      writeFileSync(path.join(clone, 'train.py'), 'print(1)\n');
      git(clone, 'add', 'train.py');
      git(clone, '-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '-q', '-m', 'x');
      const [top] = await rankModels(r, run2);
      assert.deepStrictEqual(
        [top.model, top.confident, top.reasons],
        [
          'run1',
          true,
          [
            'same architectures (BertForSequenceClassification)',
            `same weights (safetensors, ${(1000 * 64 + 128 * 64 + 2 * 4 * 64 * 64 + 2 * 64 + 2).toLocaleString('en-US')} parameters)`,
            `same folder outputs/ in a clone of ${remote}`,
          ],
        ],
      );
    } finally {
      git(ws, 'remote', 'remove', 'origin');
    }
  });

  it('a different head (another parameter count) is listed but not confident, even with the same recipe and folder', async () => {
    await importTrainingOutput(r, path.join(ws, 'outputs', 'resnet-cifar'));
    const other = await resnetRun(ws, 'resnet-100', { classes: 100, lr: 0.01 });
    const [top] = await rankModels(r, other);
    assert.strictEqual(top.model, 'resnet-cifar');
    assert.deepStrictEqual(top.reasons, [
      'same training config (lightning_logs/version_0/hparams.yaml, identical)',
      'same parent folder outputs/',
    ]);
    assert.strictEqual(top.confident, false);
  });

  it("the sample workspace's outputs are different models: none is confidently another's version", async () => {
    const outputs = readdirSync(path.join(ws, 'outputs')).filter((d) =>
      ['run1', 'resnet-cifar', 'yolo-detect', 'keras-mnist', 'tinyllama-q4', 'colour-net'].includes(d),
    );
    assert.strictEqual(outputs.length, 6);
    for (const name of outputs) {
      const dir = path.join(ws, 'outputs', name);
      const confident = (await rankModels(r, dir)).filter((c) => c.confident);
      assert.deepStrictEqual(confident, [], `${name} would go into another model`);
      await importTrainingOutput(r, dir);
    }
  });

  it('a single weights file, an empty registry and an unreadable path', async () => {
    assert.deepStrictEqual(await rankModels(r, path.join(ws, 'outputs', 'run1')), []);
    const file = path.join(ws, 'outputs', 'run1', 'model.safetensors');
    await importTrainingOutput(r, file, { model: 'bert-file' });
    const [top] = await rankModels(r, file);
    assert.deepStrictEqual(
      [top.model, top.reasons[0], top.confident],
      ['bert-file', 'imported from this file before (v1)', true],
    );
    assert.deepStrictEqual(await rankModels(r, path.join(ws, 'outputs', 'no-such-run')), []);
    const corrupt = path.join(tempDir(), 'corrupt');
    mkdirSync(corrupt);
    await writeSafetensors(path.join(corrupt, 'model.safetensors'), [{ name: 'w', dtype: 'F32', shape: [2, 2] }]);
    writeFileSync(path.join(corrupt, 'model.safetensors'), 'not safetensors');
    assert.deepStrictEqual(await rankModels(r, corrupt), [], 'the import reports corrupt weights, not the ranking');
  });
});

describe('mayHoldWeights: asked before which model an import goes into', () => {
  it('says no for a folder of images and yes for weights, a single file, or a folder it cannot read', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'pngs', 'red'), { recursive: true });
    writeFileSync(path.join(dir, 'pngs', 'red', 'red-0.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    writeFileSync(path.join(dir, 'pngs', 'training_args.bin'), 'not weights by name');
    assert.strictEqual(await mayHoldWeights(path.join(dir, 'pngs')), false);
    mkdirSync(path.join(dir, 'run', 'nested'), { recursive: true });
    await writeSafetensors(path.join(dir, 'run', 'nested', 'model.safetensors'), [
      { name: 'w', dtype: 'F32', shape: [2] },
    ]);
    assert.strictEqual(await mayHoldWeights(path.join(dir, 'run')), true);
    assert.strictEqual(
      await mayHoldWeights(path.join(dir, 'pngs', 'red', 'red-0.png')),
      true,
      'a file: the import decides',
    );
    assert.strictEqual(await mayHoldWeights(path.join(dir, 'missing')), true, 'unreadable: the import reports it');
  });
});

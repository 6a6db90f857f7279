import * as assert from 'assert';
import { createHash } from 'crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { CancelledError, InputError } from '../../../../src/core/errors';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { safetensorsBytes, writeSafetensors } from '../../helpers/makeWeights';
import { useSampleRegistry } from '../../helpers/sampleRegistry';
import { git, tempDir } from '../../helpers/tmp';

async function objects(r: Registry): Promise<string[]> {
  const all: string[] = [];
  for await (const s of r.store.list()) all.push(s);
  return all;
}

describe('importTrainingOutput', () => {
  let ws: string;
  let r: Registry;
  useSampleRegistry((w, reg) => {
    ws = w;
    r = reg;
  });

  it('imports a Hugging Face output: format, framework, parameters, metrics, params, files and commit', async () => {
    // With its checkpoint folder (the default leaves it out; checkpoints.test.ts): the copy counts once.
    const v = await importTrainingOutput(r, path.join(ws, 'outputs', 'run1'), { checkpoints: 'all' });
    assert.strictEqual(v.ref, 'run1@v1');
    assert.strictEqual(v.status, 'ready');
    assert.strictEqual(v.format, 'safetensors');
    assert.strictEqual(v.framework, 'transformers');
    assert.strictEqual(
      v.parameterCount,
      1000 * 64 + 128 * 64 + 2 * 4 * 64 * 64 + 2 * 64 + 2,
      'counted once, not with checkpoint-50/',
    );
    assert.strictEqual(v.git?.commit, git(ws, 'rev-parse', 'HEAD'));
    assert.strictEqual(v.git?.branch, 'main');
    assert.strictEqual(v.git?.dirty, false);
    assert.deepStrictEqual(Object.keys(v.params).sort(), ['config.json', 'training_args.json']);
    assert.strictEqual((v.params['training_args.json'] as Record<string, unknown>).learning_rate, 5e-5);

    const files = await r.files(v.id);
    assert.deepStrictEqual(
      files.map((f) => [f.path, f.role]),
      [
        ['checkpoint-50/model.safetensors', 'weights'],
        ['checkpoint-50/trainer_state.json', 'metrics'],
        ['config.json', 'config'],
        ['model.safetensors', 'weights'],
        ['trainer_state.json', 'metrics'],
        ['training_args.json', 'params'],
      ],
    );
    for (const f of files) {
      const bytes = readFileSync(path.join(ws, 'outputs', 'run1', f.path));
      assert.strictEqual(f.sha256, createHash('sha256').update(bytes).digest('hex'), f.path);
      assert.ok(readFileSync(r.store.objectPath(f.sha256)).equals(bytes), `${f.path} stored intact`);
    }
    assert.strictEqual((await objects(r)).length, 5, 'the checkpoint copy of the weights is stored once');

    const state = JSON.parse(readFileSync(path.join(ws, 'outputs', 'run1', 'trainer_state.json'), 'utf8'));
    const metrics = await r.finalMetrics(v.id);
    const acc = metrics.find((m) => m.key === 'eval_accuracy')!;
    assert.strictEqual(acc.value, state.best_metric);
    assert.strictEqual(acc.isBest, true);
    const losses = state.log_history.filter((e: Record<string, number>) => 'loss' in e);
    const loss = metrics.find((m) => m.key === 'loss')!;
    assert.strictEqual(loss.value, losses.at(-1).loss, 'final = last value');
    const series = await r.metricSeries(v.id, 'loss');
    assert.deepStrictEqual(
      Array.from(series!.steps),
      losses.map((e: Record<string, number>) => e.step),
    );
  });

  it('imports an ONNX output with its signature and Lightning + TensorBoard logs', async () => {
    const v = await importTrainingOutput(r, path.join(ws, 'outputs', 'resnet-cifar'));
    assert.strictEqual(v.format, 'onnx');
    assert.deepStrictEqual(
      v.signature.inputs?.map((i) => [i.name, i.dtype, i.shape]),
      [['input', 'float32', ['batch', 16]]],
    );
    assert.deepStrictEqual(
      v.signature.outputs?.map((i) => i.shape),
      [['batch', 10]],
    );
    const keys = (await r.finalMetrics(v.id)).map((m) => m.key);
    for (const k of ['train/loss', 'lr-SGD', 'train_loss', 'val_acc', 'val_loss'])
      assert.ok(keys.includes(k), `${k} in ${keys}`);
    const roles = Object.fromEntries((await r.files(v.id)).map((f) => [path.posix.basename(f.path), f.role]));
    assert.strictEqual(roles['events.out.tfevents.1761991200.trainer.4242.0'], 'metrics');
    assert.strictEqual(roles['hparams.yaml'], 'params');
  });

  it('imports YOLO, GGUF and Keras-CSV outputs', async () => {
    const yolo = await importTrainingOutput(r, path.join(ws, 'outputs', 'yolo-detect'));
    assert.strictEqual(yolo.format, 'pytorch');
    assert.strictEqual(yolo.framework, 'torch');
    assert.ok((await r.finalMetrics(yolo.id)).some((m) => m.key === 'metrics/mAP50-95(B)'));
    const llm = await importTrainingOutput(r, path.join(ws, 'outputs', 'tinyllama-q4'));
    assert.strictEqual(llm.format, 'gguf');
    assert.strictEqual(
      (llm.details.weights as { details: { architecture: string } }[])[0].details.architecture,
      'llama',
    );
    const keras = await importTrainingOutput(r, path.join(ws, 'outputs', 'keras-mnist'));
    assert.deepStrictEqual((await r.finalMetrics(keras.id)).map((m) => m.key).sort(), [
      'accuracy',
      'loss',
      'val_accuracy',
      'val_loss',
    ]);
  });

  it('re-importing appends v2 and writes no new object', async () => {
    const out = path.join(ws, 'outputs', 'run1');
    await importTrainingOutput(r, out);
    const before = await objects(r);
    const v2 = await importTrainingOutput(r, out);
    assert.strictEqual(v2.ref, 'run1@v2');
    assert.deepStrictEqual(await objects(r), before);
  });

  it('imports a single weights file under its folder name, reading the logs beside it', async () => {
    const v = await importTrainingOutput(r, path.join(ws, 'outputs', 'run1', 'model.safetensors'), {
      model: 'bert-sst2',
    });
    assert.strictEqual(v.ref, 'bert-sst2@v1');
    assert.deepStrictEqual(
      (await r.files(v.id)).map((f) => f.path),
      ['model.safetensors'],
    );
    assert.ok((await r.finalMetrics(v.id)).some((m) => m.key === 'eval_accuracy'));
    const v2 = await importTrainingOutput(r, path.join(ws, 'outputs', 'run1', 'model.safetensors'));
    assert.strictEqual(v2.model, 'run1');
  });

  it('records no provenance outside a git repository', async () => {
    const dir = tempDir();
    await writeSafetensors(path.join(dir, 'w.safetensors'), [{ name: 'w', dtype: 'F16', shape: [4] }]);
    const v = await importTrainingOutput(r, dir, { model: 'loose' });
    assert.strictEqual(v.git, null);
  });

  describe('bad input: a clear error naming the file, nothing stored', () => {
    async function assertNothingStored() {
      assert.deepStrictEqual(await r.listModels(), []);
      assert.deepStrictEqual(await objects(r), []);
    }

    it('a truncated safetensors file', async () => {
      const dir = tempDir();
      const bytes = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [32, 32] }]);
      writeFileSync(path.join(dir, 'model.safetensors'), bytes.subarray(0, bytes.length - 10));
      await assert.rejects(
        importTrainingOutput(r, dir),
        (e: Error) =>
          e instanceof InputError &&
          e.message.includes(path.join(dir, 'model.safetensors')) &&
          /truncated/.test(e.message),
      );
      await assertNothingStored();
    });

    it('a safetensors header that declares an absurd size', async () => {
      const dir = tempDir();
      const b = Buffer.alloc(64);
      b.writeBigUInt64LE(0xffffffffffffffffn);
      writeFileSync(path.join(dir, 'model.safetensors'), b);
      await assert.rejects(importTrainingOutput(r, dir), /model\.safetensors: .*header/);
      await assertNothingStored();
    });

    it('a truncated ONNX model and a malformed trainer_state.json', async () => {
      const dir = tempDir();
      writeFileSync(
        path.join(dir, 'model.onnx'),
        readFileSync(path.join(ws, 'outputs', 'resnet-cifar', 'model.onnx')).subarray(0, 200),
      );
      await assert.rejects(importTrainingOutput(r, dir), (e: Error) =>
        e.message.startsWith(path.join(dir, 'model.onnx')),
      );
      const dir2 = tempDir();
      writeFileSync(path.join(dir2, 'trainer_state.json'), '{"log_history": [');
      await assert.rejects(importTrainingOutput(r, dir2), (e: Error) =>
        e.message.startsWith(path.join(dir2, 'trainer_state.json')),
      );
      await assertNothingStored();
    });

    it('a symbolic link that escapes the folder', async () => {
      const dir = tempDir();
      mkdirSync(path.join(dir, 'out'));
      writeFileSync(path.join(dir, 'secret.txt'), 'not part of the model');
      writeFileSync(path.join(dir, 'out', 'a.txt'), 'a');
      symlinkSync(path.join(dir, 'secret.txt'), path.join(dir, 'out', 'link.txt'));
      await assert.rejects(
        importTrainingOutput(r, path.join(dir, 'out')),
        /link\.txt: symbolic link points outside the imported folder/,
      );
      await assertNothingStored();
    });

    it('a path that does not exist, and an empty folder', async () => {
      await assert.rejects(importTrainingOutput(r, '/nonexistent/run'), /\/nonexistent\/run: no such file or folder/);
      await assert.rejects(importTrainingOutput(r, tempDir()), /has no files to import/);
      await assertNothingStored();
    });
  });

  it('follows symbolic links that stay inside the folder', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'best.txt'), 'best');
    symlinkSync('best.txt', path.join(dir, 'last.txt'));
    const v = await importTrainingOutput(r, dir, { model: 'links' });
    assert.deepStrictEqual(
      (await r.files(v.id)).map((f) => f.path),
      ['best.txt', 'last.txt'],
    );
  });

  it('cancelling mid-copy registers nothing, and gc removes what was copied', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a.bin'), Buffer.alloc(8 << 20, 1));
    writeFileSync(path.join(dir, 'b.bin'), Buffer.alloc(8 << 20, 2));
    const abort = new AbortController();
    await assert.rejects(
      importTrainingOutput(r, dir, {
        model: 'cancelled',
        signal: abort.signal,
        onProgress: (p) => {
          if (p.phase === 'copying' && p.file === 'b.bin' && p.bytesDone > 9 << 20) abort.abort();
        },
      }),
      CancelledError,
    );
    assert.deepStrictEqual(await r.listModels(), []);
    assert.strictEqual((await objects(r)).length, 1, 'a.bin was copied before the cancel');
    assert.strictEqual((await r.gc()).removedObjects, 1);
    assert.deepStrictEqual(await objects(r), []);
  });

  it('reports progress in bytes up to the total', async () => {
    const seen: number[] = [];
    const v = await importTrainingOutput(r, path.join(ws, 'outputs', 'run1'), {
      onProgress: (p) => p.phase === 'copying' && seen.push(p.bytesDone),
    });
    assert.strictEqual(seen.at(-1), v.sizeBytes);
    assert.ok(
      seen.every((x, i) => i === 0 || x >= seen[i - 1]),
      'monotonic',
    );
  });
});

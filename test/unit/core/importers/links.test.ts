import * as assert from 'assert';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { registerDataset } from '../../../../src/core/datasets/register';
import { sampleFilePath } from '../../../../src/core/datasets/samples';
import { InputError } from '../../../../src/core/errors';
import { imagePath } from '../../../../src/core/evaluate/view';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { writeSafetensors } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';

function png(): Buffer {
  const p = new PNG({ width: 1, height: 1 });
  p.data.set([1, 2, 3, 255]);
  return PNG.sync.write(p);
}

/** Links that lead out of the folder the user chose are refused, naming the link and its target; nothing is stored. */
describe('links that lead outside the chosen folder', () => {
  let ws: string;
  let secret: string;
  let r: Registry;
  beforeEach(async () => {
    ws = tempDir();
    secret = tempDir('modelreg-secret-');
    writeFileSync(path.join(secret, 'id_rsa'), 'PRIVATE KEY');
    r = await Registry.open(path.join(ws, '.modelreg'));
  });
  afterEach(() => r.close());

  async function nothingStored(): Promise<void> {
    assert.deepStrictEqual(
      (await r.listModels()).map((m) => m.name),
      [],
    );
    await r.gc();
    const objects: string[] = [];
    for await (const o of r.store.list()) objects.push(o);
    assert.deepStrictEqual(objects, []);
  }

  it('a weights file that is a link to a file elsewhere (weights.bin → ~/.ssh/id_rsa)', async () => {
    mkdirSync(path.join(ws, 'out'));
    symlinkSync(path.join(secret, 'id_rsa'), path.join(ws, 'out', 'weights.bin'));
    await assert.rejects(importTrainingOutput(r, path.join(ws, 'out', 'weights.bin')), (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /out\/weights\.bin: is a link to .*modelreg-secret-.*id_rsa, outside /);
      return true;
    });
    await nothingStored();
  });

  it('an output folder that is itself a link (outputs/run1 → ~/.ssh), also with the workspace as the boundary', async () => {
    mkdirSync(path.join(ws, 'outputs'));
    symlinkSync(secret, path.join(ws, 'outputs', 'run1'));
    await assert.rejects(
      importTrainingOutput(r, path.join(ws, 'outputs', 'run1')),
      /outputs\/run1: is a link to .*modelreg-secret-/,
    );
    await assert.rejects(
      importTrainingOutput(r, path.join(ws, 'outputs', 'run1'), { boundary: ws }),
      /outputs\/run1: is a link to .*modelreg-secret-/,
    );
    await nothingStored();
  });

  it('links that stay inside the workspace are followed when the workspace is the boundary', async () => {
    mkdirSync(path.join(ws, 'runs', 'a'), { recursive: true });
    await writeSafetensors(path.join(ws, 'runs', 'a', 'model.safetensors'), [{ name: 'w', dtype: 'F32', shape: [2] }]);
    mkdirSync(path.join(ws, 'outputs'));
    symlinkSync(path.join(ws, 'runs', 'a'), path.join(ws, 'outputs', 'latest'));
    const v = await importTrainingOutput(r, path.join(ws, 'outputs', 'latest'), { boundary: ws, model: 'm' });
    assert.strictEqual(v.format, 'safetensors');
  });

  it('dataset add refuses a class folder that links out of the dataset', async () => {
    const ds = path.join(ws, 'data');
    mkdirSync(path.join(ds, 'cat'), { recursive: true });
    writeFileSync(path.join(ds, 'cat', 'a.png'), png());
    mkdirSync(path.join(secret, 'dog'));
    writeFileSync(path.join(secret, 'dog', 'b.png'), png());
    symlinkSync(path.join(secret, 'dog'), path.join(ds, 'dog'));
    await assert.rejects(registerDataset(r, ds), /data\/dog: is a link to .*modelreg-secret-.*dog, outside .*data/);
    rmSync(path.join(ds, 'dog'));
    symlinkSync(path.join(secret, 'dog', 'b.png'), path.join(ds, 'cat', 'b.png'));
    await assert.rejects(registerDataset(r, ds), /cat\/b\.png: is a link to .*modelreg-secret-/);
    rmSync(path.join(ds, 'cat', 'b.png'));
    symlinkSync(secret, path.join(ws, 'linked-data'));
    await assert.rejects(
      registerDataset(r, path.join(ws, 'linked-data'), { boundary: ws }),
      /linked-data: is a link to .*modelreg-secret-/,
    );
    mkdirSync(path.join(ws, 'sub'));
    symlinkSync(ds, path.join(ws, 'sub', 'data'));
    await assert.rejects(
      registerDataset(r, path.join(ws, 'sub', 'data')),
      /sub\/data: is a link to .*data, outside .*sub/,
    );
    assert.strictEqual(
      (await registerDataset(r, path.join(ws, 'sub', 'data'), { boundary: ws })).sampleCount,
      1,
      'inside the workspace, the link is followed',
    );
  });

  it('evaluation and thumbnails refuse a sample that became a link out of the dataset after it was registered', async () => {
    const ds = path.join(ws, 'data');
    mkdirSync(path.join(ds, 'cat'), { recursive: true });
    writeFileSync(path.join(ds, 'cat', 'a.png'), png());
    assert.strictEqual(sampleFilePath(ds, 'image-folder', 'cat/a.png'), path.join(ds, 'cat', 'a.png'));
    assert.strictEqual(imagePath(ds, 'cat/a.png'), path.join(ds, 'cat', 'a.png'));
    rmSync(path.join(ds, 'cat', 'a.png'));
    symlinkSync(path.join(secret, 'id_rsa'), path.join(ds, 'cat', 'a.png'));
    assert.throws(() => sampleFilePath(ds, 'image-folder', 'cat/a.png'), /cat\/a\.png: is a link to .*id_rsa, outside/);
    assert.strictEqual(imagePath(ds, 'cat/a.png'), undefined);
  });
});

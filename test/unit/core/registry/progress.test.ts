// What a registry holds of the first-hour loop (the walkthrough's steps tick off by it), on a real
// registry: real imports, a clone, a real fp16 conversion, a CSV dataset and an ONNX evaluation.
import * as assert from 'assert';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { toFp16 } from '../../../../src/core/convert/safetensors';
import { convertVersion } from '../../../../src/core/convert/convert';
import { registerDataset } from '../../../../src/core/datasets/register';
import { evaluateVersion } from '../../../../src/core/evaluate/evaluate';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry, RegistryProgress } from '../../../../src/core/registry/registry';
import { importOnnxModel } from '../../helpers/importModel';
import { onnxModelBytes, safetensorsBytes } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';

describe('registry progress (what the walkthrough ticks off)', function () {
  this.timeout(60_000);
  let work: string;
  let r: Registry;
  beforeEach(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, '.modelreg'));
  });
  afterEach(() => r.close());

  let seed = 0;
  const run = (name: string) => {
    const dir = path.join(work, 'outputs', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'model.safetensors'),
      safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [16], fill: ++seed }]),
    );
    return dir;
  };
  const done = async () =>
    Object.entries(await r.progress())
      .filter(([, v]) => v)
      .map(([k]) => k as keyof RegistryProgress);

  it('an empty registry has done nothing', async () => {
    assert.deepStrictEqual(await done(), []);
  });

  it('ticks off import, a second run, an alias, a conversion, a dataset and an evaluation as they happen', async () => {
    await importTrainingOutput(r, run('lr-01'), { model: 'net' });
    assert.deepStrictEqual(await done(), ['imported']);
    // A clone into the same model is not a second run; a second import is.
    await r.cloneVersion('net@v1', 'net');
    assert.deepStrictEqual(await done(), ['imported']);
    await importTrainingOutput(r, run('lr-05'), { model: 'net' });
    assert.deepStrictEqual(await done(), ['imported', 'secondVersion']);
    await r.setAlias('net@v3', 'production');
    assert.deepStrictEqual(await done(), ['imported', 'secondVersion', 'aliased']);
    await convertVersion(r, 'net@v3', toFp16);
    assert.deepStrictEqual(await done(), ['imported', 'secondVersion', 'aliased', 'converted']);
    await importOnnxModel(r, work, 'mlp', onnxModelBytes({ features: 2, classes: 2, softmax: false }));
    const csv = path.join(work, 'data.csv');
    writeFileSync(csv, 'x1,x2,label\n1,0,a\n0,1,b\n');
    await registerDataset(r, csv, { name: 'd' });
    assert.ok((await done()).includes('datasetRegistered'));
    assert.ok(!(await done()).includes('evaluated'));
    await evaluateVersion(r, 'mlp@v1', { dataset: 'd' });
    assert.deepStrictEqual(await done(), [
      'imported',
      'secondVersion',
      'aliased',
      'converted',
      'datasetRegistered',
      'evaluated',
    ]);
  });

  it('a deleted second version, or a deleted aliased one, no longer counts', async () => {
    await importTrainingOutput(r, run('a'), { model: 'net' });
    await importTrainingOutput(r, run('b'), { model: 'net' });
    await r.setAlias('net@v2', 'staging');
    assert.deepStrictEqual(await done(), ['imported', 'secondVersion', 'aliased']);
    await r.deleteVersion('net@v2', { force: true });
    assert.deepStrictEqual(await done(), ['imported']);
  });
});

// A dataset that changed on disk after registration is not evaluated: files are checked against the
// manifest (size, then SHA-256), and a root that has become a link elsewhere is refused.
import * as assert from 'assert';
import { chmodSync, existsSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { registerDataset } from '../../../../src/core/datasets/register';
import { evaluateVersion } from '../../../../src/core/evaluate/evaluate';
import { checkEvaluatorProfile, evaluateExternally } from '../../../../src/core/evaluate/external';
import { Registry } from '../../../../src/core/registry/registry';
import { channelMeanModelBytes, onnxModelBytes, solidPng } from '../../helpers/makeWeights';
import { importOnnxModel } from '../../helpers/importModel';
import { tempDir } from '../../helpers/tmp';
import { sqlOf } from '../../helpers/sql';

describe('evaluation of a dataset changed since registration', () => {
  let work: string;
  let r: Registry;
  beforeEach(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, '.modelreg'));
  });
  afterEach(() => r.close());

  const importModel = (name: string, onnx: Buffer, config?: unknown) => importOnnxModel(r, work, name, onnx, config);

  const stored = async () => [
    await sqlOf(r).all('SELECT id FROM evaluations'),
    await sqlOf(r).all('SELECT evaluation_id FROM evaluation_samples'),
  ];

  it('a CSV whose labels were swapped (same size) is refused by its SHA-256, naming the file; nothing stored', async () => {
    await importModel('mlp', onnxModelBytes({ features: 2, classes: 2, softmax: false }));
    const csv = path.join(work, 'data.csv');
    writeFileSync(csv, 'x1,x2,label\n1,0,a\n0,1,b\n');
    await registerDataset(r, csv, { name: 'd' });
    writeFileSync(csv, 'x1,x2,label\n1,0,b\n0,1,a\n');
    await assert.rejects(evaluateVersion(r, 'mlp@v1', { dataset: 'd' }), (e: Error) => {
      assert.match(
        e.message,
        /data\.csv: changed since dataset d was registered \(sha256 [0-9a-f]{64}, registered [0-9a-f]{64}\); register it again/,
      );
      return true;
    });
    assert.deepStrictEqual(await stored(), [[], []]);
  });

  it('an external evaluator is not started on a changed dataset', async () => {
    await importModel('mlp', onnxModelBytes({ features: 2, classes: 2, softmax: false }));
    const csv = path.join(work, 'data.csv');
    writeFileSync(csv, 'x1,x2,label\n1,0,a\n0,1,b\n');
    await registerDataset(r, csv, { name: 'd' });
    writeFileSync(csv, 'x1,x2,label\n1,0,b\n0,1,a\n');
    const marker = path.join(work, 'ran');
    const tool = path.join(work, 'fake-eval');
    writeFileSync(tool, `#!/bin/sh\ntouch '${marker}'\n`);
    chmodSync(tool, 0o755);
    const profile = checkEvaluatorProfile({ id: 'fake', tool, args: ['${outputDir}'] }, 'test');
    await assert.rejects(
      evaluateExternally(r, 'mlp@v1', profile, { dataset: 'd' }),
      /data\.csv: changed since dataset d was registered \(sha256 /,
    );
    assert.ok(!existsSync(marker), 'the evaluator ran');
    assert.deepStrictEqual(await stored(), [[], []]);
  });

  it('an image that grew is refused by its size; one of another split is not read', async () => {
    const config = { preprocessing: { size: [4, 4], scale: 1 / 255, mean: 0, std: 1 }, labels: ['red', 'blue'] };
    await importModel('colours', channelMeanModelBytes(), config);
    const root = path.join(work, 'ds');
    for (const d of ['test/red', 'test/blue', 'train/red']) mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(path.join(root, 'test/red/1.png'), solidPng([255, 0, 0]));
    writeFileSync(path.join(root, 'test/blue/1.png'), solidPng([0, 0, 255]));
    writeFileSync(path.join(root, 'train/red/1.png'), solidPng([255, 0, 0]));
    await registerDataset(r, root, { name: 'd' });
    writeFileSync(path.join(root, 'train/red/1.png'), solidPng([0, 0, 255], 8, 8)); // not in the test split
    assert.strictEqual((await evaluateVersion(r, 'colours@v1', { dataset: 'd' })).sampleCount, 2);
    writeFileSync(path.join(root, 'test/red/1.png'), solidPng([0, 0, 255], 8, 8));
    await assert.rejects(
      evaluateVersion(r, 'colours@v1', { dataset: 'd' }),
      /test\/red\/1\.png: changed since dataset d was registered \(\d+ bytes, registered with \d+\); register it again/,
    );
    assert.strictEqual((await sqlOf(r).all('SELECT id FROM evaluations')).length, 1);
  });

  it('an image root replaced by a link (to a copy beside it) is refused, naming the link and its target', async () => {
    const config = { preprocessing: { size: [4, 4], scale: 1 / 255, mean: 0, std: 1 }, labels: ['red', 'blue'] };
    await importModel('colours', channelMeanModelBytes(), config);
    for (const base of ['ds', 'elsewhere']) {
      mkdirSync(path.join(work, base, 'red'), { recursive: true });
      mkdirSync(path.join(work, base, 'blue'), { recursive: true });
      writeFileSync(path.join(work, base, 'red/a.png'), solidPng([255, 0, 0]));
      writeFileSync(path.join(work, base, 'blue/b.png'), solidPng([0, 0, 255]));
    }
    const root = path.join(work, 'ds');
    await registerDataset(r, root, { name: 'd' });
    renameSync(root, path.join(work, 'ds-old'));
    symlinkSync(path.join(work, 'elsewhere'), root);
    // Same bytes elsewhere: only the root's real path tells.
    await assert.rejects(evaluateVersion(r, 'colours@v1', { dataset: 'd' }), (e: Error) => {
      assert.ok(e.message.startsWith(`${root}: is a link to ${path.join(work, 'elsewhere')}`), e.message);
      return true;
    });
    assert.deepStrictEqual(await stored(), [[], []]);
  });

  it('a table file replaced by a link to a file outside its folder is refused', async () => {
    await importModel('mlp', onnxModelBytes({ features: 2, classes: 2, softmax: false }));
    mkdirSync(path.join(work, 'data'));
    const csv = path.join(work, 'data', 'data.csv');
    writeFileSync(csv, 'x1,x2,label\n1,0,a\n0,1,b\n');
    await registerDataset(r, csv, { name: 'd' });
    renameSync(csv, path.join(work, 'moved.csv'));
    symlinkSync(path.join(work, 'moved.csv'), csv);
    await assert.rejects(evaluateVersion(r, 'mlp@v1', { dataset: 'd' }), (e: Error) => {
      assert.ok(e.message.startsWith(`${csv}: is a link to ${path.join(work, 'moved.csv')}`), e.message);
      return true;
    });
    assert.deepStrictEqual(await stored(), [[], []]);
  });
});

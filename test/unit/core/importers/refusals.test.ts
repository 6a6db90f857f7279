// The two questions an import asks before it registers anything: the same files again, and no weights.
import * as assert from 'assert';
import { cpSync, mkdirSync, renameSync, writeFileSync } from 'fs';
import * as path from 'path';
import { DuplicateImportError, NoWeightsError } from '../../../../src/core/errors';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { importWithConfig } from '../../../../src/core/importers/template';
import { ConfigLanguage } from '../../../../src/core/config/language';
import { loadTemplateCatalog } from '../../../../src/core/config/templates';
import { Registry } from '../../../../src/core/registry/registry';
import { safetensorsBytes } from '../../helpers/makeWeights';
import { useSampleRegistry } from '../../helpers/sampleRegistry';
import { tempDir } from '../../helpers/tmp';

async function objectCount(r: Registry): Promise<number> {
  let n = 0;
  for await (const _ of r.store.list()) n++;
  return n;
}

function write(dir: string, files: Record<string, string | Buffer>): string {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

describe('import refusals', () => {
  let ws: string;
  let r: Registry;
  useSampleRegistry((w, reg) => {
    ws = w;
    r = reg;
  });

  describe('refuseDuplicate', () => {
    it('refuses the same files again, naming the version that holds them, and registers nothing', async () => {
      const out = path.join(ws, 'outputs', 'run1');
      const v1 = await importTrainingOutput(r, out, { refuseDuplicate: true });
      const objects = await objectCount(r);
      await assert.rejects(
        importTrainingOutput(r, out, { refuseDuplicate: true }),
        (e: unknown) =>
          e instanceof DuplicateImportError &&
          e.existing.ref === 'run1@v1' &&
          e.existing.id === v1.id &&
          /same files as run1@v1/.test(e.message),
      );
      assert.deepStrictEqual(
        (await r.listVersions('run1', { includeArchived: true })).map((v) => v.ref),
        ['run1@v1'],
        'no v2, and no importing row left behind',
      );
      assert.strictEqual(await objectCount(r), objects, 'nothing new in the store');
      // Without the refusal a copy is made, as before; the check then names the first of the two.
      assert.strictEqual((await importTrainingOutput(r, out)).ref, 'run1@v2');
      await assert.rejects(
        importTrainingOutput(r, out, { refuseDuplicate: true }),
        (e: unknown) => e instanceof DuplicateImportError && e.existing.ref === 'run1@v1',
      );
    });

    it('imports files that differ in one byte, one name, or that go to another model', async () => {
      const dir = write(tempDir(), {
        'model.safetensors': safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [4, 4] }]),
        'notes.txt': 'lr 0.1\n',
      });
      assert.strictEqual((await importTrainingOutput(r, dir, { model: 'm', refuseDuplicate: true })).ref, 'm@v1');
      writeFileSync(path.join(dir, 'notes.txt'), 'lr 0.2\n'); // same size, other content
      assert.strictEqual((await importTrainingOutput(r, dir, { model: 'm', refuseDuplicate: true })).ref, 'm@v2');
      renameSync(path.join(dir, 'notes.txt'), path.join(dir, 'notez.txt')); // same content, other path
      assert.strictEqual((await importTrainingOutput(r, dir, { model: 'm', refuseDuplicate: true })).ref, 'm@v3');
      assert.strictEqual(
        (await importTrainingOutput(r, dir, { model: 'other', refuseDuplicate: true })).ref,
        'other@v1',
      );
    });

    it('applies to a template import (config.json and all), which goes through the same path', async () => {
      const dir = path.join(tempDir(), 'squeezenet');
      cpSync(path.join(ws, 'models', 'squeezenet'), dir, { recursive: true });
      const language = new ConfigLanguage(await loadTemplateCatalog());
      const opts = { templateId: 'image-classification', refuseDuplicate: true };
      const v1 = await importWithConfig(r, language, dir, opts);
      await assert.rejects(
        importWithConfig(r, language, dir, opts),
        (e: unknown) => e instanceof DuplicateImportError && e.existing.ref === v1.ref,
      );
    });
  });

  describe('refuseNoWeights', () => {
    const cases: [string, Record<string, string>, boolean][] = [
      ['images in class folders', { 'cat/a.png': 'png', 'cat/b.png': 'png', 'dog/c.jpg': 'jpg' }, true],
      [
        'images in split/class folders',
        {
          'train/cat/a.png': 'p',
          'train/dog/b.png': 'p',
          'test/cat/c.jpg': 'j',
          'test/dog/d.jpg': 'j',
          'README.md': '#',
        },
        true,
      ],
      ['a CSV with a label column', { 'data.csv': 'x1,x2,"label"\n1,2,a\n' }, true],
      ['a JSONL whose records have a label', { 'rows.jsonl': '{"text":"hi","label":1}\n' }, true],
      ['inputs.npy and labels.npy', { 'inputs.npy': 'n', 'labels.npy': 'n' }, true],
      ['notes and a metrics CSV without labels', { 'notes.txt': 'x', 'metrics.csv': 'epoch,loss\n1,0.5\n' }, false],
      ['images loose in the folder', { 'a.png': 'png', 'b.png': 'png' }, false],
    ];
    for (const [what, files, dataset] of cases) {
      it(`refuses ${what} (${dataset ? 'looks like' : 'not'} a dataset) and registers nothing`, async () => {
        const dir = write(path.join(tempDir(), 'pngs'), files);
        await assert.rejects(
          importTrainingOutput(r, dir, { refuseNoWeights: true }),
          (e: unknown) =>
            e instanceof NoWeightsError &&
            e.looksLikeDataset === dataset &&
            e.message === `${dir}: no model weights found`,
        );
        assert.deepStrictEqual(await r.listModels(), []);
        assert.strictEqual(await objectCount(r), 0, 'nothing stored');
        const anyway = await importTrainingOutput(r, dir);
        assert.strictEqual(anyway.format, null, 'without the refusal it is imported as before');
      });
    }

    it('a single file with no weights is refused too; an output with weights is not', async () => {
      const dir = write(tempDir(), { 'data.csv': 'a,label\n1,x\n' });
      await assert.rejects(
        importTrainingOutput(r, path.join(dir, 'data.csv'), { refuseNoWeights: true }),
        (e: unknown) => e instanceof NoWeightsError && e.looksLikeDataset,
      );
      const v = await importTrainingOutput(r, path.join(ws, 'outputs', 'run1'), { refuseNoWeights: true });
      assert.strictEqual(v.format, 'safetensors');
    });
  });
});

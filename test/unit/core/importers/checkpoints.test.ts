// A Hugging Face Trainer output with checkpoint-N folders: found, described, and only the final
// weights imported unless the import is told otherwise.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { findCheckpoints, describeCheckpoint } from '../../../../src/core/importers/checkpoints';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { InputError } from '../../../../src/core/errors';
import { walkFiles } from '../../../../src/core/util/walk';
import { writeHfOutput } from '../../helpers/makeHfOutput';
import { tempDir } from '../../helpers/tmp';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('checkpoint folders of a training output', () => {
  let work: string;
  let out: string;
  let r: Registry;
  before(async () => {
    work = tempDir();
    out = path.join(work, 'hf-run');
    await writeHfOutput(out, { checkpoints: [50, 100] });
    r = await Registry.open(path.join(work, '.modelreg'));
  });
  after(() => r.close());

  it('finds each checkpoint-N folder with its step, size and last evaluation from its trainer_state.json', async () => {
    const found = await findCheckpoints(await walkFiles(out));
    assert.deepStrictEqual(
      found.map((c) => [c.name, c.step, c.fileCount]),
      [
        ['checkpoint-50', 50, 6],
        ['checkpoint-100', 100, 6],
      ],
    );
    // Runtimes are bookkeeping, not results.
    assert.deepStrictEqual(Object.keys(found[1].eval), ['eval_accuracy', 'eval_loss']);
    assert.match(describeCheckpoint(found[1]), /^step 100 · eval_accuracy 0\.\d+ · eval_loss 0\.\d+$/);
  });

  it('imports the final weights only by default, and records what it left out', async () => {
    const v = await importTrainingOutput(r, out, { model: 'hf-final' });
    const files = (await r.files(v.id)).map((f) => f.path).sort();
    assert.deepStrictEqual(files, ['config.json', 'model.safetensors', 'trainer_state.json', 'training_args.json']);
    const c = v.details.checkpoints as { included: string; found: { name: string }[] };
    assert.strictEqual(c.included, 'final');
    assert.deepStrictEqual(
      c.found.map((f) => f.name),
      ['checkpoint-50', 'checkpoint-100'],
    );
  });

  it('"all" imports every checkpoint folder too', async () => {
    const v = await importTrainingOutput(r, out, { model: 'hf-all', checkpoints: 'all' });
    const files = (await r.files(v.id)).map((f) => f.path);
    assert.strictEqual(files.length, 4 + 2 * 6);
    assert.ok(files.includes('checkpoint-50/optimizer.pt'), files.join(', '));
    assert.strictEqual((v.details.checkpoints as { included: string }).included, 'all');
    // The version's metrics are the final trainer state's, not a checkpoint's copy.
    const loss = (await r.finalMetrics(v.id)).find((m) => m.key === 'loss');
    assert.strictEqual(loss?.step, 100);
  });

  it("a folder's name imports that checkpoint alone as the version's files", async () => {
    const asked: string[][] = [];
    const v = await importTrainingOutput(r, out, {
      model: 'hf-one',
      checkpoints: async (found) => {
        asked.push(found.map((c) => c.name));
        return 'checkpoint-50';
      },
    });
    assert.deepStrictEqual(asked, [['checkpoint-50', 'checkpoint-100']]);
    const files = await r.files(v.id);
    assert.deepStrictEqual(files.map((f) => f.path).sort(), [
      'config.json',
      'model.safetensors',
      'optimizer.pt',
      'rng_state.pth',
      'scheduler.pt',
      'trainer_state.json',
    ]);
    const weights = files.find((f) => f.path === 'model.safetensors');
    assert.strictEqual(weights?.sha256, sha(path.join(out, 'checkpoint-50', 'model.safetensors')));
    assert.notStrictEqual(weights?.sha256, sha(path.join(out, 'model.safetensors')));
    assert.deepStrictEqual(
      {
        included: (v.details.checkpoints as { included: string }).included,
        folder: (v.details.checkpoints as { folder: string }).folder,
      },
      { included: 'one', folder: 'checkpoint-50' },
    );
    const loss = (await r.finalMetrics(v.id)).find((m) => m.key === 'loss');
    assert.strictEqual(loss?.step, 50, "the checkpoint's own trainer state");
  });

  it('refuses a checkpoint that is not there, and final weights that are not there, naming the folder', async () => {
    await assert.rejects(
      importTrainingOutput(r, out, { model: 'hf-bad', checkpoints: 'checkpoint-7' }),
      (e: unknown) =>
        e instanceof InputError &&
        /no checkpoint folder 'checkpoint-7' \(found: checkpoint-50, checkpoint-100\)/.test(e.message),
    );
    const crashed = path.join(work, 'crashed-run');
    await writeHfOutput(crashed, { checkpoints: [50], final: false });
    await assert.rejects(
      importTrainingOutput(r, crashed, { model: 'hf-crashed' }),
      (e: unknown) =>
        e instanceof InputError &&
        e.file === crashed &&
        /no final weights outside the checkpoint folders \(checkpoint-50\)/.test(e.message),
    );
    assert.strictEqual(await r.getModel('hf-bad'), undefined);
  });

  it('an output without checkpoint folders records nothing about them', async () => {
    const plain = path.join(work, 'plain');
    await writeHfOutput(plain, { checkpoints: [] });
    const v = await importTrainingOutput(r, plain, { model: 'hf-plain' });
    assert.strictEqual(v.details.checkpoints, undefined);
  });
});

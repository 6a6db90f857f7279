// `modelreg import --checkpoints` on a Hugging Face Trainer output, through the real CLI.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { CLI_JS } from '../helpers/paths';
import { writeHfOutput } from '../helpers/makeHfOutput';
import { makeGitRepo, tempDir } from '../helpers/tmp';

function modelreg(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI_JS, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('modelreg import --checkpoints', () => {
  let ws: string;
  before(async () => {
    ws = tempDir();
    makeGitRepo(ws);
    await writeHfOutput(path.join(ws, 'outputs', 'hf-run'), { checkpoints: [50, 100] });
  });
  const files = (ref: string) =>
    (JSON.parse(modelreg(ws, 'show', ref, '--json').out).files as { path: string }[]).map((f) => f.path).sort();

  it('without the flag imports the final weights only and notes what it left out and the flag', () => {
    const r = modelreg(ws, 'import', 'outputs/hf-run', '--model', 'plain', '--json');
    assert.strictEqual(r.code, 0, r.err);
    assert.match(
      r.err,
      /modelreg: note: imported the final weights only; left out 2 checkpoint folders: checkpoint-50 \(step 50 · eval_accuracy [\d.]+ · eval_loss [\d.]+\), checkpoint-100 \(step 100 · [^)]+\)\. --checkpoints all includes them, --checkpoints checkpoint-100 imports that one instead\n/,
    );
    const v = JSON.parse(r.out);
    assert.strictEqual(v.details.checkpoints.included, 'final');
    assert.deepStrictEqual(files('plain@v1'), [
      'config.json',
      'model.safetensors',
      'trainer_state.json',
      'training_args.json',
    ]);
  });

  it('--checkpoints final says nothing more; all and a folder name change what is imported', () => {
    const final = modelreg(ws, 'import', 'outputs/hf-run', '--model', 'final', '--checkpoints', 'final');
    assert.strictEqual(final.code, 0, final.err);
    assert.doesNotMatch(final.err, /note/);

    const all = modelreg(ws, 'import', 'outputs/hf-run', '--model', 'all', '--checkpoints', 'all', '--json');
    assert.strictEqual(all.code, 0, all.err);
    assert.strictEqual(JSON.parse(all.out).details.checkpoints.included, 'all');
    assert.strictEqual(files('all@v1').filter((f) => f.startsWith('checkpoint-')).length, 12);

    const one = modelreg(ws, 'import', 'outputs/hf-run', '--model', 'one', '--checkpoints', 'checkpoint-50', '--json');
    assert.strictEqual(one.code, 0, one.err);
    const c = JSON.parse(one.out).details.checkpoints;
    assert.deepStrictEqual([c.included, c.folder], ['one', 'checkpoint-50']);
    assert.ok(files('one@v1').includes('optimizer.pt'));
  });

  it('a checkpoint that is not there is refused (exit 2) naming the ones found', () => {
    const r = modelreg(ws, 'import', 'outputs/hf-run', '--model', 'bad', '--checkpoints', 'checkpoint-7');
    assert.strictEqual(r.code, 2, r.err);
    assert.match(r.err, /no checkpoint folder 'checkpoint-7' \(found: checkpoint-50, checkpoint-100\)/);
  });
});

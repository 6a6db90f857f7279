// `modelreg import` of files a version already holds, and of a folder with no weights, through the real CLI.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { makeSampleWorkspace } from '../../fixtures/sampleWorkspace';
import { CLI_JS } from '../helpers/paths';
import { tempDir } from '../helpers/tmp';

function modelreg(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI_JS, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('modelreg import: duplicates and outputs without weights', () => {
  let ws: string;
  beforeEach(async () => {
    ws = tempDir();
    await makeSampleWorkspace(ws);
  });
  const refs = (model: string) =>
    JSON.parse(modelreg(ws, 'list', model, '--all', '--json').out).map((v: { ref: string }) => v.ref);

  it('the same files again import nothing, say which version holds them, and exit 0; --allow-duplicate copies', () => {
    assert.strictEqual(modelreg(ws, 'import', 'outputs/run1').code, 0);
    const again = modelreg(ws, 'import', 'outputs/run1');
    assert.strictEqual(again.code, 0, again.err);
    assert.strictEqual(again.out, 'same files as run1@v1: nothing imported (--allow-duplicate imports a copy)\n');
    assert.deepStrictEqual(refs('run1'), ['run1@v1']);

    const json = modelreg(ws, 'import', 'outputs/run1', '--json');
    assert.strictEqual(json.code, 0, json.err);
    const v = JSON.parse(json.out);
    assert.strictEqual(v.duplicateOf, 'run1@v1');
    assert.strictEqual(v.imported, false);
    assert.strictEqual(v.ref, 'run1@v1', 'the version holding the files, in the shape a new one is printed');
    assert.ok(v.files.some((f: { path: string }) => f.path === 'model.safetensors'));

    const copy = modelreg(ws, 'import', 'outputs/run1', '--allow-duplicate');
    assert.strictEqual(copy.code, 0, copy.err);
    assert.match(copy.out, /^Imported run1@v2: safetensors/);
    assert.deepStrictEqual(refs('run1'), ['run1@v2', 'run1@v1']);
  });

  it('a folder with no weights is refused with exit 2; one shaped like a dataset names `dataset add`', () => {
    for (const [rel, content] of [
      ['outputs/pngs/cat/a.png', 'p'],
      ['outputs/pngs/dog/b.png', 'p'],
      ['outputs/notes/notes.txt', 'lr 0.1'],
    ]) {
      mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
      writeFileSync(path.join(ws, rel), content);
    }

    const pngs = modelreg(ws, 'import', 'outputs/pngs');
    assert.strictEqual(pngs.code, 2);
    assert.strictEqual(
      pngs.err,
      'modelreg: outputs/pngs: no model weights found (--allow-no-weights imports it anyway); it looks like a dataset: modelreg dataset add outputs/pngs\n',
    );
    const notes = modelreg(ws, 'import', 'outputs/notes');
    assert.strictEqual(notes.code, 2);
    assert.strictEqual(
      notes.err,
      'modelreg: outputs/notes: no model weights found (--allow-no-weights imports it anyway)\n',
    );
    assert.deepStrictEqual(JSON.parse(modelreg(ws, 'list', '--json').out), []);

    const anyway = modelreg(ws, 'import', 'outputs/notes', '--allow-no-weights');
    assert.strictEqual(anyway.code, 0, anyway.err);
    assert.match(anyway.out, /^Imported notes@v1: no weights found, 1 files/);
  });

  it('the help lists --allow-duplicate and --allow-no-weights', () => {
    const help = modelreg(ws, 'import', '--help').out;
    assert.match(help, /--allow-duplicate +import a copy when a version already holds these files\n/);
    assert.match(help, /--allow-no-weights +import even when no model weights are found in it\n/);
  });
});

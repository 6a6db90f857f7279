// Error toasts lead with the problem: a notification shows about 80 characters before it cuts.
import * as assert from 'assert';
import { InputError, RegistryError } from '../../../src/core/errors';
import { errorText, shortPath } from '../../../src/extension/errorText';

const ws = '/home/user/projects/sample-workspace-with-a-rather-long-name-as-people-have';
const places = { roots: [ws], home: '/home/user' };

describe('error toasts', () => {
  it('an import that fails: the problem first, the path workspace-relative; the log keeps the absolute path', () => {
    const e = new InputError(`${ws}/outputs/empty-run`, 'the folder has no files to import');
    const t = errorText('Could not import outputs/empty-run', e, places);
    assert.strictEqual(t.toast, 'The folder has no files to import — could not import outputs/empty-run');
    assert.strictEqual(
      t.log,
      `Could not import outputs/empty-run: ${ws}/outputs/empty-run: the folder has no files to import`,
    );
  });

  it('the first 80 characters hold the problem, however long the paths', () => {
    const deep = `${ws}/${'nested-folder/'.repeat(12)}config.json`;
    const outside = `/mnt/datasets/${'x'.repeat(200)}/model.onnx`;
    const cases: [string, unknown, string][] = [
      [
        'Could not import outputs/run',
        new InputError(deep, 'not valid JSON (at line 3, column 7); not read'),
        'Not valid JSON (at line 3, column 7); not read',
      ],
      ['Could not import model.onnx', new InputError(outside, 'not an ONNX model'), 'Not an ONNX model'],
      // A message that starts with the file, as Node and some libraries write them.
      ['Could not export resnet@v1', new Error(`${deep}: permission denied`), 'Permission denied'],
      ['Could not find ghost@v1', new RegistryError("no model named 'ghost'"), "No model named 'ghost'"],
    ];
    for (const [action, e, problem] of cases) {
      const { toast } = errorText(action, e, places);
      assert.ok(toast.slice(0, 80).startsWith(problem), `${toast.slice(0, 80)} should start with ${problem}`);
      assert.ok(!toast.includes(ws), toast);
    }
    const nested = errorText('Could not import outputs/run', new InputError(deep, 'not valid JSON'), places).toast;
    assert.strictEqual(
      nested,
      `Not valid JSON (${'nested-folder/'.repeat(12)}config.json) — could not import outputs/run`,
    );
    assert.strictEqual(
      errorText('Could not import model.onnx', new InputError(outside, 'not an ONNX model'), places).toast,
      `Not an ONNX model (${outside}) — could not import model.onnx`,
    );
  });

  it('paths quoted inside the problem are shortened too, only where a path starts', () => {
    const e = new Error(`ENOENT: no such file or directory, open '${ws}/outputs/run/model.onnx' (copy of /srv${ws}/x)`);
    assert.strictEqual(
      errorText('Could not import outputs/run', e, places).toast,
      `ENOENT: no such file or directory, open 'outputs/run/model.onnx' (copy of /srv${ws}/x) — could not import outputs/run`,
    );
    assert.strictEqual(
      errorText('Verification failed', new Error('cannot read /home/user/.cache/x'), places).toast,
      'Cannot read ~/.cache/x — verification failed',
    );
  });

  it('a problem that starts with a name keeps its case', () => {
    const e = new RegistryError("colour-net@v1 expects [batch, 16]; the dataset's images give [batch, 3, 224, 224]");
    assert.strictEqual(
      errorText('Could not evaluate colour-net@v1', e, places).toast,
      "colour-net@v1 expects [batch, 16]; the dataset's images give [batch, 3, 224, 224] — could not evaluate colour-net@v1",
    );
  });

  it('short paths: relative inside a workspace folder (the nearest), ~ under home, else as given', () => {
    const two = { roots: ['/w', '/w/inner'], home: '/home/me' };
    assert.strictEqual(shortPath('/w/a/b.txt', two), 'a/b.txt');
    assert.strictEqual(shortPath('/w/inner/c.txt', two), 'c.txt');
    assert.strictEqual(shortPath('/w', two), 'w');
    assert.strictEqual(shortPath('/w2/c.txt', two), '/w2/c.txt');
    assert.strictEqual(shortPath('/home/me/x/y', two), '~/x/y');
    assert.strictEqual(shortPath('resnet@v2:model.onnx', two), 'resnet@v2:model.onnx');
  });
});

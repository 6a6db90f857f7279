import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { onnxModelBytes } from './helpers/makeWeights';
import { tempDir } from './helpers/tmp';
import { CLI_JS } from './helpers/paths';

const cli = CLI_JS;

function modelreg(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  assert.strictEqual(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** An open VS Code window refreshes its views when `.modelreg/last-change` changes: commands that write must change it. */
describe('CLI commands that write stamp the change', () => {
  it('dataset add and evaluate change .modelreg/last-change', () => {
    const ws = tempDir();
    mkdirSync(path.join(ws, 'out'));
    writeFileSync(path.join(ws, 'out', 'model.onnx'), onnxModelBytes({ features: 2, classes: 2 }));
    writeFileSync(path.join(ws, 'data.csv'), 'x1,x2,label\n1,0,a\n0,1,b\n');
    const stamp = path.join(ws, '.modelreg', 'last-change');
    const read = () => (existsSync(stamp) ? readFileSync(stamp, 'utf8') : '');
    modelreg(ws, 'import', 'out', '--model', 'm');
    let before = read();
    assert.notStrictEqual(before, '', 'import stamps');
    modelreg(ws, 'dataset', 'add', 'data.csv', '--name', 'd');
    assert.notStrictEqual(read(), before, 'dataset add stamps');
    before = read();
    modelreg(ws, 'evaluate', 'm@v1', '--dataset', 'd');
    assert.notStrictEqual(read(), before, 'evaluate stamps');
  });
});

// `modelreg example` through the real CLI: save a request with the answer, list, replay on the same
// version (exit 0) and on one that answers otherwise (exit 1, DIFFERS), rm.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { affineBytes } from '../core/serve/models';
import { CLI_JS } from '../helpers/paths';
import { makeGitRepo, tempDir } from '../helpers/tmp';

describe('modelreg example', function () {
  this.timeout(120_000);
  let ws: string;
  const modelreg = (...args: string[]) => spawnSync(process.execPath, [CLI_JS, ...args], { cwd: ws, encoding: 'utf8' });
  const json = (...args: string[]) => {
    const r = modelreg(...args, '--json');
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    return { code: r.status, out: JSON.parse(r.stdout) };
  };

  before(() => {
    ws = tempDir();
    makeGitRepo(ws);
    for (const [name, b] of [
      ['v1', 0],
      ['v2', 0.5],
    ] as const) {
      mkdirSync(path.join(ws, 'models', name), { recursive: true });
      writeFileSync(path.join(ws, 'models', name, 'model.onnx'), affineBytes([2, 2, 2], [b, b, b]));
      assert.strictEqual(modelreg('import', `models/${name}`, '--model', 'm').status, 0);
    }
    writeFileSync(
      path.join(ws, 'request.json'),
      JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }),
    );
  });

  it('save --json gives the ref, the request and the answer; list shows it', () => {
    const saved = json('example', 'save', 'm@v1', 'smoke', '--request', 'request.json');
    assert.strictEqual(saved.code, 0);
    assert.strictEqual(saved.out.ref, 'm@v1');
    assert.strictEqual(saved.out.name, 'smoke');
    assert.deepStrictEqual(saved.out.response.outputs[0].data, [2, 4, 6]);
    assert.deepStrictEqual(Object.keys(saved.out).sort(), [
      'createdAt',
      'createdBy',
      'name',
      'ref',
      'request',
      'response',
    ]);
    const listed = json('example', 'list', 'm@v1');
    assert.deepStrictEqual(
      listed.out.map((e: { name: string }) => e.name),
      ['smoke'],
    );
    assert.match(modelreg('example', 'list', 'm@v1').stdout, /^smoke\t1 inputs → 1 outputs\t/);
    const again = modelreg('example', 'save', 'm@v1', 'smoke', '--request', 'request.json');
    assert.strictEqual(again.status, 2);
    assert.match(again.stderr, /m@v1 already has an example 'smoke'/);
  });

  it('replay exits 0 when the answers are the same and 1 when they differ, with --json keys', () => {
    const same = json('example', 'replay', 'm@v1');
    assert.strictEqual(same.code, 0);
    assert.deepStrictEqual(Object.keys(same.out).sort(), ['differs', 'examples', 'from', 'on', 'same', 'tolerance']);
    assert.deepStrictEqual([same.out.from, same.out.on, same.out.same, same.out.differs], ['m@v1', 'm@v1', 1, 0]);
    const other = json('example', 'replay', 'm@v1', '--on', 'm@v2');
    assert.strictEqual(other.code, 1);
    assert.deepStrictEqual([other.out.on, other.out.same, other.out.differs], ['m@v2', 0, 1]);
    assert.strictEqual(other.out.examples[0].maxDiff, 0.5);
    const text = modelreg('example', 'replay', 'm@v1', '--on', 'm@v2');
    assert.strictEqual(text.status, 1);
    assert.match(text.stdout, /DIFFERS {2}smoke/);
    assert.match(text.stdout, /0 of 1 examples of m@v1 answer the same on m@v2/);
    assert.strictEqual(modelreg('example', 'replay', 'm@v1', '--on', 'm@v2', '--tolerance', '0.5').status, 0);
  });

  it('bad input: a file that is not a request, a bad tolerance, nothing to replay', () => {
    writeFileSync(path.join(ws, 'bad.json'), '{"inputs": [');
    const bad = modelreg('example', 'save', 'm@v1', 'bad', '--request', 'bad.json');
    assert.strictEqual(bad.status, 2);
    assert.match(bad.stderr, /bad\.json: the request is not valid JSON: Unexpected end/);
    const tol = modelreg('example', 'replay', 'm@v1', '--tolerance', 'lots');
    assert.notStrictEqual(tol.status, 0);
    assert.match(tol.stderr, /--tolerance: expected a number ≥ 0, got 'lots'/);
    const none = modelreg('example', 'replay', 'm@v2');
    assert.strictEqual(none.status, 2);
    assert.match(none.stderr, /m@v2 has no examples to replay/);
  });

  it('rm removes it', () => {
    assert.strictEqual(modelreg('example', 'rm', 'm@v1', 'smoke').status, 0);
    assert.match(modelreg('example', 'list', 'm@v1').stdout, /m@v1 has no examples/);
  });
});

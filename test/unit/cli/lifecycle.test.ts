// The lifecycle commands from a terminal: alias, tag, describe, clone, lineage, search, archive, delete.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { makeSampleWorkspace } from '../../fixtures/sampleWorkspace';
import { git, tempDir } from '../helpers/tmp';
import { CLI_JS } from '../helpers/paths';

const cli = CLI_JS;

describe('modelreg lifecycle commands', () => {
  let ws: string;
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: ws, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const ok = (...args: string[]) => {
    const r = run(...args);
    assert.strictEqual(r.code, 0, `modelreg ${args.join(' ')}: ${r.err}`);
    return r.out;
  };
  const json = (...args: string[]) => JSON.parse(ok(...args, '--json'));

  before(async () => {
    ws = tempDir();
    await makeSampleWorkspace(ws);
    git(ws, 'config', 'user.name', 'Grace Hopper');
    git(ws, 'config', 'user.email', 'grace@example.com');
    ok('import', 'outputs/resnet-cifar', '--model', 'resnet');
    // The same files again, on purpose: two versions to move aliases between.
    ok('import', 'outputs/resnet-cifar', '--model', 'resnet', '--allow-duplicate');
  });

  it('alias set / list / history / rm, and NAME@alias in show', () => {
    assert.match(ok('alias', 'set', 'resnet@v1', 'production'), /resnet@production set to v1/);
    assert.match(ok('alias', 'set', 'resnet@v2', 'production'), /resnet@production moved v1 → v2/);
    assert.strictEqual(json('show', 'resnet@production').number, 2);
    assert.deepStrictEqual(json('alias', 'list', 'resnet'), [{ alias: 'production', number: 2 }]);
    const history = json('alias', 'list', 'resnet', '--history');
    assert.deepStrictEqual(
      history.map((h: { from: number | null; to: number }) => [h.from, h.to]),
      [
        [1, 2],
        [null, 1],
      ],
    );
    assert.strictEqual(history[0].by, 'Grace Hopper <grace@example.com>');
    assert.match(ok('list', 'resnet'), /resnet@v2\tready\t.*@production/);
    ok('alias', 'set', 'resnet@v1', 'staging');
    assert.match(ok('alias', 'rm', 'resnet', 'staging'), /resnet@staging removed from v1/);
    const bad = run('alias', 'set', 'resnet@v1', 'v2');
    assert.strictEqual(bad.code, 2);
    assert.match(bad.err, /invalid alias 'v2'/);
  });

  it('tag and describe models and versions; search finds them', () => {
    assert.deepStrictEqual(json('tag', 'resnet', 'vision', 'cifar'), ['cifar', 'vision']);
    assert.deepStrictEqual(json('tag', 'resnet@v1', 'baseline'), ['baseline']);
    assert.deepStrictEqual(json('tag', 'resnet', '--remove', 'cifar'), ['vision']);
    ok('describe', 'resnet@v1', 'the first run');
    assert.strictEqual(json('show', 'resnet@v1').description, 'the first run');
    assert.deepStrictEqual(
      json('search', 'tag:baseline').map((v: { ref: string }) => v.ref),
      ['resnet@v1'],
    );
    assert.deepStrictEqual(
      json('search', '@production').map((v: { ref: string }) => v.ref),
      ['resnet@v2'],
    );
    const metric = json('show', 'resnet@v1').metrics.find((m: { key: string }) => m.key === 'val_acc');
    assert.ok(metric, 'the sample output logs val_acc');
    assert.strictEqual(json('search', `val_acc>=${metric.value}`, 'resnet').length, 2);
    assert.strictEqual(json('search', `val_acc>${metric.value}`).length, 0);
    assert.match(ok('search', 'nothing-like-this'), /No versions match/);
    const bad = run('search', 'size:3');
    assert.strictEqual(bad.code, 2);
    assert.match(bad.err, /unknown field 'size:'/);
  });

  it('clone and lineage', () => {
    assert.match(
      ok('clone', 'resnet@production', 'resnet-edge'),
      /Cloned resnet@v2 to resnet-edge@v1 .*no bytes copied/,
    );
    const lineage = ok('lineage', 'resnet-edge@v1');
    assert.match(lineage, /^resnet@v2 .*\n {2}└─ clone: resnet-edge@v1 {2}◀/m);
    assert.deepStrictEqual(json('lineage', 'resnet@v2').edges.length, 1);
  });

  it('archive (and undo), delete refused while aliased, then forced; gc frees it', () => {
    ok('archive', 'resnet@v1');
    assert.deepStrictEqual(
      json('list', 'resnet').map((v: { number: number }) => v.number),
      [2],
    );
    assert.deepStrictEqual(
      json('list', 'resnet', '--all').map((v: { number: number }) => v.number),
      [2, 1],
    );
    assert.match(ok('archive', 'resnet@v1', '--undo'), /Unarchived resnet@v1/);
    const refused = run('delete', 'resnet@v2');
    assert.strictEqual(refused.code, 2);
    assert.match(refused.err, /resnet@v2 is production: move the alias first/);
    assert.match(ok('delete', 'resnet@v2', '--force'), /Deleted resnet@v2 \(removed alias production\)/);
    assert.deepStrictEqual(
      json('list', 'resnet').map((v: { number: number }) => v.number),
      [1],
    );
    assert.match(ok('gc'), /, 1 deleted or unfinished versions/);
    ok('import', 'outputs/resnet-cifar', '--model', 'resnet', '--allow-duplicate');
    assert.deepStrictEqual(
      json('list', 'resnet').map((v: { number: number }) => v.number),
      [3, 1],
      'v2 is not reused',
    );
  });

  it('export to a .tar and import-archive into another registry, with --json', () => {
    const exported = json('export', 'resnet@v1', 'resnet-v1.tar');
    assert.strictEqual(exported.ref, 'resnet@v1');
    const v = json('--registry', 'team', 'import-archive', 'resnet-v1.tar', '--model', 'resnet-shared');
    assert.strictEqual(v.ref, 'resnet-shared@v1');
    assert.strictEqual(v.git.commit, json('show', 'resnet@v1').git.commit);
    assert.match(ok('--registry', 'team', 'verify'), /all intact/);
    const bad = run('import-archive', 'no-such.tar');
    assert.strictEqual(bad.code, 2);
    assert.match(bad.err, /no-such\.tar: no such file or folder/);
  });

  it('converters lists what applies; convert --to onnx-fp16 makes a derived version; bad ids and params exit 2', () => {
    const list = json('converters', 'resnet@v1');
    // The sample output's weights are ONNX: the ONNX converters and the ONNX tool profiles apply.
    const ids = list.map((c: { id: string }) => c.id);
    assert.ok(ids.includes('onnx-fp16') && ids.includes('atc') && !ids.includes('fp16'), ids.join(' '));
    assert.strictEqual(list.find((c: { id: string }) => c.id === 'atc').available, false);
    const v = json('convert', 'resnet@v1', '--to', 'onnx-fp16', '--param', 'keep_io_types=false');
    assert.strictEqual(v.parentKind, 'conversion');
    assert.deepStrictEqual(v.details.conversion.params, { keep_io_types: 'false', inputs: '', verify: 'check' });
    assert.ok(v.details.conversion.sizeAfter < v.details.conversion.sizeBefore);
    assert.match(ok('lineage', v.ref), /└─ conversion: resnet@v\d+/);
    const bad = run('convert', 'resnet@v1', '--to', 'nope');
    assert.strictEqual(bad.code, 2);
    assert.match(bad.err, /no converter or profile 'nope'/);
    assert.match(run('convert', 'resnet@v1', '--to', 'fp16', '--param', 'x').err, /--param x: write it as NAME=VALUE/);
  });
});

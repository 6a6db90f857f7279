// How a command's targets are worked out from what it was called with (plain Node: targets.ts does not import vscode).
import * as assert from 'assert';
import type { ModelSummary, VersionRecord } from '../../../../src/core';
import {
  askScope,
  modelOf,
  nodeOf,
  refOf,
  resolveTargets,
  versionChoices,
  versionOf,
} from '../../../../src/extension/registry/targets';
import type { TreeNode } from '../../../../src/extension/registry/treeNodes';

const v = (n: number, model = 'resnet') => ({ id: n, model, number: n, ref: `${model}@v${n}` }) as VersionRecord;
const row = (n: number, registry: 'local' | 'team' = 'local'): TreeNode => ({
  kind: 'version',
  version: v(n),
  registry,
});
const local = (selection: TreeNode[] = [], many = false) => ({ registry: 'local' as const, selection, many });

describe('command targets', () => {
  it('a clicked row is the target; the selection passed with it counts only for commands on many', () => {
    const [a, b] = [row(1), row(2)];
    assert.deepStrictEqual(resolveTargets([a, [a, b]], local()), [{ registry: 'local', node: a }]);
    assert.deepStrictEqual(resolveTargets([a, [a, b]], local([], true)), [
      { registry: 'local', node: a },
      { registry: 'local', node: b },
    ]);
    assert.deepStrictEqual(resolveTargets([a, [a]], local([], true)), [{ registry: 'local', node: a }]);
  });

  it("a command's own second argument (an alias name, options) is not taken for the selection", () => {
    assert.deepStrictEqual(resolveTargets([row(1), 'production'], local([], true)), [
      { registry: 'local', node: row(1) },
    ]);
    assert.deepStrictEqual(resolveTargets([row(1), { to: 'onnx' }], local()), [{ registry: 'local', node: row(1) }]);
  });

  it('rows passed after an empty first argument (Compare with Parent)', () => {
    assert.deepStrictEqual(resolveTargets([undefined, [row(1), row(2)]], local([row(9)], true)).length, 2);
    assert.deepStrictEqual(resolveTargets([undefined, [row(1), row(2)]], local([row(9)])), [
      { registry: 'local', node: row(9) },
    ]);
  });

  it('a row knows its registry: a team row stays the team registry whatever the command defaults to', () => {
    assert.deepStrictEqual(resolveTargets([row(1, 'team')], local()), [{ registry: 'team', node: row(1, 'team') }]);
    const handMade = { kind: 'version', version: v(1) };
    assert.deepStrictEqual(resolveTargets([handMade], { registry: 'team', selection: [] }), [
      { registry: 'team', node: handMade },
    ]);
  });

  it('a reference, bare or as { ref } (panels, executeCommand), in the invocation registry unless it names one', () => {
    assert.deepStrictEqual(resolveTargets(['resnet@v2'], local()), [{ registry: 'local', ref: 'resnet@v2' }]);
    assert.deepStrictEqual(resolveTargets([' resnet@production '], { registry: 'team', selection: [] }), [
      { registry: 'team', ref: 'resnet@production' },
    ]);
    assert.deepStrictEqual(resolveTargets([{ ref: 'resnet@v2' }], local()), [{ registry: 'local', ref: 'resnet@v2' }]);
    assert.deepStrictEqual(resolveTargets([{ ref: 'resnet@v2', registry: 'team' }], local()), [
      { registry: 'team', ref: 'resnet@v2' },
    ]);
    assert.deepStrictEqual(resolveTargets([''], local([row(1)])), []);
  });

  it('nothing: the selection (its first row, or all of it for commands on many)', () => {
    const sel = [row(1), row(2)];
    assert.deepStrictEqual(resolveTargets([], local(sel)), [{ registry: 'local', node: sel[0] }]);
    assert.deepStrictEqual(resolveTargets([], local(sel, true)).length, 2);
    assert.deepStrictEqual(resolveTargets([], local()), []);
  });

  it('something else (an Explorer URI, a number) is no target', () => {
    assert.deepStrictEqual(resolveTargets([{ scheme: 'file', path: '/x' }], local([row(1)])), []);
    assert.deepStrictEqual(resolveTargets([3], local([row(1)])), []);
    assert.deepStrictEqual(resolveTargets([{ kind: 'dataset' }], local([row(1)])), []);
  });

  it('what a target names: its version, reference, model, or row of a kind', () => {
    const version = v(3);
    const file: TreeNode = {
      kind: 'file',
      file: { path: 'w.onnx', sha256: 'f', size: 1, role: 'weights' },
      version,
      registry: 'local',
    };
    const model: TreeNode = { kind: 'model', model: { name: 'vit' } as ModelSummary, registry: 'local' };
    const t = (node: TreeNode) => ({ registry: 'local' as const, node });
    const three = row(3);
    assert.strictEqual(versionOf(t(three)), (three as { version: VersionRecord }).version);
    assert.strictEqual(versionOf(t(file)), undefined, 'a file row is not a version row');
    assert.strictEqual(versionOf(t(file), { under: true }), version, 'but it is under one');
    assert.strictEqual(refOf({ registry: 'local', ref: 'resnet@production' }), 'resnet@production');
    assert.strictEqual(refOf(t(file), { under: true }), 'resnet@v3');
    assert.strictEqual(modelOf(t(model)), 'vit');
    assert.strictEqual(modelOf(t(file)), 'resnet');
    assert.strictEqual(modelOf({ registry: 'local', ref: 'bert@staging' }), 'bert');
    assert.strictEqual(nodeOf(t(file), 'file'), file);
    assert.strictEqual(nodeOf(t(model), 'file'), undefined);
    assert.strictEqual(nodeOf({ registry: 'local', ref: 'x@v1' }, 'more'), undefined);
  });

  it('asks which version only when the call named nothing and the selection gives no version', () => {
    const model: TreeNode = { kind: 'model', model: { name: 'resnet' } as ModelSummary, registry: 'local' };
    const files: TreeNode = { kind: 'group', group: 'files', version: v(3), registry: 'local' };
    assert.deepStrictEqual(askScope([], undefined), { model: undefined }, 'palette, nothing selected');
    assert.deepStrictEqual(askScope([undefined, 'production'], undefined), { model: undefined }, 'own input only');
    assert.deepStrictEqual(askScope([], { registry: 'local', node: model }), { model: 'resnet' }, 'a model row');
    assert.deepStrictEqual(askScope([], { registry: 'local', node: files }), { model: 'resnet' });
    assert.strictEqual(askScope([], { registry: 'local', node: files }, { under: true }), undefined);
    assert.strictEqual(askScope([], { registry: 'local', node: row(2) }), undefined, 'a selected version');
    assert.strictEqual(askScope([row(2)], { registry: 'local', node: row(2) }), undefined, 'a clicked row');
    assert.strictEqual(askScope(['resnet@v2'], { registry: 'local', ref: 'resnet@v2' }), undefined);
    assert.strictEqual(askScope([{ scheme: 'file' }], undefined), undefined, 'an Explorer URI');
  });

  it('offers the versions most recent first, as model@vN with aliases, format and size', () => {
    const rec = (n: number, model: string, createdAt: string, more: Partial<VersionRecord> = {}) =>
      ({ ...v(n, model), createdAt, aliases: [], format: 'onnx', sizeBytes: 3000, ...more }) as VersionRecord;
    const items = versionChoices([
      rec(1, 'resnet', '2026-01-01T10:00:00Z', { aliases: ['production', 'staging'] }),
      rec(1, 'bert', '2026-01-03T10:00:00Z', { format: null, sizeBytes: 10 }),
      rec(2, 'resnet', '2026-01-02T10:00:00Z', { format: 'safetensors' }),
    ]);
    assert.deepStrictEqual(
      items.map((i) => [i.label, i.description]),
      [
        ['bert@v1', '10 B'],
        ['resnet@v2', 'safetensors · 2.93 KiB'],
        ['resnet@v1', '@production @staging · onnx · 2.93 KiB'],
      ],
    );
    assert.strictEqual(items[0].version.model, 'bert');
  });
});

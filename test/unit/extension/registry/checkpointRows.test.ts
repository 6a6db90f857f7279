// The rows under a version's Files when its import found checkpoint-N folders (plain Node).
import * as assert from 'assert';
import type { CheckpointFolder, CheckpointRecord, FileEntry, VersionRecord } from '../../../../src/core';
import { checkpointFileRows, fileRows } from '../../../../src/extension/registry/checkpointRows';
import { treeItemOf } from '../../../../src/extension/registry/treeItems';
import type { NodeData } from '../../../../src/extension/registry/treeNodes';

const folder = (step: number): CheckpointFolder => ({
  name: `checkpoint-${step}`,
  step,
  fileCount: 2,
  bytes: 2048,
  eval: { eval_loss: 0.41234, eval_runtime_is_not_here: 1 },
});
const found = [folder(50), folder(100)];
const file = (p: string): FileEntry => ({ path: p, sha256: 'ab'.repeat(32), size: 1024, role: 'other' });
const version = (checkpoints?: CheckpointRecord): VersionRecord =>
  ({ id: 7, ref: 'bert@v2', details: checkpoints ? { checkpoints } : {} }) as unknown as VersionRecord;
const local = (n: NodeData) => treeItemOf({ ...n, registry: 'local' });
const shown = (rows: NodeData[]) => rows.map((n) => [local(n).label, local(n).description ?? '']);

describe('checkpoint rows under Files', () => {
  it('without checkpoints: the files, as before', () => {
    const rows = fileRows(version(), [file('model.safetensors'), file('config.json')]);
    assert.deepStrictEqual(
      rows.map((n) => n.kind),
      ['file', 'file'],
    );
  });

  it('final weights only: the files, then each checkpoint folder as left out, with its step and eval metric', () => {
    const rows = fileRows(version({ included: 'final', found }), [file('model.safetensors')]);
    assert.deepStrictEqual(shown(rows).slice(1), [
      ['checkpoint-50', 'step 50 · eval_loss 0.4123 · eval_runtime_is_not_here 1 · not imported'],
      ['checkpoint-100', 'step 100 · eval_loss 0.4123 · eval_runtime_is_not_here 1 · not imported'],
    ]);
    const item = local(rows[1]);
    assert.deepStrictEqual(item.icon, { id: 'history', color: 'disabledForeground' });
    assert.strictEqual(item.collapsible, false);
    assert.match(String(item.tooltip), /left out of bert@v2: the import took the final weights only/);
  });

  it('all: the checkpoint folders hold their files, listed by their own names', () => {
    const files = [
      file('checkpoint-50/model.safetensors'),
      file('checkpoint-50/optimizer.pt'),
      file('checkpoint-100/model.safetensors'),
      file('model.safetensors'),
    ];
    const v = version({ included: 'all', found });
    const rows = fileRows(v, files);
    assert.deepStrictEqual(
      shown(rows).map(([label]) => label),
      ['model.safetensors', 'checkpoint-50', 'checkpoint-100'],
    );
    assert.strictEqual(local(rows[1]).collapsible, true);
    assert.deepStrictEqual(local(rows[1]).icon, { id: 'history', color: undefined });
    assert.match(String(local(rows[1]).description), / · 2 files$/);
    const inside = checkpointFileRows(v, files, 'checkpoint-50');
    assert.deepStrictEqual(
      inside.map((n) => [local(n).label, local(n).id]),
      [
        ['model.safetensors', 'version/7/files/checkpoint-50/model.safetensors'],
        ['optimizer.pt', 'version/7/files/checkpoint-50/optimizer.pt'],
      ],
    );
  });

  it("one checkpoint: it heads the list as the version's files; the others are left out", () => {
    const rows = fileRows(version({ included: 'one', folder: 'checkpoint-50', found }), [
      file('model.safetensors'),
      file('optimizer.pt'),
    ]);
    assert.deepStrictEqual(
      shown(rows).map(([label, d]) => `${label}: ${d.replace(/ · eval.*? 1/, '')}`),
      [
        "checkpoint-50: step 50 · the version's files",
        'model.safetensors: 1.00 KiB · abababababab',
        'optimizer.pt: 1.00 KiB · abababababab',
        'checkpoint-100: step 100 · not imported',
      ],
    );
  });
});

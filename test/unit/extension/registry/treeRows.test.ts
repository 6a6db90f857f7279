// What the Models tree shows for versions a real import (and conversion) registered: rows from a real
// registry, children as treeChildren.ts lists them, items as treeItems.ts draws them (no 'vscode').
import * as assert from 'assert';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import type { VersionRecord } from '../../../../src/core';
import { groupChildren, versionChildren } from '../../../../src/extension/registry/treeChildren';
import { escapeMarkdown } from '../../../../src/extension/registry/tooltips';
import { treeItemOf } from '../../../../src/extension/registry/treeItems';
import type { NodeData, TreeNode } from '../../../../src/extension/registry/treeNodes';
import { writeParamsFile } from '../../helpers/makeLogs';
import { onnxModelBytes } from '../../helpers/makeWeights';
import { makeGitRepo, tempDir } from '../../helpers/tmp';

const local = (n: NodeData): TreeNode => ({ ...n, registry: 'local' });
const HOUR = 3600_000;

describe('Models tree rows of real imports', function () {
  this.timeout(60_000);
  let r: Registry;
  let v1: VersionRecord;
  let bare: VersionRecord;
  const tz = process.env.TZ;

  before(async () => {
    process.env.TZ = 'Asia/Kolkata'; // +05:30: the local time is visibly not the stored UTC one
    const work = tempDir();
    const out = path.join(work, 'outputs', 'resnet');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'model.onnx'), onnxModelBytes({ features: 16, classes: 4 }));
    await writeParamsFile(path.join(out, 'hparams.yaml'), { lr: 0.05, batch_size: 32, optimizer: { name: 'sgd' } });
    makeGitRepo(work, { 'train.py': 'print(1)\n' });
    r = await Registry.open(path.join(work, '.modelreg'));
    v1 = await importTrainingOutput(r, out, { model: 'resnet' });
    const plain = path.join(work, 'outputs', 'plain');
    mkdirSync(plain, { recursive: true });
    writeFileSync(path.join(plain, 'model.onnx'), onnxModelBytes({ features: 8, classes: 2 }));
    bare = await importTrainingOutput(r, plain, { model: 'plain' });
  });
  after(async () => {
    await r.close();
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });

  const children = async (n: NodeData): Promise<TreeNode[]> =>
    (n.kind === 'version' ? await versionChildren(r, n) : n.kind === 'group' ? await groupChildren(r, n) : []).map(
      local,
    );
  const group = async (v: VersionRecord, g: string) => {
    const found = (await children({ kind: 'version', version: v })).find((c) => c.kind === 'group' && c.group === g);
    assert.ok(found, `${v.ref} has a ${g} group`);
    return found;
  };

  it('times read "3 hours ago", with the exact local time on hover, not raw UTC', async () => {
    const now = Date.parse(v1.createdAt) + 3 * HOUR + 60_000;
    const localTime = (iso: string) => {
      const d = new Date(iso);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    };
    const facts = await children(await group(v1, 'source'));
    const items = facts.map((f) => treeItemOf(f, undefined, now));
    const imported = items.find((i) => i.label === 'imported');
    assert.ok(imported, items.map((i) => i.label).join(', '));
    assert.strictEqual(imported.description, '3 hours ago');
    assert.strictEqual(imported.tooltip, `imported: ${localTime(v1.createdAt)}`);
    const author = items.find((i) => i.label === 'author')!;
    assert.strictEqual(author.description, 'Test Author <author@example.com> · 3 hours ago');
    const row = treeItemOf(local({ kind: 'version', version: v1 }), undefined, now);
    const tip = typeof row.tooltip === 'object' ? row.tooltip.markdown : '';
    assert.ok(tip.includes(`- imported: ${escapeMarkdown(`3 hours ago (${localTime(v1.createdAt)})`)}`), tip);
    assert.ok(!tip.includes(escapeMarkdown(v1.createdAt)), 'no raw ISO time');
  });

  it('a Parameters node lists the hyperparameters, with the file they came from; none without any', async () => {
    const groups = (await children({ kind: 'version', version: v1 })).map((n) => treeItemOf(n).label);
    assert.deepStrictEqual(groups, ['Files', 'Metrics', 'Parameters', 'Source']);
    const params = await group(v1, 'parameters');
    const g = treeItemOf(params);
    assert.deepStrictEqual([g.description, g.icon], ['hparams.yaml', { id: 'symbol-parameter' }]);
    const rows = (await children(params)).map((n) => treeItemOf(n));
    assert.deepStrictEqual(
      rows.map((i) => [i.label, i.description, i.tooltip]),
      [
        ['lr', '0.05', 'lr = 0.05\nfrom hparams.yaml'],
        ['batch_size', '32', 'batch_size = 32\nfrom hparams.yaml'],
        ['optimizer.name', 'sgd', 'optimizer.name = sgd\nfrom hparams.yaml'],
      ],
    );
    assert.strictEqual(new Set((await children(params)).map((n) => treeItemOf(n).id)).size, 3, 'unique ids');
    const plain = (await children({ kind: 'version', version: bare })).map((n) => treeItemOf(n).label);
    assert.deepStrictEqual(plain, ['Files', 'Metrics', 'Source']);
  });
});

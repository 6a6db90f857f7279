// What the Models tree shows for versions a real import (and conversion) registered: rows from a real
// registry, children as treeChildren.ts lists them, items as treeItems.ts draws them (no 'vscode').
import * as assert from 'assert';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { convertVersion } from '../../../../src/core/convert/convert';
import { onnxFp16 } from '../../../../src/core/convert/onnx';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { lineageSvg } from '../../../../src/shared/lineage/lineageSvg';
import { Registry } from '../../../../src/core/registry/registry';
import type { VersionRecord } from '../../../../src/core';
import { formatMetric } from '../../../../src/shared/format';
import { COMMANDS } from '../../../../src/extension/commands/commandIds';
import { groupChildren, versionChildren } from '../../../../src/extension/registry/treeChildren';
import { escapeMarkdown } from '../../../../src/extension/registry/tooltips';
import { treeItemOf } from '../../../../src/extension/registry/treeItems';
import type { NodeData, TreeNode } from '../../../../src/extension/registry/treeNodes';
import { writeLightningCsv, writeParamsFile } from '../../helpers/makeLogs';
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
    await writeLightningCsv(path.join(out, 'metrics.csv'));
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

  it('tags join the row after the size; the description is the first row under the version', async () => {
    await r.setVersionTags('plain@v1', ['cifar', 'baseline']);
    await r.setVersionDescription('plain@v1', 'Trained on three GPUs\nwith mixed precision');
    const v = await r.resolve('plain@v1');
    const row = treeItemOf(local({ kind: 'version', version: v }));
    assert.match(String(row.description), /^onnx · fp32 · \d+ B · #baseline · #cifar · [0-9a-f]{7}$/);
    const [first, ...rest] = (await children({ kind: 'version', version: v })).map((n) => treeItemOf(n));
    assert.deepStrictEqual(
      [first.label, first.tooltip, first.icon],
      ['Trained on three GPUs', 'Trained on three GPUs\nwith mixed precision', { id: 'note' }],
    );
    assert.deepStrictEqual(
      rest.map((i) => i.label),
      ['Files', 'Metrics', 'Source'],
    );
  });

  describe('a converted version', () => {
    let v2: VersionRecord;
    before(async () => {
      v2 = await convertVersion(r, 'resnet@v1', onnxFp16, { params: { keep_io_types: 'false' } });
      v1 = await r.resolve('resnet@v1');
    });
    const row = (v: VersionRecord) => treeItemOf(local({ kind: 'version', version: v }));
    const short = (v: VersionRecord) => v.git!.commit.slice(0, 7);
    const size = (v: VersionRecord) => {
      const kib = v.sizeBytes / 1024;
      return kib < 1 ? `${v.sizeBytes} B` : `${kib.toFixed(kib < 10 ? 2 : 1)} KiB`;
    };

    it('its row says format · dtype · size, where its parent says fp32', () => {
      assert.strictEqual(row(v2).description, `onnx · fp16 · ${size(v2)} · ${short(v2)}`);
      assert.strictEqual(row(v1).description, `onnx · fp32 · ${size(v1)} · ${short(v1)}`);
      const tip = row(v2).tooltip as { markdown: string };
      assert.match(
        tip.markdown,
        /- format: onnx \(onnx\), fp16\n- converted from resnet\\@v1 by onnx\\-fp16 \(ONNX to float16\)\n/,
      );
      assert.match(tip.markdown, /- model\\\.onnx: max abs error \d\S* · relative \d\S* · \d+ input sets?\n/);
    });

    it('a Conversion node holds the converter, parent, parameters, sizes and the check', async () => {
      const groups = (await children({ kind: 'version', version: v2 })).map((n) => treeItemOf(n).label);
      assert.deepStrictEqual(groups, ['Conversion', 'Files', 'Metrics', 'Parameters', 'Source', 'Lineage']);
      const conversion = await group(v2, 'conversion');
      const report = (v2.details.conversion as { files: Record<string, { maxAbsError: number; maxRelError: number }> })
        .files['model.onnx'];
      const g = treeItemOf(conversion);
      assert.strictEqual(
        g.description,
        `onnx-fp16 · max abs error ${formatMetric(report.maxAbsError)} · relative ${formatMetric(report.maxRelError)}`,
      );
      const rows = (await children(conversion)).map((n) => treeItemOf(n));
      assert.deepStrictEqual(
        rows.map((i) => i.label),
        ['converter', 'from', 'parameters', 'size', 'model.onnx', 'converted'],
      );
      const by = Object.fromEntries(rows.map((i) => [i.label, i]));
      assert.strictEqual(by.converter.description, 'onnx-fp16 (ONNX to float16)');
      assert.strictEqual(by.from.description, 'resnet@v1');
      assert.deepStrictEqual(
        by.from.command && 'id' in by.from.command && [by.from.command.id, by.from.command.arguments],
        [COMMANDS.revealVersion, ['resnet@v1']],
        'a click reveals the parent',
      );
      assert.strictEqual(by.parameters.description, 'keep_io_types=false, verify=check');
      assert.match(String(by.size.description), /^\d+ B → \d+ B$/);
      assert.match(String(by['model.onnx'].description), /^max abs error \S+ · relative \S+ · \d+ input sets?$/);
      assert.match(String(by['model.onnx'].tooltip), /^model\.onnx\ntensorsConverted: 2\n[^]*maxAbsError: /);
      assert.strictEqual(by.converted.description, 'just now');
      // Its parent has no Conversion node.
      assert.ok(
        !(await children({ kind: 'version', version: v1 })).some((n) => n.kind === 'group' && n.group === 'conversion'),
      );
    });

    it('Lineage reads "from resnet@v1 (conversion: onnx-fp16)"; Metrics shows the parent\'s, said to be', async () => {
      const lineage = await group(v2, 'lineage');
      assert.strictEqual(treeItemOf(lineage).description, 'from resnet@v1 (conversion: onnx-fp16)');
      const [parent] = (await children(lineage)).map((n) => treeItemOf(n));
      assert.strictEqual(parent.label, 'resnet@v1');
      assert.strictEqual(parent.description, `made from it (conversion: onnx-fp16) · ${short(v1)}`);
      const down = (await children(await group(v1, 'lineage'))).map((n) => treeItemOf(n));
      assert.deepStrictEqual(
        down.map((i) => [i.label, i.description]),
        [['resnet@v2', `made from this (conversion: onnx-fp16) · ${short(v2)}`]],
      );
      const metrics = (await children(await group(v2, 'metrics'))).map((n) => treeItemOf(n));
      assert.strictEqual(metrics[0].label, 'Metrics of the parent resnet@v1 (conversion)');
      assert.deepStrictEqual(
        metrics
          .slice(1)
          .map((i) => i.label)
          .sort(),
        ['train_loss', 'val_acc', 'val_loss'],
      );
    });

    it('the lineage graph labels the edge with the converter and each node with format, dtype and size', async () => {
      const l = await r.lineage('resnet@v2');
      assert.deepStrictEqual(
        l.nodes.map((n) => [n.ref, n.dtype, n.sizeBytes, n.converter]),
        [
          ['resnet@v2', 'fp16', v2.sizeBytes, 'onnx-fp16'],
          ['resnet@v1', 'fp32', v1.sizeBytes, null],
        ],
      );
      assert.deepStrictEqual(l.edges, [{ from: v1.id, to: v2.id, kind: 'conversion', converter: 'onnx-fp16' }]);
      const svg = lineageSvg(l);
      assert.match(svg, /<title>conversion: onnx-fp16<\/title>onnx-fp16<\/text>/);
      assert.ok(svg.includes(`>onnx · fp16 · ${size(v2)} · ${short(v2)}</text>`), svg);
    });
  });
});

// The compare panel inside the real extension host: command → comparison built → posted to the page.
import * as assert from 'assert';
import { spawn } from 'child_process';
import { mkdtempSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ComparisonModel } from '../../src/shared/compare/contract';
import type { VersionRecord } from '../../src/core';
import type { ComparePanel } from '../../src/extension/compare/comparePanel';
import type { TreeNode } from '../../src/extension/registry/treeNodes';
import { api, eventually } from './helpers';

async function importOutput(name: string): Promise<VersionRecord> {
  const uri = vscode.Uri.file(path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'outputs', name));
  // The same output again is a copy on purpose (versions to compare): answer "same files as …" with Import a Copy,
  // and "which model?" (asked once models exist) with the folder's own name.
  return (await vscode.commands.executeCommand('modelRegistry.importOutput', uri, undefined, {
    model: name,
    answer: 'Import a Copy',
  })) as VersionRecord;
}

/** Waits until the panel has posted a comparison satisfying `ok` (the page must have said ready). */
async function posted(panel: ComparePanel, ok: (m: ComparisonModel) => boolean, ms = 20000): Promise<ComparisonModel> {
  return eventually(
    () => {
      if (panel.lastPosted && ok(panel.lastPosted)) return panel.lastPosted;
      throw new Error(
        `the panel did not post the expected comparison within ${ms} ms; last: ${JSON.stringify(panel.lastPosted?.versions.map((v) => v.ref))}`,
      );
    },
    { timeout: ms },
  );
}

/** Compare on resnet-cifar's two newest versions, once the panel has posted them. */
async function compareFirstTwo(): Promise<ComparePanel> {
  const registry = await (await api()).service.get();
  const versions = (await registry.listVersions('resnet-cifar')).slice(0, 2);
  const panel = (await vscode.commands.executeCommand(
    'modelRegistry.compareVersions',
    undefined,
    versions.map((version) => ({ kind: 'version', version })),
  )) as ComparePanel;
  await posted(panel, (m) => m.versions.length === 2);
  return panel;
}

describe('Compare panel', () => {
  it('compares two versions selected in the tree and posts the comparison to the page', async () => {
    const a = await api();
    const v1 = await importOutput('resnet-cifar');
    const v2 = await importOutput('resnet-cifar');
    const node = (version: VersionRecord): TreeNode => ({ kind: 'version', version, registry: 'local' });
    const panel = (await vscode.commands.executeCommand('modelRegistry.compareVersions', node(v1), [
      node(v1),
      node(v2),
    ])) as ComparePanel;
    assert.ok(panel, 'the command returned the panel');
    const model = await posted(panel, (m) => m.versions.length === 2);
    assert.deepStrictEqual(
      model.versions.map((v) => v.ref),
      [v1.ref, v2.ref],
    );
    assert.ok(model.versions.every((v) => v.git?.commit.length === 40));
    const registry = await a.service.get();
    for (const key of ['val_acc', 'val_loss', 'train/loss']) {
      const row = model.metrics.find((m) => m.key === key);
      assert.ok(row, `metric ${key} in the table`);
      const finals = await Promise.all(
        [v1, v2].map(async (v) => (await registry.finalMetrics(v.id)).find((f) => f.key === key)!.value),
      );
      assert.deepStrictEqual(row.values, finals);
    }
    assert.strictEqual(model.metrics.find((m) => m.key === 'val_acc')!.direction, 'higher');
    assert.deepStrictEqual(model.metrics.find((m) => m.key === 'val_loss')!.best, [0, 1], 'equal values share best');
    assert.ok(model.series.length >= 2 * 4, 'series for both versions');
    assert.ok(model.series.every((s) => s.steps.length <= model.maxPoints));
    assert.strictEqual(model.code.length, 1);
    assert.match(model.code[0].unavailable ?? '', /same commit/);
    assert.match(panel.panel.webview.html, /script-src 'nonce-[^']+'/);
    assert.match(panel.panel.title, /Compare resnet-cifar@v\d+ · resnet-cifar@v\d+/);

    // A new version of the compared model joins the open panel.
    const v3 = await importOutput('resnet-cifar');
    const updated = await posted(panel, (m) => m.versions.length === 3);
    assert.strictEqual(updated.versions[2].ref, v3.ref);
    panel.dispose();
  });

  it('Plot Metric Across Versions on a model row opens Compare on every ready version, in order, in the across mode', async () => {
    const a = await api();
    const registry = await a.service.get();
    if ((await registry.listVersions('resnet-cifar')).length < 2) await importOutput('resnet-cifar');
    const model = (await registry.listModels()).find((m) => m.name === 'resnet-cifar')!;
    const row: TreeNode = { kind: 'model', model, registry: 'local' };
    const panel = (await vscode.commands.executeCommand('modelRegistry.plotAcrossVersions', row, [
      row,
    ])) as ComparePanel;
    assert.ok(panel, 'the command returned the panel');
    const ready = (await registry.listVersions('resnet-cifar')).filter((v) => v.status === 'ready');
    const shown = await posted(panel, (m) => m.acrossModel === 'resnet-cifar');
    assert.deepStrictEqual(
      shown.versions.map((v) => v.ref),
      ready.map((v) => v.ref).sort((x, y) => Number(x.split('@v')[1]) - Number(y.split('@v')[1])),
      'every ready version of the model, oldest first',
    );
    assert.ok(
      shown.metrics.some((m) => m.key === 'val_acc'),
      'final values to plot',
    );
    assert.strictEqual(panel.panel.title, 'resnet-cifar across versions');
    assert.strictEqual(panel.acrossModel, 'resnet-cifar');

    // A version imported while it is open joins the plot.
    const next = await importOutput('resnet-cifar');
    const updated = await posted(panel, (m) => m.versions.some((v) => v.id === next.id));
    assert.strictEqual(updated.versions.at(-1)!.ref, next.ref);
    assert.strictEqual(updated.acrossModel, 'resnet-cifar');
    panel.dispose();
  });

  it('applies a metric direction override from the settings', async () => {
    const panel = await compareFirstTwo();
    await vscode.workspace
      .getConfiguration('modelRegistry')
      .update('metricDirections', { 'lr-SGD': 'lower' }, vscode.ConfigurationTarget.Workspace);
    try {
      const m = await posted(panel, (x) => x.metrics.find((r) => r.key === 'lr-SGD')?.direction === 'lower');
      assert.strictEqual(m.metrics.find((r) => r.key === 'lr-SGD')!.directionOverridden, true);
    } finally {
      await vscode.workspace
        .getConfiguration('modelRegistry')
        .update('metricDirections', undefined, vscode.ConfigurationTarget.Workspace);
      panel.dispose();
    }
  });

  it('a running training added to compare grows its live column as it writes metrics.jsonl, then gives way to its version', async () => {
    const panel = await compareFirstTwo();
    // The output folder does not exist yet: the "training" creates it. It writes an epoch each time
    // it is told to, so the test sees each point arrive while the process still runs.
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'modelreg-live-')), 'outputs', 'run-1');
    const script = `
      const fs = require('fs');
      fs.mkdirSync(process.argv[1], { recursive: true });
      let epoch = 0;
      const write = () => {
        epoch++;
        const fd = fs.openSync(process.argv[1] + '/metrics.jsonl', 'a');
        fs.writeSync(fd, JSON.stringify({ epoch, step: 10 * epoch, loss: 1 / epoch, eval_accuracy: 0.3 + epoch / 20 }) + '\\n');
        fs.fsyncSync(fd);
        fs.closeSync(fd);
      };
      write();
      process.stdin.on('data', () => (epoch < 5 ? write() : process.exit(0)));`;
    const child = spawn(process.execPath, ['-e', script, out], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    let exited = false;
    child.on('exit', () => (exited = true));
    try {
      panel.addLiveRun({ id: 'run-1', label: 'classifier · run-1', output: out, metric: 'eval_accuracy' });
      const liveLoss = (m: ComparisonModel) => m.series.find((s) => s.versionId < 0 && s.key === 'loss')?.steps ?? [];
      for (let epoch = 1; epoch <= 5; epoch++) {
        const m = await posted(panel, (x) => liveLoss(x).length === epoch);
        assert.deepStrictEqual(
          liveLoss(m),
          Array.from({ length: epoch }, (_, i) => 10 * (i + 1)),
        );
        assert.strictEqual(exited, false, 'the points arrived while the training ran');
        const column = m.versions.find((v) => v.live)!;
        assert.deepStrictEqual(column.live, { runId: 'run-1', running: true });
        assert.strictEqual(column.ref, 'classifier · run-1');
        assert.strictEqual(m.metrics.find((r) => r.key === 'eval_accuracy')?.values.at(-1), 0.3 + epoch / 20);
        child.stdin.write('next\n');
      }
      await eventually(() => assert.ok(exited, 'the training ended'));
      assert.match(panel.panel.title, /classifier · run-1 \(live\)/);

      // Imported as a version: its column takes the live column's place.
      const trained = await importOutput('resnet-cifar');
      await panel.markLiveRunEnded('run-1', trained.id);
      const after = await posted(panel, (m) => !m.versions.some((v) => v.live));
      assert.ok(after.versions.some((v) => v.id === trained.id));
      assert.ok(after.series.every((s) => s.versionId > 0));
    } finally {
      child.kill();
      panel.dispose();
    }
  });
});

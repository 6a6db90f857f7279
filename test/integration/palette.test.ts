// Commands run from the Command Palette: with no argument and nothing selected they ask which version
// in a QuickPick (answered here through VS Code's own quick-input commands), and the context keys the
// palette's `when` clauses read follow the Models view's filter and archived state.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { importTrainingOutput } from '../../src/core';
import type { ModelRegistryApi } from '../../src/extension/extension';
import { acceptingPicks, api, eventually } from './helpers';

/** Clears the Models view's selection the way Escape does in the focused tree. */
async function clearSelection(a: ModelRegistryApi): Promise<void> {
  if (a.view.selection.length === 0) return;
  await vscode.commands.executeCommand('modelRegistry.models.focus');
  await vscode.commands.executeCommand('list.clear');
  await eventually(() => assert.deepStrictEqual(a.view.selection, [], 'the Models view has nothing selected'), {
    timeout: 3_000,
  });
}

describe('Commands from the Command Palette', () => {
  let a: ModelRegistryApi;
  before(async () => {
    a = await api();
    const registry = await a.service.get();
    const out = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'outputs', 'resnet-cifar');
    await importTrainingOutput(registry, out, { model: 'pal-resnet' });
    await importTrainingOutput(registry, out, { model: 'pal-resnet' });
    a.tree.refresh();
  });

  it('Set Alias with no argument and no selection asks which version (most recent first) and sets it there', async () => {
    await clearSelection(a);
    const move = await acceptingPicks(
      vscode.commands.executeCommand<{ to: number } | undefined>('modelRegistry.setAlias', undefined, 'pal-pick'),
    );
    assert.strictEqual(move?.to, 2, 'the alias moved to the picked version');
    assert.strictEqual((await (await a.service.get()).resolve('pal-resnet@pal-pick')).ref, 'pal-resnet@v2');
  });

  it('Show Lineage Graph with no argument and no selection asks which version and opens its graph', async () => {
    await clearSelection(a);
    const panel = await acceptingPicks(vscode.commands.executeCommand<{ html: string }>('modelRegistry.showLineage'));
    assert.ok(panel, 'a lineage panel opened');
    await eventually(() => assert.match(panel.html, /data-ref="pal-resnet@v2"/), {
      timeout: 5_000,
      message: 'the graph of the picked version rendered',
    });
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Unarchive with no argument offers only the archived versions', async () => {
    await vscode.commands.executeCommand('modelRegistry.archiveVersion', 'pal-resnet@v1');
    assert.ok((await (await a.service.get()).resolve('pal-resnet@v1')).archivedAt, 'archived');
    await clearSelection(a);
    // v2 is the most recent, so a pick of all versions would offer it first.
    await acceptingPicks(vscode.commands.executeCommand('modelRegistry.unarchiveVersion'));
    assert.strictEqual((await (await a.service.get()).resolve('pal-resnet@v1')).archivedAt, null, 'v1 unarchived');
  });

  it('Convert with no argument offers only the versions whose row offers Convert… (not a newer GGUF one)', async () => {
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    await importTrainingOutput(await a.service.get(), path.join(root, 'outputs', 'tinyllama-q4'), {
      model: 'pal-gguf',
    });
    await clearSelection(a);
    const derived = await acceptingPicks(
      vscode.commands.executeCommand<{ ref: string; parentId: number } | undefined>(
        'modelRegistry.convertVersion',
        undefined,
        { to: 'onnx-fp16' },
      ),
    );
    const parent = await (await a.service.get()).resolve('pal-resnet@v2');
    assert.strictEqual(derived?.ref, 'pal-resnet@v3', 'converted the most recent convertible version');
    assert.strictEqual(derived.parentId, parent.id);
  });

  it('Plot Metric Across Versions with no argument and no selection asks which model (most versions first)', async () => {
    const registry = await a.service.get();
    const counts: [string, number][] = [];
    for (const m of await registry.listModels()) {
      const n = (await registry.listVersions(m.name)).filter((v) => v.status === 'ready').length;
      if (n > 0) counts.push([m.name, n]);
    }
    counts.sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
    await clearSelection(a);
    const panel = await acceptingPicks(
      vscode.commands.executeCommand<{ acrossModel?: string; versionIds: number[]; dispose(): void }>(
        'modelRegistry.plotAcrossVersions',
      ),
    );
    assert.strictEqual(panel?.acrossModel, counts[0][0], 'the first model offered is the one with the most versions');
    assert.strictEqual(panel.versionIds.length, counts[0][1]);
    panel.dispose();
  });

  it('the context keys behind Clear Filter and Show/Hide Archived follow the view', async () => {
    const keys = () => ({ filtered: a.contextValue('filtered'), showArchived: a.contextValue('showArchived') });
    await vscode.commands.executeCommand('modelRegistry.clearFilter');
    await vscode.commands.executeCommand('modelRegistry.hideArchived');
    assert.deepStrictEqual(keys(), { filtered: false, showArchived: false });
    await vscode.commands.executeCommand('modelRegistry.filter', 'pal-resnet');
    assert.deepStrictEqual(keys(), { filtered: true, showArchived: false });
    await vscode.commands.executeCommand('modelRegistry.showArchived');
    assert.deepStrictEqual(keys(), { filtered: true, showArchived: true });
    await vscode.commands.executeCommand('modelRegistry.clearFilter');
    assert.deepStrictEqual(keys(), { filtered: false, showArchived: true });
    await vscode.commands.executeCommand('modelRegistry.hideArchived');
    assert.deepStrictEqual(keys(), { filtered: false, showArchived: false });
  });
});

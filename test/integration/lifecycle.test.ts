// Aliases, clone, lineage, filter and delete inside the real extension host, seen through the tree.
import * as assert from 'assert';
import { mkdtempSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { importTrainingOutput } from '../../src/core';
import type { ModelRegistryApi } from '../../src/extension/extension';
import type { TreeNode } from '../../src/extension/registry/treeNodes';
import { api, child, eventually, waitForChild } from './helpers';

const describe_ = (a: ModelRegistryApi, n: TreeNode) => String(a.tree.getTreeItem(n).description ?? '');

describe('Version lifecycle in the tree', () => {
  let a: ModelRegistryApi;
  before(async () => {
    a = await api();
    const registry = await a.service.get();
    const out = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'outputs', 'resnet-cifar');
    await importTrainingOutput(registry, out, { model: 'lc-resnet' });
    await importTrainingOutput(registry, out, { model: 'lc-resnet' });
    a.tree.refresh();
  });

  it('Set Alias puts a badge on the version; moving it moves the badge; the history records both', async () => {
    const model = await child(a, undefined, 'lc-resnet');
    await vscode.commands.executeCommand('modelRegistry.setAlias', await child(a, model, 'v1'), 'production');
    let v1 = await child(a, model, 'v1');
    assert.match(describe_(a, v1), /^@production · /);
    assert.match(a.tree.getTreeItem(v1).contextValue ?? '', /^version\.ready\.aliased\b/);

    await vscode.commands.executeCommand('modelRegistry.setAlias', await child(a, model, 'v2'), 'production');
    v1 = await child(a, model, 'v1');
    const v2 = await child(a, model, 'v2');
    assert.match(describe_(a, v2), /^@production · /);
    assert.doesNotMatch(describe_(a, v1), /@production/);
    const history = await (await a.service.get()).aliasHistory('lc-resnet', 'production');
    assert.deepStrictEqual(
      history.map((h) => [h.from, h.to]),
      [
        [1, 2],
        [null, 1],
      ],
    );
    const resolved = await vscode.commands.executeCommand<{ ref: string }>(
      'modelRegistry.revealVersion',
      'lc-resnet@production',
    );
    assert.strictEqual(resolved?.ref, 'lc-resnet@v2');
    const selected = () => (a.view.selection[0]?.kind === 'version' ? a.view.selection[0].version.ref : undefined);
    await eventually(
      () =>
        assert.strictEqual(
          selected(),
          'lc-resnet@v2',
          `revealed and selected in the tree (view visible: ${a.view.visible}, selection: ${JSON.stringify(a.view.selection.map((n) => n.kind))})`,
        ),
      { timeout: 5_000 },
    );
  });

  it('Clone makes a new model whose version shows its lineage; the lineage graph names both', async () => {
    const model = await child(a, undefined, 'lc-resnet');
    const copy = await vscode.commands.executeCommand<{ ref: string }>(
      'modelRegistry.cloneVersion',
      await child(a, model, 'v2'),
      'lc-resnet-edge',
    );
    assert.strictEqual(copy?.ref, 'lc-resnet-edge@v1');
    const cloneModel = await child(a, undefined, 'lc-resnet-edge');
    const v1 = await child(a, cloneModel, 'v1');
    const lineage = await child(a, v1, 'Lineage');
    const parent = await child(a, lineage, 'lc-resnet@v2');
    assert.match(describe_(a, parent), /made from it \(clone\)/);
    // And forward from the source.
    const source = await child(a, await child(a, await child(a, undefined, 'lc-resnet'), 'v2'), 'Lineage');
    assert.match(describe_(a, await child(a, source, 'lc-resnet-edge@v1')), /made from this \(clone\)/);

    const panel = await vscode.commands.executeCommand<{ html: string }>('modelRegistry.showLineage', v1);
    await eventually(() => assert.match(panel!.html, /<svg/), {
      timeout: 5_000,
      message: 'the lineage graph rendered',
    });
    assert.match(panel!.html, /data-ref="lc-resnet@v2"/);
    assert.match(panel!.html, /data-ref="lc-resnet-edge@v1"/);
    assert.match(panel!.html, />clone</);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Filter narrows the tree and shows itself in the view title; clearing it brings everything back', async () => {
    await vscode.commands.executeCommand('modelRegistry.filter', '@production');
    const names = (await a.tree.getChildren()).map((n) => a.tree.getTreeItem(n).label);
    assert.deepStrictEqual(names, ['lc-resnet']);
    assert.deepStrictEqual(
      (await a.tree.getChildren(await child(a, undefined, 'lc-resnet'))).map((n) => a.tree.getTreeItem(n).label),
      ['v2'],
    );
    assert.strictEqual(a.view.description, 'filter: @production');
    assert.strictEqual(a.view.message, 'Showing versions that match: @production');
    await vscode.commands.executeCommand('modelRegistry.clearFilter');
    assert.strictEqual(a.view.description, undefined);
    assert.ok((await a.tree.getChildren()).length > 1);
  });

  it('A filter that matches nothing says why: no such metric (the nearest names), or no value passes (the best one)', async () => {
    const registry = await a.service.get();
    const metrics = (await registry.finalMetrics((await registry.resolve('lc-resnet@v2')).id)).filter(
      (m) => m.value !== null,
    );
    const { key } = metrics[0];
    const message = async () => {
      const rows = await a.tree.getChildren();
      assert.strictEqual(rows.length, 1);
      return String(a.tree.getTreeItem(rows[0]).label);
    };
    // Spaces around the operator, and a threshold above every value there is.
    await vscode.commands.executeCommand('modelRegistry.filter', `${key} > 1e9`);
    assert.match(
      await message(),
      new RegExp(`^No versions match "${key} > 1e9": no ${key} is > 1000000000; the highest is `),
    );
    await vscode.commands.executeCommand('modelRegistry.filter', `${key}x>0.5`);
    assert.match(await message(), new RegExp(`no metric is named ${key}x; known metrics: ${key}\\b`));
    await vscode.commands.executeCommand('modelRegistry.clearFilter');
  });

  it('Edit Tags and Edit Description confirm in the status bar; tags show in the row, the description under it', async () => {
    const model = await child(a, undefined, 'lc-resnet');
    await vscode.commands.executeCommand('modelRegistry.editTags', await child(a, model, 'v2'), ['baseline', 'cifar']);
    assert.strictEqual(a.lastConfirmation(), 'Tags of lc-resnet@v2: #baseline #cifar');
    await vscode.commands.executeCommand('modelRegistry.editDescription', await child(a, model, 'v2'), 'Pruned 30%');
    assert.strictEqual(a.lastConfirmation(), 'Description of lc-resnet@v2 saved');
    await eventually(async () => assert.match(describe_(a, await child(a, model, 'v2')), / · #baseline · #cifar\b/), {
      timeout: 5_000,
    });
    assert.strictEqual(
      a.tree.getTreeItem((await a.tree.getChildren(await child(a, model, 'v2')))[0]).label,
      'Pruned 30%',
    );
    await vscode.commands.executeCommand('modelRegistry.editTags', await child(a, model, 'v2'), []);
    await vscode.commands.executeCommand('modelRegistry.editDescription', await child(a, model, 'v2'), '');
    assert.strictEqual(a.lastConfirmation(), 'Description of lc-resnet@v2 cleared');
  });

  it('Archive with archived versions hidden shows them, so the version stays in the tree, and says so; Delete (confirmed) removes it', async () => {
    a.tree.setFilter('lc-resnet'); // archived from a filtered view
    const model = await child(a, undefined, 'lc-resnet');
    assert.strictEqual(a.tree.showArchived, false);
    await vscode.commands.executeCommand('modelRegistry.archiveVersion', await child(a, model, 'v1'));
    assert.strictEqual(
      a.lastConfirmation(),
      'Archived lc-resnet@v1. Archived versions are now shown (Hide Archived Versions hides them)',
    );
    assert.strictEqual(a.tree.showArchived, true);
    assert.strictEqual(a.contextValue('showArchived'), true, 'Hide Archived Versions is offered');
    const archived = await waitForChild(a, await child(a, undefined, 'lc-resnet'), 'v1');
    assert.match(describe_(a, archived), /^archived · /);
    assert.strictEqual(a.tree.filter, 'lc-resnet', 'the filter stays');
    a.tree.setFilter('');
    await vscode.commands.executeCommand('modelRegistry.unarchiveVersion', archived);
    assert.strictEqual(a.lastConfirmation(), 'Unarchived lc-resnet@v1');
    await vscode.commands.executeCommand('modelRegistry.hideArchived');
    await vscode.commands.executeCommand('modelRegistry.deleteVersion', await child(a, model, 'v1'), true);
    assert.deepStrictEqual(
      (await a.tree.getChildren(await child(a, undefined, 'lc-resnet'))).map((n) => a.tree.getTreeItem(n).label),
      ['v2'],
    );
  });

  it('Export Version writes a .tar; Import Archive brings it back as a version with the same files and commit', async () => {
    const model = await child(a, undefined, 'lc-resnet');
    const dest = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'lc-resnet-v2.tar');
    const written = await vscode.commands.executeCommand<string>(
      'modelRegistry.exportVersion',
      await child(a, model, 'v2'),
      dest,
    );
    assert.strictEqual(written, dest);
    const imported = await vscode.commands.executeCommand<{
      ref: string;
      model: string;
      git: { commit: string } | null;
    }>('modelRegistry.importArchive', vscode.Uri.file(dest));
    // The archive's model already exists here, so it lands as that model's next version.
    assert.strictEqual(imported?.ref, 'lc-resnet@v3');
    const registry = await a.service.get();
    const [orig, back] = [await registry.resolve('lc-resnet@v2'), await registry.resolve('lc-resnet@v3')];
    assert.deepStrictEqual(await registry.files(back.id), await registry.files(orig.id));
    assert.strictEqual(back.git?.commit, orig.git?.commit);
    assert.deepStrictEqual(
      (await a.tree.getChildren(await child(a, undefined, 'lc-resnet'))).map((n) => a.tree.getTreeItem(n).label),
      ['v3', 'v2'],
    );
  });

  it('Export in a browser-hosted VS Code (no revealFileInOS) reveals a workspace file in the Explorer view and offers to copy any other path', async () => {
    // code-server runs the workbench in the browser: VS Code registers revealFileInOS only on the desktop.
    assert.strictEqual(vscode.env.uiKind, vscode.UIKind.Web);
    assert.ok(!(await vscode.commands.getCommands(true)).includes('revealFileInOS'), 'revealFileInOS exists here');
    const v2 = await child(a, await child(a, undefined, 'lc-resnet'), 'v2');
    await vscode.commands.executeCommand('modelRegistry.models.focus');
    await eventually(() => assert.ok(a.view.visible, 'the Models view shows'), { timeout: 5_000 });
    const inside = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'lc-reveal.tar');
    // The offered button: pressing another one (the desktop's) does nothing.
    await vscode.commands.executeCommand('modelRegistry.exportVersion', v2, inside, 'Reveal in File Explorer');
    assert.ok(a.view.visible, 'nothing happened for a button not offered');
    rmSync(inside);
    await vscode.commands.executeCommand('modelRegistry.exportVersion', v2, inside, 'Reveal in Explorer View');
    await eventually(() => assert.ok(!a.view.visible, 'the Explorer view took the side bar'), { timeout: 5_000 });
    const outside = path.join(mkdtempSync(path.join(os.tmpdir(), 'lc-export-')), 'v2.tar');
    await vscode.commands.executeCommand('modelRegistry.exportVersion', v2, outside, 'Copy Path');
    assert.strictEqual(a.lastConfirmation(), `Copied ${outside}`);
    assert.strictEqual(await vscode.env.clipboard.readText(), outside);
    rmSync(path.dirname(outside), { recursive: true });
  });

  it('Convert… (onnx-fp16) from the tree makes a derived version whose Lineage names its parent', async () => {
    const registry = await a.service.get();
    const out = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'outputs', 'resnet-cifar');
    await importTrainingOutput(registry, out, { model: 'cv-resnet' });
    a.tree.refresh();
    const v1 = await child(a, await child(a, undefined, 'cv-resnet'), 'v1');
    const derived = await vscode.commands.executeCommand<{
      ref: string;
      format: string;
      details: { conversion: { converter: string } };
    }>('modelRegistry.convertVersion', v1, { to: 'onnx-fp16' });
    assert.strictEqual(derived?.ref, 'cv-resnet@v2');
    assert.strictEqual(derived.details.conversion.converter, 'onnx-fp16');
    const model = await child(a, undefined, 'cv-resnet');
    const v2 = await waitForChild(a, model, 'v2');
    // The row tells it from its parent: format · dtype · size.
    assert.match(describe_(a, v2), /^onnx · fp16 · /);
    assert.match(describe_(a, await child(a, model, 'v1')), /^onnx · fp32 · /);
    const lineage = await child(a, v2, 'Lineage');
    assert.strictEqual(describe_(a, lineage), 'from cv-resnet@v1 (conversion: onnx-fp16)');
    assert.match(describe_(a, await child(a, lineage, 'cv-resnet@v1')), /made from it \(conversion: onnx-fp16\)/);
    const conversion = await child(a, v2, 'Conversion');
    assert.match(describe_(a, conversion), /^onnx-fp16 · max abs error /);
    assert.strictEqual(describe_(a, await child(a, conversion, 'from')), 'cv-resnet@v1');
  });
});

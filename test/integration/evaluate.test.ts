// Evaluate inside the real extension host: register the sample's colours dataset, evaluate the
// colour classifier from the tree, see the Evaluations node and the panel with its confusion matrix.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { importTrainingOutput } from '../../src/core';
import { api, eventually, waitForChild as child } from './helpers';

describe('Evaluate in the tree', () => {
  it('Evaluate… and Convert… are offered by the row: an ONNX version has both, a GGUF version neither', async () => {
    const a = await api();
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    for (const [dir, model] of [
      ['colour-net', 'menu-onnx'],
      ['tinyllama-q4', 'menu-gguf'],
    ])
      await importTrainingOutput(await a.service.get(), path.join(root, 'outputs', dir), { model });
    a.tree.refresh();
    const row = async (model: string) =>
      a.tree.getTreeItem(await child(a, await child(a, undefined, model), 'v1')).contextValue ?? '';
    // package.json's view/item/context: Evaluate… on /^version\.ready.*\.evaluable/, Convert… on /…\.convertible/.
    assert.match(await row('menu-onnx'), /^version\.ready.*\.evaluable.*\.convertible/);
    assert.strictEqual(await row('menu-gguf'), 'version.ready');
    // An external evaluator takes any model: configuring one offers Evaluate… on the GGUF row too.
    const config = () => vscode.workspace.getConfiguration('modelRegistry');
    await config().update(
      'evaluate.profiles',
      [{ id: 'any', tool: 'true', args: [] }],
      vscode.ConfigurationTarget.Workspace,
    );
    try {
      await eventually(async () => assert.strictEqual(await row('menu-gguf'), 'version.ready.evaluable'), {
        timeout: 10_000,
      });
    } finally {
      await config().update('evaluate.profiles', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('Register Dataset, then Evaluate… on a version: an Evaluations node and a panel with the confusion matrix', async () => {
    const a = await api();
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    await importTrainingOutput(await a.service.get(), path.join(root, 'outputs', 'colour-net'), {
      model: 'ev-colours',
    });
    a.tree.refresh();
    const dataset = await vscode.commands.executeCommand<{ name: string; splits: string[]; sampleCount: number }>(
      'modelRegistry.registerDataset',
      vscode.Uri.file(path.join(root, 'datasets', 'colours')),
    );
    assert.deepStrictEqual([dataset?.name, dataset?.splits, dataset?.sampleCount], ['colours', ['train', 'test'], 36]);

    const v1 = await child(a, await child(a, undefined, 'ev-colours'), 'v1');
    const e = await vscode.commands.executeCommand<{
      id: number;
      sampleCount: number;
      metrics: { accuracy: number };
      confusion: number[][];
    }>('modelRegistry.evaluateVersion', v1, { dataset: 'colours', split: 'test' });
    assert.strictEqual(e?.sampleCount, 18);
    assert.ok(e.metrics.accuracy > 0.5 && e.metrics.accuracy < 1, `some shades are misread: ${e.metrics.accuracy}`);

    const evaluations = await child(a, await child(a, await child(a, undefined, 'ev-colours'), 'v1'), 'Evaluations');
    const node = await child(a, evaluations, 'colours/test');
    assert.match(String(a.tree.getTreeItem(node).description), /^accuracy 0\.\d+ · 18 samples/);

    // The run opened the panel; opening it again reveals that same panel.
    const panel = await vscode.commands.executeCommand<{ evaluationId: number; lastPosted?: { type: string } }>(
      'modelRegistry.openEvaluation',
      node,
    );
    assert.strictEqual(panel?.evaluationId, e.id);
    await eventually(
      () => {
        const init = panel.lastPosted as { type: 'init'; payload: { confusion: number[][]; classes: string[] } };
        assert.deepStrictEqual(init.payload.confusion, e.confusion);
      },
      { timeout: 30_000 },
    );
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});

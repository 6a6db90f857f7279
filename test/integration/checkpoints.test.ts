// Import as Model on a Hugging Face Trainer output with checkpoint-N folders: the QuickPick's
// choices (answered through VS Code's own quick-input commands) change what is imported, and the
// tree shows the checkpoint folders as such.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import type { VersionRecord } from '../../src/core';
import { writeHfOutput } from '../unit/helpers/makeHfOutput';
import { api, child, eventually, labels, sleep, workspace } from './helpers';

/**
 * Runs the import and answers its QuickPicks as keys would: in the first (the three choices) moves
 * down `downs` rows and presses Enter, in the second (which checkpoint) moves down `then` rows.
 * The extension's askingCheckpoints context key says which pick is open.
 */
async function answering<T>(run: Thenable<T>, downs: number, then = 0): Promise<T> {
  const a = await api();
  let done = false;
  const result = Promise.resolve(run).finally(() => (done = true));
  const answer = async (which: string, rows: number) => {
    await eventually(
      () => assert.strictEqual(a.contextValue('askingCheckpoints'), which, `the ${which} pick is open`),
      {
        timeout: 20_000,
      },
    );
    await sleep(300); // its rows drawn
    for (let i = 0; i < rows; i++) await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  };
  try {
    await answer('choice', downs);
    if (downs === 2) await answer('folder', then);
    return await result;
  } finally {
    if (!done) await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  }
}

describe('Import as Model: checkpoint folders', () => {
  let out: vscode.Uri;
  before(async () => {
    out = vscode.Uri.file(path.join(workspace(), 'outputs', 'hf-checkpoints'));
    await writeHfOutput(out.fsPath, { checkpoints: [50, 100] });
  });
  const importAs = (model: string, downs: number, then?: number) =>
    answering(
      vscode.commands.executeCommand<VersionRecord>('modelRegistry.importOutput', out, undefined, { model }),
      downs,
      then,
    );
  const paths = async (v: VersionRecord) =>
    (await (await api()).service.get()).files(v.id).then((fs) => fs.map((f) => f.path));

  it('Enter takes the final weights only; Files lists the checkpoints as left out', async () => {
    const v = await importAs('hf-ckpt', 0);
    assert.ok(v, 'imported');
    assert.ok(!(await paths(v)).some((p) => p.startsWith('checkpoint-')), (await paths(v)).join(', '));
    const a = await api();
    a.tree.refresh();
    const files = await child(a, await child(a, await child(a, undefined, v.model), `v${v.number}`), 'Files');
    const rows = await labels(a, files);
    assert.ok(rows.includes('checkpoint-100') && rows.includes('checkpoint-50'), rows.join(', '));
    const row = (await a.tree.getChildren(files))!.find(
      (n) => n.kind === 'checkpoint' && n.checkpoint.name === 'checkpoint-100',
    )!;
    const item = a.tree.getTreeItem(row);
    assert.match(String(item.description), /^step 100 · .* · not imported$/);
    assert.strictEqual((item.iconPath as vscode.ThemeIcon).id, 'history');
    assert.strictEqual(item.collapsibleState, vscode.TreeItemCollapsibleState.None);
  });

  it('"Include checkpoints" imports them, listed under their own folder rows', async () => {
    const v = await importAs('hf-ckpt-all', 1);
    assert.ok((await paths(v)).includes('checkpoint-50/optimizer.pt'));
    const a = await api();
    a.tree.refresh();
    const files = await child(a, await child(a, await child(a, undefined, v.model), `v${v.number}`), 'Files');
    const folder = await child(a, files, 'checkpoint-50');
    assert.strictEqual(a.tree.getTreeItem(folder).collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    assert.match(String(a.tree.getTreeItem(folder).description), /^step 50 · .* · 6 files$/);
    assert.deepStrictEqual((await labels(a, folder)).sort(), [
      'config.json',
      'model.safetensors',
      'optimizer.pt',
      'rng_state.pth',
      'scheduler.pt',
      'trainer_state.json',
    ]);
    assert.ok(!(await labels(a, files)).includes('checkpoint-50/optimizer.pt'));
  });

  it('"Pick one checkpoint…" lists them latest first; the picked one becomes the version\'s files', async () => {
    // Down two: "Pick one checkpoint…"; then down one past the latest (checkpoint-100): checkpoint-50.
    const v = await importAs('hf-ckpt-one', 2, 1);
    const c = v.details.checkpoints as { included: string; folder: string };
    assert.deepStrictEqual([c.included, c.folder], ['one', 'checkpoint-50']);
    assert.ok((await paths(v)).includes('optimizer.pt'));
    const a = await api();
    a.tree.refresh();
    const files = await child(a, await child(a, await child(a, undefined, v.model), `v${v.number}`), 'Files');
    const rows = await labels(a, files);
    assert.strictEqual(rows[0], 'checkpoint-50', rows.join(', '));
    const first = (await a.tree.getChildren(files))![0];
    assert.match(String(a.tree.getTreeItem(first).description), /^step 50 · .* · the version's files$/);
    assert.match(
      String(a.tree.getTreeItem((await a.tree.getChildren(files))!.at(-1)!).description),
      /^step 100 · .* · not imported$/,
    );
  });

  it('Escape cancels: nothing is imported', async () => {
    const a = await api();
    const versions = async () => (await (await a.service.get()).listModels()).reduce((n, m) => n + m.versionCount, 0);
    const before = await versions();
    const run = vscode.commands.executeCommand('modelRegistry.importOutput', out, undefined, { model: 'hf-ckpt-gone' });
    await eventually(() => assert.strictEqual(a.contextValue('askingCheckpoints'), 'choice'), { timeout: 20_000 });
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.deepStrictEqual(await run, [], 'the command imported nothing');
    assert.strictEqual(await versions(), before);
  });
});

// Training from the editor, inside the real extension host, on the sample's modelreg.json and its
// real train.py (Python 3 + numpy): Train New Version…, the Runs view, tasks, Stop, the log
// terminal, Compare's live column, Retry, and a run started outside the window (the CLI) that the
// window picks up as it does after a reload.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { loadRecipes, type RunRecord } from '../../src/core';
import { groupAlive } from '../../src/core/train/runs';
import type { ComparePanel } from '../../src/extension/compare/comparePanel';
import type { ModelRegistryApi } from '../../src/extension/extension';
import { RunLogTerminal } from '../../src/extension/training/runLog';
import type { ComparisonModel } from '../../src/shared/compare/contract';
import { acceptingPicks, api, child, eventually, waitForChild, workspace } from './helpers';

const RUN_TASK = 'modelreg-run';

describe('Training runs in the editor', function () {
  this.timeout(120_000);
  let a: ModelRegistryApi;
  before(async () => {
    a = await api();
  });

  const runRow = (id: string) => {
    const run = a.training.tree.all.find((r) => r.id === id);
    assert.ok(run, `run ${id} is in the Runs view (${a.training.tree.all.map((r) => r.id).join(', ')})`);
    return { run, item: a.training.tree.getTreeItem(run) };
  };
  const ended = (id: string, ms = 60_000) =>
    eventually(
      () => {
        const { run } = runRow(id);
        assert.ok(run.status !== 'queued' && run.status !== 'running', `${id} is still ${run.status}`);
        return run;
      },
      { timeout: ms },
    );
  /** The version the first test trains (Re-run Training runs it again). */
  let trainedRef: string | undefined;
  const taskOf = (id: string) => vscode.tasks.taskExecutions.find((e) => e.task.definition.run === id);

  it('Train New Version… from scratch: the row goes live (epoch, metric), the run is a task and a live Compare column, then a version', async () => {
    const runs = await vscode.commands.executeCommand<RunRecord[]>('modelRegistry.trainNewVersion', {
      fromScratch: true,
      recipe: 'classifier',
      overrides: ['epochs=6', 'epoch_seconds=0.6'],
    });
    assert.strictEqual(runs?.length, 1);
    const id = runs[0].id;
    assert.deepStrictEqual(runs[0].overridden.sort(), ['epoch_seconds', 'epochs']);
    assert.strictEqual(runs[0].base, null);

    // The row: running, elapsed time, the epoch and the recipe's metric, updated while it runs.
    const live = await eventually(
      () => {
        const { item } = runRow(id);
        assert.match(
          String(item.description),
          /^running · 0:\d\d · epoch \d+ · eval_accuracy [\d.]+ · epochs=6 epoch_seconds=0\.6$/,
        );
        return item;
      },
      { timeout: 30_000 },
    );
    assert.strictEqual(live.contextValue, 'run.running');
    assert.strictEqual(live.label, 'classifier');
    await eventually(() => assert.ok(taskOf(id), `a ${RUN_TASK} task runs for ${id}`), { timeout: 10_000 });
    assert.strictEqual(taskOf(id)!.task.source, 'Model Registry');

    // Compare on the running run: a live column whose curve grows before the run ends.
    const panel = (await vscode.commands.executeCommand('modelRegistry.compareRun', id)) as ComparePanel;
    try {
      const liveSteps = (m: ComparisonModel | undefined) =>
        m?.series.find((s) => s.versionId < 0 && s.key === 'eval_accuracy')?.steps.length ?? 0;
      await eventually(() => assert.ok(liveSteps(panel.lastPosted) >= 1, 'the live column has points'), {
        timeout: 20_000,
      });
      const first = liveSteps(panel.lastPosted);
      await eventually(() => assert.ok(liveSteps(panel.lastPosted) > first, 'the live curve grew'), {
        timeout: 20_000,
      });
      assert.strictEqual(runRow(id).run.status, 'running', 'the curve grew while the run still ran');

      const run = await ended(id);
      assert.strictEqual(run.status, 'succeeded', run.error ?? '');
      assert.match(String(runRow(id).item.description), new RegExp(`^→ ${run.versionRef} · `));
      assert.strictEqual(runRow(id).item.contextValue, 'run.succeeded.version');
      // Its version took the live column's place.
      await eventually(
        () => {
          const m = panel.lastPosted!;
          assert.ok(!m.versions.some((v) => v.live), 'no live column once the run ended');
          assert.ok(m.versions.some((v) => v.id === run.versionId));
        },
        { timeout: 20_000 },
      );
      await eventually(() => assert.strictEqual(taskOf(id), undefined, 'the task ended with the run'), {
        timeout: 10_000,
      });
      const v = (await (await a.service.get()).getVersionById(run.versionId!))!;
      trainedRef = v.ref;
      assert.strictEqual(v.parentId, null);
      assert.deepStrictEqual(v.params['modelreg.json#train.classifier'], { lr: 0.5, epochs: 6, epoch_seconds: 0.6 });
      // Re-run Training shows on the version's row.
      const model = await waitForChild(a, undefined, 'classifier', 5_000);
      const row = await eventually(() => child(a, model, `v${v.number}`), { timeout: 5_000 });
      assert.match(a.tree.getTreeItem(row).contextValue ?? '', /^version\.ready.*\.trained/);
      // Its Source group says how it was trained.
      const trained = await child(a, await child(a, row, 'Source'), 'trained');
      assert.match(
        String(a.tree.getTreeItem(trained).description),
        new RegExp(`^recipe classifier \\(epochs=6 epoch_seconds=0\\.6\\), run ${id}, exit 0 after \\d+\\.\\d s$`),
      );
    } finally {
      panel.dispose();
    }
  });

  it('Re-run Training on a trained version: the same recipe and parameters on a worktree at its commit; the new version says so', async () => {
    assert.ok(trainedRef, 'the first test made a version');
    const [run] = (await vscode.commands.executeCommand<RunRecord[]>('modelRegistry.rerunTraining', trainedRef))!;
    assert.strictEqual(run.details.rerunOf, trainedRef);
    assert.deepStrictEqual(run.overridden.sort(), ['epoch_seconds', 'epochs']);
    assert.match(
      run.root,
      /[\\/]runs[\\/]code-/,
      `runs in a worktree of the registry, not the user's checkout: ${run.root}`,
    );
    const ended_ = await ended(run.id);
    assert.strictEqual(ended_.status, 'succeeded', ended_.error ?? '');
    const v = (await (await a.service.get()).getVersionById(ended_.versionId!))!;
    const original = await (await a.service.get()).resolve(trainedRef);
    assert.strictEqual((v.details.training as { rerunOf?: string }).rerunOf, trainedRef);
    assert.strictEqual(v.git?.commit, original.git?.commit, 'trained on the same commit');
  });

  it('Train New Version… on a model row asks the base (newest first) and runs the form as it is: a version parented on it', async () => {
    const model = await waitForChild(a, undefined, 'classifier', 5_000);
    const registry = await a.service.get();
    const newest = (await registry.listVersions('classifier'))[0];
    // Enter on each pick: the newest version as base, then Run with the recipe's defaults.
    const runs = await acceptingPicks(
      vscode.commands.executeCommand<RunRecord[]>('modelRegistry.trainNewVersion', model),
    );
    assert.strictEqual(runs?.length, 1);
    assert.strictEqual(runs[0].base?.ref, newest.ref);
    assert.deepStrictEqual(runs[0].overridden, []);
    assert.ok(runs[0].argv.includes('--base'), `baseArgs are passed with a base: ${runs[0].argv.join(' ')}`);
    const run = await ended(runs[0].id);
    assert.strictEqual(run.status, 'succeeded', run.error ?? '');
    const v = (await registry.getVersionById(run.versionId!))!;
    assert.strictEqual(v.parentId, newest.id);
    assert.strictEqual(v.parentKind, 'train');
  });

  it('Stop ends the whole process group: no process of the run is left, no version is made', async () => {
    const [run] = (await vscode.commands.executeCommand<RunRecord[]>('modelRegistry.trainNewVersion', {
      fromScratch: true,
      recipe: 'classifier',
      overrides: ['epochs=200', 'epoch_seconds=0.5'],
    }))!;
    const pid = await eventually(
      async () => {
        const r = (await (await a.service.get()).requireRun(run.id))!;
        assert.ok(r.pid !== null && r.status === 'running', `running with a pid (${r.status})`);
        return r.pid!;
      },
      { timeout: 20_000 },
    );
    assert.ok(groupAlive(pid));
    const stopped = await vscode.commands.executeCommand<RunRecord>('modelRegistry.stopRun', run.id);
    assert.strictEqual(stopped?.status, 'stopped');
    assert.strictEqual(groupAlive(pid), false, `process group ${pid} is gone`);
    assert.strictEqual(stopped.versionId, null);
    await eventually(() => assert.strictEqual(runRow(run.id).item.contextValue, 'run.stopped'));
  });

  it('a failing run keeps its log (streamed by Open Log’s terminal, which closes with the exit code) and Retry runs it again', async () => {
    const file = path.join(workspace(), 'modelreg.json');
    const original = readFileSync(file, 'utf8');
    const recipes = JSON.parse(original);
    recipes.train.failing = {
      ...recipes.train.classifier,
      command: [...recipes.train.classifier.command, '--fail-at-epoch', '2'],
      model: 'failing-classifier',
    };
    writeFileSync(file, JSON.stringify(recipes, null, 2));
    try {
      const [run] = (await vscode.commands.executeCommand<RunRecord[]>('modelRegistry.trainNewVersion', {
        fromScratch: true,
        recipe: 'failing',
        overrides: ['epoch_seconds=0.1'],
      }))!;
      // The log terminal, as Open Log makes it, followed from the start to the end of the run.
      const pty = new RunLogTerminal(a.service, run.id, { closeOnEnd: true, onInterrupt: () => undefined });
      let text = '';
      pty.onDidWrite((t) => (text += t));
      const closed = new Promise<number | void>((resolve) => pty.onDidClose(resolve));
      pty.open();
      const code = await closed;
      assert.strictEqual(code, 3);
      assert.match(text, /simulated failure at epoch 2/);
      assert.match(text, /\r\nTraining failing .*failed: the command exited with code 3\. No version was made\./);
      assert.ok(!/[^\r]\n/.test(text), 'every line ends with \\r\\n in the terminal');

      const failed = await ended(run.id);
      assert.strictEqual(failed.status, 'failed');
      assert.strictEqual(runRow(run.id).item.contextValue, 'run.failed');
      assert.match(String(runRow(run.id).item.description), /^failed \(exit 3\) · /);
      const terminal = await vscode.commands.executeCommand<vscode.Terminal>('modelRegistry.openRunLog', run.id);
      assert.strictEqual(terminal?.name, `Run log: ${run.id}`);
      terminal.dispose();

      // Fixed: Retry runs it again, into an output of its own.
      writeFileSync(file, original);
      const again = await vscode.commands.executeCommand<RunRecord>('modelRegistry.retryRun', run.id);
      assert.ok(again && again.id !== run.id);
      assert.strictEqual(again.details.retryOf, run.id);
      assert.ok(again.output.endsWith(again.id), again.output);
      const retried = await ended(again.id);
      assert.strictEqual(retried.status, 'failed', 'the retry runs the recorded command, which still fails');
    } finally {
      writeFileSync(file, original);
    }
  });

  it('Create Training Recipe writes a starter modelreg.json for the folder’s train.py and opens it; an existing one is opened, not overwritten', async () => {
    const file = path.join(workspace(), 'modelreg.json');
    const original = readFileSync(file, 'utf8');
    rmSync(file);
    try {
      const uri = await vscode.commands.executeCommand<vscode.Uri>('modelRegistry.createRecipeFile', {
        model: 'colour-net',
      });
      assert.strictEqual(uri?.fsPath, file);
      const { recipes } = await loadRecipes(workspace());
      assert.deepStrictEqual(
        recipes.map((r) => [r.name, r.command.slice(0, 2)]),
        [['colour-net', ['python3', 'train.py']]],
      );
      assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, file, 'opened to be edited');
      writeFileSync(file, '{"train": {}}');
      await vscode.commands.executeCommand('modelRegistry.createRecipeFile');
      assert.strictEqual(readFileSync(file, 'utf8'), '{"train": {}}');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      writeFileSync(file, original);
    }
  });

  it('a run started outside the window (modelreg train --no-wait) shows in the Runs view and as a task, and becomes a version', async () => {
    const cli = path.join(vscode.extensions.getExtension('modelreg.model-registry')!.extensionPath, 'dist', 'cli.js');
    const out = execFileSync(
      process.execPath,
      [cli, 'train', '--recipe', 'classifier', '-p', 'epochs=4', '-p', 'epoch_seconds=0.5', '--no-wait', '--json'],
      { cwd: workspace(), env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, encoding: 'utf8' },
    );
    const id = (JSON.parse(out) as { runs: { id: string }[] }).runs[0].id;
    await eventually(() => assert.ok(runRow(id)), { timeout: 10_000 });
    await eventually(() => assert.ok(taskOf(id), 'the window made a task for it'), { timeout: 20_000 });
    const run = await ended(id);
    assert.strictEqual(run.status, 'succeeded', run.error ?? '');
    assert.ok(run.versionRef);
  });
});

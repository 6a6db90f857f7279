// "Import as Model" inside the real extension host: the command, the registry on disk, the tree.
import * as assert from 'assert';
import { execFile, execFileSync } from 'child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import * as vscode from 'vscode';
import { importTrainingOutput, type VersionRecord } from '../../src/core';
import { formatMetric } from '../../src/shared/format';
import type { ComparePanel } from '../../src/extension/compare/comparePanel';
import { acceptingPicks, api, child, eventually, labels, nextEvent, workspace } from './helpers';

const repoRoot = path.resolve(__dirname, '../../..');

describe('Import as Model', () => {
  // outputs/run1 has a checkpoint-50 folder: take the final weights without asking (checkpoints.test.ts asks).
  const settings = () => vscode.workspace.getConfiguration('modelRegistry');
  before(() => settings().update('import.checkpoints', 'final', vscode.ConfigurationTarget.Global));
  after(() => settings().update('import.checkpoints', undefined, vscode.ConfigurationTarget.Global));
  it('imports a training output folder and shows it as run1 → v1 → Files / Metrics / Parameters / Source', async () => {
    const a = await api();
    const out = vscode.Uri.file(path.join(workspace(), 'outputs', 'run1'));
    // With other models in the registry (earlier suites) it asks which: none is run1's, so Enter takes
    // "New model…" and then the folder's name.
    const version = (await acceptingPicks(
      vscode.commands.executeCommand('modelRegistry.importOutput', out),
    )) as VersionRecord;
    assert.ok(version, 'the command returned the new version');
    assert.strictEqual(version.ref, 'run1@v1');
    assert.strictEqual(version.format, 'safetensors');

    const model = await child(a, undefined, 'run1');
    const v1 = await child(a, model, 'v1');
    const item = a.tree.getTreeItem(v1);
    assert.match(String(item.description), /safetensors/);
    assert.deepStrictEqual(await labels(a, v1), ['Files', 'Metrics', 'Parameters', 'Source']);
    const lr = a.tree.getTreeItem(await child(a, await child(a, v1, 'Parameters'), 'learning_rate'));
    assert.deepStrictEqual(
      [lr.description, lr.tooltip],
      ['0.00005', 'learning_rate = 0.00005\nfrom training_args.json'],
    );

    const files = await labels(a, await child(a, v1, 'Files'));
    assert.ok(files.includes('model.safetensors'), `files: ${files}`);
    assert.ok(files.includes('trainer_state.json'), `files: ${files}`);

    const metrics = await child(a, v1, 'Metrics');
    const loss = await child(a, metrics, 'loss');
    const state = JSON.parse(readFileSync(path.join(workspace(), 'outputs', 'run1', 'trainer_state.json'), 'utf8'));
    const lastLoss = state.log_history.filter((e: Record<string, number>) => 'loss' in e).at(-1).loss;
    assert.strictEqual(a.tree.getTreeItem(loss).description, formatMetric(lastLoss));
    const accuracy = await child(a, metrics, 'eval_accuracy');
    assert.strictEqual(a.tree.getTreeItem(accuracy).description, `${formatMetric(state.best_metric)} (best)`);

    const source = await child(a, v1, 'Source');
    const commit = await child(a, source, 'commit');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: workspace(), encoding: 'utf8' }).trim();
    assert.ok(
      String(a.tree.getTreeItem(commit).description).startsWith(head.slice(0, 10)),
      'Source shows the workspace commit',
    );
  });

  it('the same files again import nothing: asked, "Open v1" reveals and selects run1@v1 in the Models view', async () => {
    const a = await api();
    const out = vscode.Uri.file(path.join(workspace(), 'outputs', 'run1'));
    // Asked which model, Enter takes run1 (the folder went there). Unanswered, the question ("Same files
    // as run1@v1.") waits in a notification and nothing is imported.
    assert.deepStrictEqual(await acceptingPicks(vscode.commands.executeCommand('modelRegistry.importOutput', out)), []);
    const opened = (await acceptingPicks(
      vscode.commands.executeCommand('modelRegistry.importOutput', out, undefined, 'Open v1'),
    )) as VersionRecord;
    assert.strictEqual(opened?.ref, 'run1@v1');
    const selected = a.view.selection[0];
    assert.strictEqual(selected?.kind === 'version' && selected.version.ref, 'run1@v1');
    assert.deepStrictEqual(await labels(a, await child(a, undefined, 'run1')), ['v1']);
  });

  it('"Import a Copy" adds v2 to the same model (files deduplicated)', async () => {
    const a = await api();
    const out = vscode.Uri.file(path.join(workspace(), 'outputs', 'run1'));
    const version = (await acceptingPicks(
      vscode.commands.executeCommand('modelRegistry.importOutput', out, undefined, 'Import a Copy'),
    )) as VersionRecord;
    assert.strictEqual(version.ref, 'run1@v2');
    const registry = await a.service.get();
    const [f1, f2] = [await registry.files(version.id - 1), await registry.files(version.id)];
    assert.deepStrictEqual(
      f2.map((f) => f.sha256),
      f1.map((f) => f.sha256),
    );
    assert.deepStrictEqual(await labels(a, await child(a, undefined, 'run1')), ['v2', 'v1']);
  });

  it('opens the commit of a version in an editor', async () => {
    const a = await api();
    const v1 = await child(a, await child(a, undefined, 'run1'), 'v1');
    await vscode.commands.executeCommand('modelRegistry.openCommit', v1);
    const doc = vscode.window.activeTextEditor?.document;
    assert.ok(doc, 'an editor opened');
    assert.strictEqual(doc.uri.scheme, 'modelreg-commit');
    assert.match(doc.getText(), /^commit [0-9a-f]{40}/);
  });

  it('reads commits only from the workspace repository, whatever folder a commit URI names', async () => {
    // A repository outside the workspace, as an archive's or a database's `git.root` could name it.
    const other = mkdtempSync(path.join(os.tmpdir(), 'modelreg-other-'));
    const run = (...args: string[]) => execFileSync('git', args, { cwd: other, encoding: 'utf8' }).trim();
    run('init', '-q');
    writeFileSync(path.join(other, 'secret.txt'), 'not in the workspace\n');
    run('add', '-A');
    run('-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '-q', '-m', 'Elsewhere');
    const foreign = run('rev-parse', 'HEAD');
    const at = (commit: string) =>
      vscode.Uri.from({
        scheme: 'modelreg-commit',
        path: `/${commit}.diff`,
        query: new URLSearchParams({ root: other }).toString(),
      });
    await assert.rejects(Promise.resolve(vscode.workspace.openTextDocument(at(foreign))), /is not in/);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: workspace(), encoding: 'utf8' }).trim();
    const doc = await vscode.workspace.openTextDocument(at(head));
    assert.match(
      doc.getText(),
      new RegExp(`^commit ${head}`),
      'the workspace commit, though the URI names another folder',
    );
    rmSync(other, { recursive: true, force: true });
  });

  it('refreshes the tree when the CLI changes the registry from another process', async () => {
    const a = await api();
    const changed = nextEvent(a.tree.onDidChangeTreeData, 15000, 'the tree did not refresh within 15000 ms');
    await promisify(execFile)(
      process.execPath,
      [
        path.join(repoRoot, 'dist', 'cli.js'),
        'import',
        path.join(workspace(), 'outputs', 'run1'),
        '--model',
        'from-cli',
      ],
      {
        cwd: workspace(),
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      },
    );
    await changed;
    assert.ok((await labels(a)).includes('from-cli'));
  });

  it('a folder of images in class folders is asked about: "Register as Dataset…" registers it, "Import Anyway" imports it', async () => {
    const a = await api();
    const pngs = path.join(workspace(), 'outputs', 'pngs');
    for (const cls of ['red', 'blue']) {
      mkdirSync(path.join(pngs, cls), { recursive: true });
      copyFileSync(
        path.join(workspace(), 'datasets', 'colours', 'test', cls, `${cls}-0.png`),
        path.join(pngs, cls, `${cls}-0.png`),
      );
    }
    const uri = vscode.Uri.file(pngs);
    // With a model in the registry, an import with weights would ask which model it goes into.
    const registry = await a.service.get();
    if ((await registry.listModels()).length === 0)
      await importTrainingOutput(registry, path.join(workspace(), 'outputs', 'resnet-cifar'), {
        model: 'resnet-cifar',
      });
    a.tree.refresh();
    const before = await labels(a);
    // Unanswered, the modal question would block: the seam answers it (see importAndAnnounce). Models
    // exist, but a folder without weights is not asked "which model?" first: a QuickPick would hang here.
    const unasked = async <T>(run: Thenable<T>): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      const asked = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void vscode.commands.executeCommand('workbench.action.closeQuickOpen');
          reject(new Error('the import asked something before saying the folder has no weights'));
        }, 20_000);
      });
      try {
        return await Promise.race([Promise.resolve(run), asked]);
      } finally {
        clearTimeout(timer);
      }
    };
    const cancelled = await unasked(
      vscode.commands.executeCommand('modelRegistry.importOutput', uri, undefined, 'Cancel'),
    );
    assert.deepStrictEqual(cancelled, []);
    assert.deepStrictEqual(await labels(a), before, 'nothing imported');

    const dataset = await unasked(
      vscode.commands.executeCommand<{ name: string; kind: string; sampleCount: number }>(
        'modelRegistry.importOutput',
        uri,
        undefined,
        'Register as Dataset…',
      ),
    );
    assert.deepStrictEqual([dataset?.name, dataset?.kind, dataset?.sampleCount], ['pngs', 'image-folder', 2]);
    assert.deepStrictEqual(await labels(a), before, 'registered as a dataset, not a model');

    const anyway = (await unasked(
      vscode.commands.executeCommand('modelRegistry.importOutput', uri, undefined, 'Import Anyway'),
    )) as VersionRecord;
    assert.strictEqual(anyway?.ref, 'pngs@v1');
    assert.strictEqual(anyway.format, null);
    await (await a.service.get()).deleteVersion('pngs@v1');
    a.tree.refresh();
  });

  it('reports a corrupt weights file and registers nothing', async () => {
    const a = await api();
    const before = await labels(a);
    const bad = vscode.Uri.file(path.join(workspace(), 'outputs', 'broken'));
    const result = await acceptingPicks(vscode.commands.executeCommand('modelRegistry.importOutput', bad));
    assert.deepStrictEqual(result, []);
    assert.deepStrictEqual(await labels(a), before);
  });

  it('a second run is proposed as the next version of its model; the folder remembers the model picked for it', async () => {
    const a = await api();
    const registry = await a.service.get();
    const outputs = path.join(workspace(), 'outputs');
    // The model outputs/resnet-cifar went into last (other suites import it under names of their own).
    const first = path.join(outputs, 'resnet-cifar');
    const model =
      (await registry.importEvidence(first, 0))[0]?.model ??
      (await importTrainingOutput(registry, first, { model: 'resnet-cifar' })).model;
    // outputs/resnet-lr05: the same Lightning run with another learning rate.
    const lr05 = path.join(outputs, 'resnet-lr05');
    cpSync(path.join(outputs, 'resnet-cifar'), lr05, { recursive: true });
    const hparams = path.join(lr05, 'lightning_logs', 'version_0', 'hparams.yaml');
    writeFileSync(hparams, readFileSync(hparams, 'utf8').replace(/^lr: .*$/m, 'lr: 0.05'));
    const uri = vscode.Uri.file(lr05);
    // Enter takes the first item: that model, above "New model…".
    const v2 = (await acceptingPicks(
      vscode.commands.executeCommand('modelRegistry.importOutput', uri),
    )) as VersionRecord;
    assert.strictEqual(v2?.model, model, `a new version of ${model}, not a model resnet-lr05`);
    assert.ok(!(await labels(a)).includes('resnet-lr05'));

    // Put into another model (the seam answers the QuickPick), the folder goes there next time.
    const mine = (await vscode.commands.executeCommand('modelRegistry.importOutput', uri, undefined, {
      model: 'lr05-mine',
    })) as VersionRecord;
    assert.strictEqual(mine?.ref, 'lr05-mine@v1');
    writeFileSync(path.join(lr05, 'notes.txt'), 'second try\n');
    const again = (await acceptingPicks(
      vscode.commands.executeCommand('modelRegistry.importOutput', uri),
    )) as VersionRecord;
    assert.strictEqual(again?.ref, 'lr05-mine@v2');
    for (const ref of ['lr05-mine@v2', 'lr05-mine@v1', v2.ref]) await registry.deleteVersion(ref);
    a.tree.refresh();
  });

  it('several selected folders import under one progress, asking nothing; one summary, and Compare these opens them', async () => {
    const a = await api();
    const outputs = path.join(workspace(), 'outputs');
    // Two more runs of resnet-cifar (learning rates 0.2 and 0.3), and a corrupt output.
    const runs = ['batch-lr2', 'batch-lr3'].map((name, i) => {
      const dir = path.join(outputs, name);
      cpSync(path.join(outputs, 'resnet-cifar'), dir, { recursive: true });
      const hparams = path.join(dir, 'lightning_logs', 'version_0', 'hparams.yaml');
      writeFileSync(hparams, readFileSync(hparams, 'utf8').replace(/^lr: .*$/m, `lr: 0.${i + 2}`));
      return vscode.Uri.file(dir);
    });
    // The first run has a checkpoint folder: a batch takes the final weights and says so.
    mkdirSync(path.join(runs[0].fsPath, 'checkpoint-10'));
    copyFileSync(path.join(runs[0].fsPath, 'model.onnx'), path.join(runs[0].fsPath, 'checkpoint-10', 'model.onnx'));
    const selected = [...runs, vscode.Uri.file(path.join(outputs, 'broken'))];
    // Explorer's arguments: (clicked, all selected); the third presses the summary's button.
    const result = (await vscode.commands.executeCommand(
      'modelRegistry.importOutput',
      selected[0],
      selected,
      'Compare these',
    )) as { versions: VersionRecord[]; summary: string; opened?: ComparePanel };
    const [first, second] = result.versions;
    assert.strictEqual(result.versions.length, 2);
    assert.strictEqual(second.model, first.model, 'the second run went into the same model as the first');
    assert.strictEqual(second.number, first.number + 1);
    assert.match(
      result.summary,
      new RegExp(
        `^Imported 2 runs: ${first.model}@v${first.number}…v${second.number}; final weights only, checkpoint folders left out of outputs/batch-lr2 \\(1\\): import one alone to choose; 1 failed: outputs/broken \\(Truncated: tensor 'w' ends at byte \\d+ but the file has \\d+ bytes \\(outputs/broken/model\\.safetensors\\)\\)\\.$`,
      ),
    );
    const recorded = first.details.checkpoints as { included: string; found: { name: string }[] };
    assert.deepStrictEqual(
      [recorded.included, recorded.found.map((c) => c.name)],
      ['final', ['checkpoint-10']],
      'the checkpoint folder was found and left out',
    );
    const panel = result.opened;
    assert.ok(panel, 'Compare these opened the compare panel');
    await eventually(
      () =>
        assert.deepStrictEqual(
          panel.lastPosted?.versions.map((v) => v.ref),
          [first.ref, second.ref],
        ),
      { timeout: 20_000, message: 'the panel compares the imported versions' },
    );
    panel.dispose();
    const registry = await a.service.get();
    for (const v of [second, first]) await registry.deleteVersion(v.ref);
    a.tree.refresh();
  });

  it('deletes a version through the registry and the tree follows', async () => {
    const a = await api();
    const registry = await a.service.get();
    await registry.deleteVersion('from-cli@v1');
    a.tree.refresh();
    assert.ok(!(await labels(a)).includes('from-cli'));
  });
});

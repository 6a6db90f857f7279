// The config.json language server inside the real extension host: diagnostics, quick fixes,
// template pick-up without reload, crash restart, and Import from Template end to end.
import * as assert from 'assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TreeNode } from '../../src/extension/registry/treeNodes';
import type { VersionRecord } from '../../src/core';
import { serverInfoRequest } from '../../src/shared/configProtocol';
import { api, eventually, nextEvent, sleep, workspace } from './helpers';

const SOURCE = 'Model Registry';

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === SOURCE);
}

/** Waits until our diagnostics for `uri` satisfy `ok` (they arrive from the server asynchronously). */
async function diagnosticsUntil(
  uri: vscode.Uri,
  ok: (ds: vscode.Diagnostic[]) => boolean,
  what: string,
  ms = 20000,
): Promise<vscode.Diagnostic[]> {
  if (ok(ours(uri))) return ours(uri);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(
        new Error(`timed out waiting for ${what}; diagnostics now: ${JSON.stringify(ours(uri).map((d) => d.message))}`),
      );
    }, ms);
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (!e.uris.some((u) => u.toString() === uri.toString()) || !ok(ours(uri))) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(ours(uri));
    });
  });
}

/** VS Code cancels a code action request when the document changes meanwhile (a reload from disk after the open); ask again then. */
async function quickFixes(uri: vscode.Uri, range: vscode.Range): Promise<vscode.CodeAction[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        uri,
        range,
        vscode.CodeActionKind.QuickFix.value,
      );
    } catch (e) {
      if ((e as Error).message !== 'Canceled' || attempt === 3) throw e;
      await sleep(500);
    }
  }
}

function modelFolder(name: string, files: Record<string, string> = {}): string {
  const dir = path.join(workspace(), 'models', name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(workspace(), 'models', 'squeezenet', 'squeezenet.onnx'), path.join(dir, 'model.onnx'));
  for (const [n, text] of Object.entries(files)) writeFileSync(path.join(dir, n), text);
  return dir;
}

const BAD_CONFIG = `{
  "$template": "image-classification",
  "model_type": "PyTorch",
  "model_algorithm": "image_classification",
  "metrics": { "accuracy": 93.5 },
  "registry": { "files": ["missing.onnx"] }
}
`;

describe('config.json language server', () => {
  it('reports schema and semantic problems with their ranges, and applies a quick fix', async () => {
    await api();
    const dir = modelFolder('bad-config', { 'config.json': BAD_CONFIG });
    const uri = vscode.Uri.file(path.join(dir, 'config.json'));
    await vscode.window.showTextDocument(uri);
    const ds = await diagnosticsUntil(uri, (d) => d.length >= 3, 'three diagnostics on the bad config');

    const byCode = (code: string) => ds.find((d) => d.code === code);
    const mismatch = byCode('model-type-mismatch');
    assert.ok(mismatch, JSON.stringify(ds.map((d) => d.message)));
    assert.match(mismatch.message, /model_type is "PyTorch", but the model file/);
    assert.deepStrictEqual(
      [mismatch.range.start.line, mismatch.range.start.character, mismatch.range.end.character],
      [2, 16, 25],
    );
    const metric = byCode('metric-range')!;
    assert.match(metric.message, /metrics.accuracy is 93.5/);
    assert.deepStrictEqual([metric.range.start.line, metric.range.start.character], [4, 27]);
    const missing = byCode('missing-file')!;
    assert.match(missing.message, /"missing.onnx" does not exist beside config.json/);
    assert.strictEqual(missing.range.start.line, 5);
    assert.strictEqual(missing.severity, vscode.DiagnosticSeverity.Error);

    const actions = await quickFixes(uri, metric.range);
    const fix = actions.find((a) => a.title === 'Write accuracy as a proportion: 0.935');
    assert.ok(fix?.edit, `quick fixes offered: ${actions.map((a) => a.title)}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    await diagnosticsUntil(
      uri,
      (d) => !d.some((x) => x.code === 'metric-range') && d.some((x) => x.code === 'model-type-mismatch'),
      'the metric problem to go',
    );
    assert.match(vscode.window.activeTextEditor!.document.getText(), /"accuracy": 0.935/);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('checks a hand-written ModelArts config.json (model_algorithm, apis) without $template', async () => {
    const text =
      '{\n  "model_algorithm": "image_classification",\n  "model_type": "PyTorch",\n  "metrics": { "accuracy": 93.5 },\n  "apis": []\n}\n';
    const uri = vscode.Uri.file(path.join(modelFolder('modelarts', { 'config.json': text }), 'config.json'));
    await vscode.workspace.openTextDocument(uri);
    const ds = await diagnosticsUntil(
      uri,
      (d) => d.some((x) => x.code === 'metric-range'),
      'the ModelArts config to be checked',
    );
    assert.match(ds.find((d) => d.code === 'metric-range')!.message, /metrics.accuracy is 93.5/);
  });

  it("checks a modelreg.json: the schema, and placeholders in the CLI's words; completes ${param:", async () => {
    const dir = path.join(workspace(), 'recipe-check');
    mkdirSync(dir, { recursive: true });
    const text =
      '{\n  "train": {\n    "s": {\n      "command": ["python3", "--lr=${param:lrr}", "--out=${"],\n      "params": { "lr": 0.1 },\n      "cmd": []\n    }\n  }\n}\n';
    const file = path.join(dir, 'modelreg.json');
    writeFileSync(file, text);
    const uri = vscode.Uri.file(file);
    await vscode.workspace.openTextDocument(uri);
    const ds = await diagnosticsUntil(
      uri,
      (d) => d.some((x) => x.code === 'placeholder') && d.some((x) => /cmd is not allowed/.test(x.message)),
      'the recipe file to be checked',
    );
    const unknown = ds.find((d) => /lrr/.test(d.message))!;
    assert.strictEqual(unknown.message, "recipe 's': command: ${param:lrr} names no parameter (params: lr)");
    assert.strictEqual(unknown.range.start.line, 3);
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      uri,
      new vscode.Position(3, text.split('\n')[3].indexOf('--out=${') + '--out=${'.length),
    );
    const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(
      ['output', 'run', 'param:'].every((l) => labels.includes(l)),
      JSON.stringify(labels),
    );
  });

  it('leaves JSON without $template alone (a Hugging Face config.json)', async () => {
    const dir = modelFolder('hf-model', { 'config.json': '{ "model_type": "bert", "hidden_size": 768 }\n' });
    const hf = vscode.Uri.file(path.join(dir, 'config.json'));
    await vscode.workspace.openTextDocument(hf);
    // The server answers in order: once a later model config has its diagnostics, the HF one has been seen.
    const probe = vscode.Uri.file(
      path.join(
        modelFolder('probe', { 'config.json': '{ "$template": "image-classification", "model_type": 1 }\n' }),
        'config.json',
      ),
    );
    await vscode.workspace.openTextDocument(probe);
    await diagnosticsUntil(probe, (d) => d.length > 0, 'diagnostics on the probe');
    assert.deepStrictEqual(ours(hf), []);
  });

  it('picks up a workspace template without a reload', async () => {
    const dir = modelFolder('tabular', { 'config.json': '{\n  "$template": "tabular",\n  "model_type": "ONNX"\n}\n' });
    const uri = vscode.Uri.file(path.join(dir, 'config.json'));
    await vscode.workspace.openTextDocument(uri);
    await diagnosticsUntil(
      uri,
      (d) => d.some((x) => /Unknown template "tabular"/.test(x.message)),
      'the unknown template',
    );
    const folder = path.join(workspace(), '.modelreg', 'templates', 'tabular');
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      path.join(folder, 'template.json'),
      JSON.stringify({ id: 'tabular', title: 'Tabular', defaults: { model_type: 'ONNX' } }),
    );
    await diagnosticsUntil(uri, (d) => d.length === 0, 'the template to be known');
  });

  it('restarts the server when it crashes, and diagnostics come back', async () => {
    const client = (await (await api()).configClient)!;
    const before = await client.sendRequest(serverInfoRequest);
    const dir = modelFolder('after-crash', {
      'config.json': '{\n  "$template": "image-classification",\n  "model_type": "ONNX"\n}\n',
    });
    const uri = vscode.Uri.file(path.join(dir, 'config.json'));
    process.kill(before.pid, 'SIGKILL');
    await eventually(
      async () => {
        const after = await client.sendRequest(serverInfoRequest).then(
          (x) => (x.pid !== before.pid ? x : undefined),
          () => undefined,
        );
        assert.ok(after, 'a new server process answered');
      },
      { timeout: 20_000, interval: 200 },
    );
    const editor = await vscode.window.showTextDocument(uri);
    await editor.edit((e) => e.replace(new vscode.Range(2, 16, 2, 22), '"Keras"'));
    await diagnosticsUntil(
      uri,
      (d) => d.some((x) => /Value is not accepted/.test(x.message)),
      'diagnostics from the restarted server',
    );
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('Import from Template: generates config.json, imports it, and the version shows it', async () => {
    const a = await api();
    const dir = modelFolder('mobilenet', { 'labels.txt': 'a\nb\n' });
    const uri = await vscode.commands.executeCommand<vscode.Uri>(
      'modelRegistry.importFromTemplate',
      vscode.Uri.file(dir),
      'image-classification',
    );
    assert.strictEqual(uri?.fsPath, path.join(dir, 'config.json'));
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, uri.fsPath);
    const config = JSON.parse(readFileSync(uri.fsPath, 'utf8'));
    assert.strictEqual(config.model_type, 'ONNX');
    await diagnosticsUntil(uri, (d) => d.length === 0, 'a clean generated config');

    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    assert.ok(
      lenses.some((l) => l.command?.command === 'modelRegistry.importConfig'),
      'the Import as Model lens',
    );

    const version = (await vscode.commands.executeCommand('modelRegistry.importConfig', uri)) as VersionRecord;
    assert.strictEqual(version.ref, 'mobilenet@v1');
    assert.strictEqual(version.config?.templateId, 'image-classification');
    const models = await a.tree.getChildren();
    const model = models.find((m) => m.kind === 'model' && m.model.name === 'mobilenet')!;
    const v1 = (await a.tree.getChildren(model))[0];
    const children = await a.tree.getChildren(v1);
    const configNode = children.find((c) => c.kind === 'config') as TreeNode;
    assert.ok(configNode, 'a config.json node under the version');
    const item = a.tree.getTreeItem(configNode);
    assert.strictEqual(item.description, 'image-classification');
    const stored = await vscode.workspace.openTextDocument(item.command!.arguments![0] as vscode.Uri);
    assert.strictEqual(stored.getText(), readFileSync(uri.fsPath, 'utf8'));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Import from Template on a folder offers the template that fits it first (model.onnx + labels.txt)', async () => {
    const dir = modelFolder('fits-first', { 'labels.txt': 'cat\ndog\n' });
    // No template id: the picker shows, and Enter takes its first item.
    let done = false;
    const run = Promise.resolve(
      vscode.commands.executeCommand<vscode.Uri>('modelRegistry.importFromTemplate', vscode.Uri.file(dir)),
    ).finally(() => (done = true));
    await eventually(
      async () => {
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        assert.ok(done, 'the picker was answered');
      },
      { timeout: 10_000 },
    );
    const uri = await run;
    assert.strictEqual(JSON.parse(readFileSync(uri.fsPath, 'utf8')).$template, 'image-classification');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it("completion in the editor: the weights' framework preselected for model_type, JSON Schema keywords in an API schema", async () => {
    const dir = modelFolder('completes', { 'labels.txt': 'cat\n' });
    const uri = await vscode.commands.executeCommand<vscode.Uri>(
      'modelRegistry.importFromTemplate',
      vscode.Uri.file(dir),
      'image-classification',
    );
    const editor = vscode.window.activeTextEditor!;
    const line = editor.document
      .getText()
      .split('\n')
      .findIndex((l) => l.includes('"model_type"'));
    const valueStart = editor.document.lineAt(line).text.indexOf(': ') + 2;
    // Empty the value as a user about to pick one would: "model_type": "|",
    await editor.edit((e) =>
      e.replace(new vscode.Range(line, valueStart, line, editor.document.lineAt(line).text.length), '"",'),
    );
    const complete = async (at: vscode.Position) => {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>(
        'vscode.executeCompletionItemProvider',
        uri,
        at,
      );
      return list.items.map((i) => ({
        label: typeof i.label === 'string' ? i.label : i.label.label,
        preselect: i.preselect,
      }));
    };
    await eventually(
      async () => {
        const items = await complete(new vscode.Position(line, valueStart + 1));
        assert.deepStrictEqual(
          items.filter((i) => i.preselect).map((i) => i.label),
          ['"ONNX"'],
          `preselected among ${items.map((i) => i.label)}`,
        );
      },
      { timeout: 20_000 },
    );
    const dataLine = editor.document
      .getText()
      .split('\n')
      .findIndex((l) => l.includes('"data": {'));
    const inData = (await complete(new vscode.Position(dataLine, editor.document.lineAt(dataLine).text.length))).map(
      (i) => i.label,
    );
    for (const key of ['additionalProperties', 'items', 'enum', 'format'])
      assert.ok(inData.includes(key), `${key} in ${inData}`);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('refuses to import a config with errors and imports nothing', async () => {
    const a = await api();
    const dir = modelFolder('refused', {
      'config.json':
        '{\n  "$template": "image-classification",\n  "model_type": "ONNX",\n  "metrics": { "f1": 5 }\n}\n',
    });
    const result = await vscode.commands.executeCommand(
      'modelRegistry.importConfig',
      vscode.Uri.file(path.join(dir, 'config.json')),
    );
    assert.strictEqual(result, undefined);
    const models = await a.tree.getChildren();
    assert.ok(!models.some((m) => m.kind === 'model' && m.model.name === 'refused'));
  });
});

describe('config.json language server: settings and workspace folders, without a reload', () => {
  // A second workspace folder, added by the first test and removed at the end.
  const second = mkdtempSync(path.join(os.tmpdir(), 'modelreg-second-folder-'));
  const secondUri = vscode.Uri.file(second);
  const folderChange = () => nextEvent(vscode.workspace.onDidChangeWorkspaceFolders, 10_000, 'no folder change');

  after(async () => {
    await vscode.workspace
      .getConfiguration('modelRegistry', secondUri)
      .update('config.files', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    const index = vscode.workspace.workspaceFolders!.findIndex((f) => f.uri.fsPath === second);
    if (index > 0) {
      const removed = folderChange();
      vscode.workspace.updateWorkspaceFolders(index, 1);
      await removed;
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a workspace folder added later: a config.json in it is checked against that folder’s template', async () => {
    await api();
    const templateDir = path.join(second, '.modelreg', 'templates', 'second-folder');
    mkdirSync(templateDir, { recursive: true });
    writeFileSync(
      path.join(templateDir, 'template.json'),
      JSON.stringify({ id: 'second-folder', title: 'Second folder', defaults: { model_type: 'ONNX' } }),
    );
    copyFileSync(path.join(workspace(), 'models', 'squeezenet', 'squeezenet.onnx'), path.join(second, 'model.onnx'));
    writeFileSync(path.join(second, 'config.json'), '{\n  "$template": "second-folder",\n  "model_type": "ONNX"\n}\n');
    const uri = vscode.Uri.file(path.join(second, 'config.json'));
    await vscode.workspace.openTextDocument(uri);
    await diagnosticsUntil(
      uri,
      (d) => d.some((x) => /Unknown template "second-folder"/.test(x.message)),
      'the template unknown while its folder is not in the workspace',
    );
    const added = folderChange();
    assert.ok(
      vscode.workspace.updateWorkspaceFolders(vscode.workspace.workspaceFolders!.length, 0, { uri: secondUri }),
    );
    await added;
    await diagnosticsUntil(uri, (d) => d.length === 0, 'the second folder’s template to be known');
  });

  it('changing modelRegistry.config.files for a folder checks an open JSON file in it', async () => {
    mkdirSync(path.join(second, 'special'), { recursive: true });
    const plain = vscode.Uri.file(path.join(second, 'special', 'model.json'));
    writeFileSync(plain.fsPath, '{\n  "model_type": "ONNX",\n  "metrics": { "accuracy": 93.5 }\n}\n');
    await vscode.workspace.openTextDocument(plain);
    // The server answers in order: once a later model config has its diagnostics, the plain file has been seen.
    const probe = vscode.Uri.file(
      path.join(modelFolder('probe-second', { 'config.json': '{ "$template": 1 }\n' }), 'config.json'),
    );
    await vscode.workspace.openTextDocument(probe);
    await diagnosticsUntil(probe, (d) => d.length > 0, 'diagnostics on the probe');
    assert.deepStrictEqual(ours(plain), [], 'not a model config before the setting names it');

    await vscode.workspace
      .getConfiguration('modelRegistry', secondUri)
      .update('config.files', ['special/*.json'], vscode.ConfigurationTarget.WorkspaceFolder);
    const ds = await diagnosticsUntil(
      plain,
      (d) => d.some((x) => x.code === 'metric-range'),
      'the file checked once the folder’s setting names it',
    );
    assert.match(ds.find((d) => d.code === 'metric-range')!.message, /metrics.accuracy is 93.5/);
  });
});

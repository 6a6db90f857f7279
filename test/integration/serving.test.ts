// Serving from the editor, inside the real extension host: Deploy Locally… on a version (following
// its alias), the Deployments view with live numbers, the request panel sending an image and saving
// an example, a crashed server seen and restarted, Stop. The server is the real CLI in its own process.
import * as assert from 'assert';
import { writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { importTrainingOutput, type ServerProcess } from '../../src/core';
import type { ModelRegistryApi } from '../../src/extension/extension';
import type { RequestPanel } from '../../src/extension/serving/requestPanel';
import { solidPng } from '../unit/helpers/makeWeights';
import { api, eventually } from './helpers';

describe('Serving in the editor', function () {
  this.timeout(120_000);
  let a: ModelRegistryApi;
  let d: ServerProcess | undefined;
  before(async () => {
    a = await api();
    const registry = await a.service.get();
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    await importTrainingOutput(registry, path.join(root, 'outputs', 'colour-net'), { model: 'served-colours' });
    await registry.setAlias('served-colours@v1', 'production');
  });
  after(async () => {
    await d?.stop();
  });
  const row = (x: ServerProcess) => a.serving.tree.getTreeItem(x);

  it('Deploy Locally… on a version, following its alias: a ready row with URL and version, then live request counts', async () => {
    d = await vscode.commands.executeCommand<ServerProcess>('modelRegistry.deployLocally', 'served-colours@v1', {
      ref: 'served-colours@production',
      port: 0,
      maxBatch: 4,
      batchDelayMs: 1,
    });
    assert.ok(d, 'Deploy Locally returned the deployment');
    assert.strictEqual(d.status, 'ready', d.error);
    assert.ok(a.serving.tree.deployments.includes(d));
    assert.match(String(row(d).description), /^ready · 127\.0\.0\.1:\d+ · \d+:\d\d · 0 req · p50 – · p95 –$/);
    assert.strictEqual(row(d).contextValue, 'deployment.ready');
    const [served] = a.serving.tree.getChildren(d);
    assert.strictEqual(a.serving.tree.getTreeItem(served).label, 'served-colours v1');
    assert.match(String(a.serving.tree.getTreeItem(served).description), /follows served-colours@production/);
  });

  it('the request panel sends an image, shows the top class by label, and saves the example to the version', async () => {
    const panel = await vscode.commands.executeCommand<RequestPanel>('modelRegistry.openRequestPanel', d);
    assert.ok(panel, 'a request panel opened');
    assert.strictEqual(panel.target.endpoint, `${d!.url}/v2/models/served-colours/infer`, 'an alias is asked by name');
    const image = path.join(os.tmpdir(), `served-red-${process.pid}.png`);
    writeFileSync(image, solidPng([240, 20, 60], 16, 12));
    await panel.useImage(image);
    assert.deepStrictEqual(JSON.parse(panel.currentRequest).inputs[0].shape.length, 4);
    await panel.send(panel.currentRequest);
    assert.strictEqual(panel.lastAnswer?.status, 200, JSON.stringify(panel.lastAnswer?.body));
    const outputs = (panel.lastAnswer!.body as { outputs: { data: number[] }[] }).outputs;
    assert.ok(outputs[0].data[0] > outputs[0].data[2] && outputs[0].data[2] > outputs[0].data[1], 'red, then blue');

    await a.serving.tree.readMetrics();
    await eventually(() => assert.match(String(row(d!).description), / · 1 req · p50 [\d.]+ ms · p95 [\d.]+ ms$/));

    await panel.saveExample('red-square');
    const registry = await a.service.get();
    const [example] = await registry.examples((await registry.resolve('served-colours@v1')).id);
    assert.strictEqual(example.name, 'red-square');
    assert.deepStrictEqual(example.response.outputs, outputs);
    // A request the server refuses is shown, and is not savable.
    await panel.send('{"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]}');
    assert.strictEqual(panel.lastAnswer?.status, 400);
    await assert.rejects(panel.saveExample('bad'), /Send a request that is answered first/);
    panel.dispose();
  });

  it('a crashed server is shown as such with the reason; Restart brings it back; Stop stops it', async () => {
    process.kill(d!.pid!, 'SIGKILL');
    await eventually(() => assert.strictEqual(d!.status, 'crashed'));
    assert.match(String(row(d!).description), /^crashed · the server was killed \(SIGKILL\)/);
    assert.strictEqual(row(d!).contextValue, 'deployment.crashed');
    await vscode.commands.executeCommand('modelRegistry.restartDeployment', d);
    assert.strictEqual(d!.status, 'ready', d!.error);
    const res = await fetch(`${d!.url}/v2/health/ready`);
    assert.strictEqual(res.status, 200);
    await vscode.commands.executeCommand('modelRegistry.stopDeployment', d);
    assert.strictEqual(d!.status, 'stopped');
    assert.strictEqual(row(d!).contextValue, 'deployment.stopped');
    await vscode.commands.executeCommand('modelRegistry.removeDeployment', d);
    assert.ok(!a.serving.tree.deployments.includes(d!));
  });
});

// The context keys the Get Started walkthrough ticks its steps off by follow what the workspace
// registry holds, also when another process (the CLI) changes it.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { importTrainingOutput } from '../../src/core';
import { api, eventually } from './helpers';

describe('Walkthrough progress context keys', () => {
  it('equal what the registry holds, and follow an import', async () => {
    const a = await api();
    const registry = await a.service.get();
    await importTrainingOutput(
      registry,
      path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'outputs', 'resnet-cifar'),
      {
        model: 'walk-resnet',
      },
    );
    a.service.fireSoon();
    const want = await registry.progress();
    assert.strictEqual(want.imported, true);
    await eventually(
      () =>
        assert.deepStrictEqual(
          Object.fromEntries(Object.keys(want).map((k) => [k, a.contextValue(k as keyof typeof want)])),
          want,
        ),
      { timeout: 5_000 },
    );
  });
});

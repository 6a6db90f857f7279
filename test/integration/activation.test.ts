// The extension loads in a real VS Code, activates and registers its commands.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './helpers';

describe('activation', () => {
  it('is installed', () => {
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID), `${EXTENSION_ID} not found`);
  });

  it('activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await ext.activate();
    assert.strictEqual(ext.isActive, true);
  });

  it('registers its commands', async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)!.activate();
    const commands = new Set(await vscode.commands.getCommands(true));
    for (const id of ['modelRegistry.importOutput', 'modelRegistry.refresh']) {
      assert.ok(commands.has(id), `command ${id} is not registered`);
    }
  });

  it('opened the prepared workspace', () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder is open');
  });
});

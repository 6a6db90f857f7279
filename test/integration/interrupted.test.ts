// An import killed with SIGKILL (a real CLI child process) shows in the tree as interrupted, not as a
// spinner, and Clean Up Interrupted Import removes it.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TreeNode } from '../../src/extension/registry/treeNodes';
import { api } from './helpers';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

describe('An interrupted import in the tree', function () {
  this.timeout(120_000);

  it('a killed import shows as interrupted with Clean up, which removes it', async () => {
    const a = await api();
    await a.service.get(); // the registry exists before the CLI writes to it
    const registry = a.service.dir!;
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'modelreg-killed-'));
    const fd = fs.openSync(path.join(out, 'weights.bin'), 'w');
    fs.ftruncateSync(fd, 1 << 30); // sparse: slow to copy, nothing on disk until then
    fs.closeSync(fd);
    try {
      // weights.bin is no weights file the importer knows: --allow-no-weights, or the CLI refuses it at once.
      const args = [CLI, '--registry', registry, 'import', out, '--model', 'killed-import', '--allow-no-weights'];
      const child = spawn(process.execPath, args, {
        stdio: 'ignore',
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
      let ended = false;
      const closed = new Promise<void>((resolve) => child.on('close', () => ((ended = true), resolve())));
      const stamp = path.join(registry, 'last-change');
      // Reserved once the change stamp names the child; then kill it while it copies.
      while (!ended && !(fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').endsWith(` ${child.pid}`)))
        await new Promise((r) => setTimeout(r, 5));
      assert.ok(!ended, 'the import ended before it was killed');
      child.kill('SIGKILL');
      await closed;

      a.tree.refresh();
      const model = (await a.tree.getChildren()).find((n) => n.kind === 'model' && n.model.name === 'killed-import');
      assert.ok(model, 'the model of the killed import is listed');
      const [version] = await a.tree.getChildren(model);
      const item = a.tree.getTreeItem(version);
      assert.strictEqual(item.contextValue, 'version.interrupted');
      assert.match(String(item.description), /^interrupted/);
      assert.strictEqual((item.iconPath as vscode.ThemeIcon).id, 'debug-disconnect');

      await vscode.commands.executeCommand('modelRegistry.cleanUpImport', version as TreeNode);
      const r = await a.service.get();
      assert.deepStrictEqual(await r.listVersions('killed-import'), []);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

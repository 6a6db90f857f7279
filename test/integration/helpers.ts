// What the integration suites share: the extension's API, the workspace folder, and finding or
// waiting for nodes in a registry tree (the Models view or the Team Registry view).
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { ModelRegistryApi } from '../../src/extension/extension';
import type { RegistryTreeProvider } from '../../src/extension/registry/registryTree';
import type { TreeNode } from '../../src/extension/registry/treeNodes';
import { eventually } from '../helpers/eventually';

export { eventually, sleep } from '../helpers/eventually';

export const EXTENSION_ID = 'modelreg.model-registry';

/** The extension's API (activating it if needed). */
export async function api(): Promise<ModelRegistryApi> {
  return (await vscode.extensions.getExtension<ModelRegistryApi>(EXTENSION_ID)!.activate()) as ModelRegistryApi;
}

/** The path of the first workspace folder (the sample workspace the driver opens). */
export function workspace(): string {
  return vscode.workspace.workspaceFolders![0].uri.fsPath;
}

/** Either tree: `api()` itself for the Models view, `api().team` for the Team Registry view. */
export interface HasTree {
  tree: RegistryTreeProvider;
}

export async function labels({ tree }: HasTree, parent?: TreeNode): Promise<string[]> {
  return (await tree.getChildren(parent)).map((c) => String(tree.getTreeItem(c).label));
}

/** The child of `parent` (the root when undefined) labelled `label`, now; fails naming what is there. */
export async function child({ tree }: HasTree, parent: TreeNode | undefined, label: string): Promise<TreeNode> {
  const children = await tree.getChildren(parent);
  const found = children.find((c) => tree.getTreeItem(c).label === label);
  assert.ok(
    found,
    `no '${label}' under ${parent ? tree.getTreeItem(parent).label : 'the root'}: ${children.map((c) => tree.getTreeItem(c).label)}`,
  );
  return found;
}

/** Like `child`, for a node that appears once the tree has refreshed. */
export function waitForChild(
  a: HasTree,
  parent: TreeNode | undefined,
  label: string,
  timeout = 3_000,
): Promise<TreeNode> {
  return eventually(() => child(a, parent, label), { timeout });
}

/** Resolves when `event` next fires; rejects with `message` after `ms`. */
export function nextEvent(event: vscode.Event<unknown>, ms: number, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(message));
    }, ms);
    const sub = event(() => {
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

/**
 * Runs a command that may show a QuickPick (or an input box after it) and accepts the selected item,
 * as Enter does, until the command returns; closes what is still open if it never does.
 */
export async function acceptingPicks<T>(run: Thenable<T>): Promise<T> {
  let done = false;
  const result = Promise.resolve(run).finally(() => (done = true));
  try {
    await eventually(
      async () => {
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        assert.ok(done, 'the command finished once its QuickPick was answered');
      },
      { timeout: 10_000 },
    );
  } finally {
    if (!done) await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  }
  return result;
}

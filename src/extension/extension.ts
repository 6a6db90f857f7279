import * as vscode from 'vscode';
import { registerVersionCommands } from './commands/versionCommands';
import { registerCompareCommands } from './compare/compareCommands';
import { registerImportCommands } from './importing/importCommands';
import { RegistryService } from './registry/registryService';
import { RegistryTreeProvider } from './registry/registryTree';
import { TreeNode } from './registry/treeNodes';

/** What activate() returns: used by the integration tests and by other extensions. */
export interface ModelRegistryApi {
  service: RegistryService;
  tree: RegistryTreeProvider;
}

export function activate(context: vscode.ExtensionContext): ModelRegistryApi {
  const service = new RegistryService();
  const tree = new RegistryTreeProvider(service);
  const view = vscode.window.createTreeView<TreeNode>('modelRegistry.models', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  context.subscriptions.push(
    service,
    tree,
    view,
    ...registerImportCommands(service, tree, view),
    ...registerVersionCommands(service, tree, view),
    ...registerCompareCommands(context, service, view),
  );
  return { service, tree };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

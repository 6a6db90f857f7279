import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { registerConvertCommands } from './convert/convertCommands';
import { registerEvaluateCommands } from './evaluation/evaluateCommands';
import { registerEvaluationPanel } from './evaluation/evaluationPanel';
import { registerLifecycleCommands } from './lifecycle/lifecycleCommands';
import { registerVersionCommands } from './lifecycle/versionCommands';
import { registerCompareCommands } from './compare/compareCommands';
import { startConfigClient } from './config/configClient';
import { registerStoredConfigs } from './config/storedConfig';
import { registerTemplateCommands } from './config/templateCommands';
import { log } from './errors';
import { outputChannels } from './outputChannels';
import { registerImportCommands } from './importing/importCommands';
import { registerObjectStorageCommands } from './importing/objectStorageCommands';
import { registerLineageCommands } from './lineage/lineagePanel';
import { RegistryService } from './registry/registryService';
import { registryStatusBar } from './registry/statusBar';
import { registryProgressContext } from './registry/progressContext';
import { RegistryTreeProvider } from './registry/registryTree';
import { TeamRegistryService } from './registry/teamService';
import { registerTeamCommands } from './team/teamCommands';
import { TreeNode } from './registry/treeNodes';
import { CommandTargets } from './registry/registries';
import { contextValue } from './commands/register';
import { lastConfirmation } from './statusMessage';
import { registerTraining, Training } from './training/trainingCommands';
import { registerServing, Serving } from './serving/servingCommands';

/** What activate() returns: used by the integration tests and by other extensions. */
export interface ModelRegistryApi {
  service: RegistryService;
  tree: RegistryTreeProvider;
  view: vscode.TreeView<TreeNode>;
  team: { service: TeamRegistryService; tree: RegistryTreeProvider; view: vscode.TreeView<TreeNode> };
  /** The config.json language client, once its server has started. */
  configClient: Promise<LanguageClient | undefined>;
  /** The value the extension last gave a `when`-clause context key (CONTEXT_KEYS). */
  contextValue: typeof contextValue;
  /** The status bar confirmation last shown (Edit Tags, Edit Description, Archive…). */
  lastConfirmation: typeof lastConfirmation;
  /** The Runs view. */
  training: Training;
  /** The Deployments view and Deploy Locally. */
  serving: Serving;
}

export function activate(context: vscode.ExtensionContext): ModelRegistryApi {
  // The AWS SDK's "releases after January 2027 need Node 22" warning is noise for the version we ship.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const service = new RegistryService();
  const tree = new RegistryTreeProvider(service, 'local');
  const view = vscode.window.createTreeView<TreeNode>('modelRegistry.models', {
    treeDataProvider: tree,
    showCollapseAll: true,
    canSelectMany: true,
  });
  const teamService = new TeamRegistryService(context.secrets);
  const teamTree = new RegistryTreeProvider(teamService, 'team');
  const teamView = vscode.window.createTreeView<TreeNode>('modelRegistry.team', {
    treeDataProvider: teamTree,
    showCollapseAll: true,
    canSelectMany: true,
  });
  const local = { key: 'local', service, tree, view } as const;
  const team = { key: 'team', service: teamService, tree: teamTree, view: teamView } as const;
  const targets = new CommandTargets({ local, team });
  const { training, disposables: trainingDisposables } = registerTraining(context, targets);
  const { serving, disposables: servingDisposables } = registerServing(context, targets);
  context.subscriptions.push(
    outputChannels,
    service,
    tree,
    view,
    teamService,
    teamTree,
    teamView,
    ...registerTeamCommands(context, targets),
    ...registerImportCommands(service, tree, view),
    ...registerObjectStorageCommands(context, service, tree, view),
    ...registerVersionCommands(targets),
    ...registerLifecycleCommands(targets),
    ...registerConvertCommands(targets),
    ...registerEvaluationPanel(context, service),
    ...registerEvaluateCommands(context, targets),
    ...registerLineageCommands(context, targets),
    registryStatusBar(service),
    registryProgressContext(service),
    ...registerCompareCommands(context, targets),
    registerStoredConfigs(service),
    ...registerTemplateCommands(service, tree, view),
    ...trainingDisposables,
    ...servingDisposables,
  );
  const configClient = startConfigClient(context).catch((e: Error) => {
    log().appendLine(`The config.json language server did not start: ${e.stack ?? e.message}`);
    return undefined;
  });
  return { service, tree, view, team, configClient, contextValue, lastConfirmation, training, serving };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

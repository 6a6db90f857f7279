import * as vscode from 'vscode';
import { formatBytes, pullVersion, pushVersion, TransferResult, VersionRecord } from '../../core';
import { showError } from '../errors';
import { revealVersion } from '../importing/importCommands';
import { objectStorageConnection, withCredentials } from '../importing/objectStorageCommands';
import { withCancellableProgress } from '../progress';
import { RegistryService } from '../registry/registryService';
import { RegistryTreeProvider } from '../registry/registryTree';
import { TEAM_PASSWORD_KEY, TeamRegistryService } from '../registry/teamService';
import { TreeNode } from '../registry/treeNodes';

interface Views {
  local: { tree: RegistryTreeProvider; view: vscode.TreeView<TreeNode> };
  team: { tree: RegistryTreeProvider; view: vscode.TreeView<TreeNode> };
}

/**
 * Push a local version to the team registry, Pull a team version into the workspace's registry,
 * refresh the team view and enter its credentials. Push and Pull take the tree node or a reference
 * ("resnet@v3"), so tests and keybindings can run them without a selection.
 */
export function registerTeamCommands(context: vscode.ExtensionContext, local: RegistryService, team: TeamRegistryService, views: Views): vscode.Disposable[] {
  const refOf = (n: TreeNode | string | undefined, view: vscode.TreeView<TreeNode>) => {
    if (typeof n === 'string') return n;
    const node = n ?? view.selection[0];
    return node?.kind === 'version' ? node.version.ref : undefined;
  };

  const transfer = async (verb: 'Push' | 'Pull', ref: string): Promise<TransferResult | undefined> => {
    if (!team.exists()) {
      const c = await vscode.window.showErrorMessage('No team registry is set up for this workspace.', 'Configure Team Registry…');
      if (c) await vscode.commands.executeCommand('modelRegistry.configureTeam');
      return undefined;
    }
    try {
      const [mine, theirs] = await Promise.all([local.get(), team.get()]);
      const past = verb === 'Push' ? 'Pushed' : 'Pulled';
      const result = await withCancellableProgress(`${verb === 'Push' ? 'Pushing' : 'Pulling'} ${ref}`, `${verb} of ${ref} cancelled; nothing was recorded.`, (p) => {
        const opts = {
          signal: p.signal,
          onProgress: (t: { phase: string; ref: string; bytes: number; totalBytes: number }) =>
            t.phase === 'recording' ? p.say(`recording ${t.ref}…`) : p.advance(t.bytes, t.totalBytes, `${t.ref}: ${formatBytes(t.bytes)} of ${formatBytes(t.totalBytes)}`),
        };
        return verb === 'Push' ? pushVersion(mine, theirs, ref, opts) : pullVersion(theirs, mine, ref, opts);
      });
      if (!result) return undefined;
      (verb === 'Push' ? team : local).fireSoon();
      const where = verb === 'Push' ? 'the team registry' : 'this workspace';
      const what = result.copied.length === 0 ? `already in ${where} as ${result.version.ref}` : `${past} ${ref} → ${result.version.ref}${result.copied.length > 1 ? ` with ${result.copied.length - 1} ancestor(s)` : ''} (${result.objectsSent} files, ${formatBytes(result.bytesSent)} ${verb === 'Push' ? 'sent' : 'received'}; ${result.objectsSkipped} already there)`;
      void vscode.window.showInformationMessage(`${what.charAt(0).toUpperCase()}${what.slice(1)}.`, 'Reveal').then((c) => {
        if (c === 'Reveal') void reveal(verb === 'Push' ? views.team : views.local, result.version);
      });
      return result;
    } catch (e) {
      const message = (e as Error).message ?? '';
      if (/password|credentials|access denied|SignatureDoesNotMatch|InvalidAccessKeyId/i.test(message)) {
        // Credentials are the likely fix: offer to enter them.
        void vscode.window.showErrorMessage(`Could not ${verb.toLowerCase()} ${ref}: ${message}`, 'Enter Team Registry Credentials…').then((c) => {
          if (c) void vscode.commands.executeCommand('modelRegistry.teamCredentials');
        });
      } else showError(`Could not ${verb.toLowerCase()} ${ref}`, e);
      return undefined;
    }
  };

  return [
    vscode.commands.registerCommand('modelRegistry.pushVersion', async (n?: TreeNode | string) => {
      const ref = refOf(n, views.local.view);
      return ref ? transfer('Push', ref) : undefined;
    }),
    vscode.commands.registerCommand('modelRegistry.pullVersion', async (n?: TreeNode | string) => {
      const ref = refOf(n, views.team.view);
      return ref ? transfer('Pull', ref) : undefined;
    }),
    vscode.commands.registerCommand('modelRegistry.refreshTeam', () => team.reopen()),
    vscode.commands.registerCommand('modelRegistry.configureTeam', () => vscode.commands.executeCommand('workbench.action.openSettings', 'modelRegistry.team')),
    vscode.commands.registerCommand('modelRegistry.teamCredentials', async () => {
      const url = team.location;
      if (!url) return vscode.commands.executeCommand('modelRegistry.configureTeam');
      const password = await vscode.window.showInputBox({
        title: `Password for ${url}`,
        prompt: 'Stored in VS Code SecretStorage (the OS keychain). Leave empty to use PGPASSWORD or ~/.pgpass.',
        password: true,
        ignoreFocusOut: true,
      });
      if (password === undefined) return;
      if (password) await context.secrets.store(TEAM_PASSWORD_KEY(url), password);
      else await context.secrets.delete(TEAM_PASSWORD_KEY(url));
      const name = vscode.workspace.getConfiguration('modelRegistry.team').get<string>('connection');
      const c = name ? objectStorageConnection(name) : undefined;
      if (c) await withCredentials(context, c);
      await team.reopen();
    }),
  ];
}

async function reveal(where: Views['local'], v: VersionRecord): Promise<void> {
  await vscode.commands.executeCommand('workbench.view.extension.modelRegistry');
  await revealVersion(where.tree, where.view, v);
}

import * as vscode from 'vscode';
import { pullVersion, pushVersion, TransferResult, VersionRecord } from '../../core';
import { formatBytes } from '../../shared/format';
import { describeError, log, showError } from '../errors';
import { revealVersion } from '../importing/importCommands';
import { withCredentials } from '../importing/objectStorageCommands';
import { objectStorageConnection } from '../objectStorageConnections';
import { withCancellableProgress } from '../progress';
import { CommandTargets, RegistryView } from '../registry/registries';
import { TEAM_PASSWORD_KEY } from '../registry/teamService';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand, runCommand, setContext } from '../commands/register';

/**
 * Push a local version to the team registry, Pull a team version into the workspace's registry,
 * refresh the team view and enter its credentials. Push and Pull take the tree node or a reference
 * ("resnet@v3"), so tests and keybindings can run them without a selection.
 */
export function registerTeamCommands(context: vscode.ExtensionContext, targets: CommandTargets): vscode.Disposable[] {
  const views = targets.registries;
  const [local, team] = [views.local.service, views.team.service];

  /** Copies the versions one after another under one cancellable progress; what finished stays copied. */
  const transfer = async (verb: 'Push' | 'Pull', refs: string[]): Promise<TransferResult[] | undefined> => {
    if (!team.exists()) {
      const c = await vscode.window.showErrorMessage(
        'No team registry is set up for this workspace.',
        'Configure Team Registry…',
      );
      if (c) await runCommand(COMMANDS.configureTeam);
      return undefined;
    }
    const what = refs.length === 1 ? refs[0] : `${refs.length} versions`;
    const results: TransferResult[] = [];
    try {
      const [mine, theirs] = await Promise.all([local.get(), team.get()]);
      const done = await withCancellableProgress(
        `${verb === 'Push' ? 'Pushing' : 'Pulling'} ${what}`,
        refs.length === 1
          ? `${verb} of ${what} cancelled; nothing was recorded.`
          : `${verb} of ${what} cancelled; versions copied before stay, the one in progress was not recorded.`,
        async (p) => {
          for (const ref of refs) {
            const opts = {
              signal: p.signal,
              onProgress: (t: { phase: string; ref: string; bytes: number; totalBytes: number }) =>
                t.phase === 'recording'
                  ? p.say(`recording ${t.ref}…`)
                  : p.advance(
                      t.bytes,
                      t.totalBytes,
                      `${t.ref}: ${formatBytes(t.bytes)} of ${formatBytes(t.totalBytes)}`,
                    ),
            };
            results.push(
              verb === 'Push' ? await pushVersion(mine, theirs, ref, opts) : await pullVersion(theirs, mine, ref, opts),
            );
          }
          return results;
        },
      );
      if (!done) return undefined;
      (verb === 'Push' ? team : local).fireSoon();
      void vscode.window.showInformationMessage(summary(verb, refs, results), 'Reveal').then((c) => {
        if (c === 'Reveal')
          void reveal(verb === 'Push' ? views.team : views.local, results[results.length - 1].version);
      });
      return results;
    } catch (e) {
      if (results.length) (verb === 'Push' ? team : local).fireSoon();
      const failed = refs[results.length] ?? what;
      const message = (e as Error).message ?? '';
      if (/password|credentials|access denied|SignatureDoesNotMatch|InvalidAccessKeyId/i.test(message)) {
        // Credentials are the likely fix: offer to enter them.
        const text = describeError(`Could not ${verb.toLowerCase()} ${failed}`, e);
        log().appendLine(`${new Date().toISOString()} ${text.log}`);
        void vscode.window.showErrorMessage(text.toast, 'Enter Team Registry Credentials…').then((c) => {
          if (c) void runCommand(COMMANDS.teamCredentials);
        });
      } else showError(`Could not ${verb.toLowerCase()} ${failed}`, e);
      return undefined;
    }
  };

  /** One version: the result itself (what tests and keybindings get back); several: the list. */
  const run = async (verb: 'Push' | 'Pull', refs: string[]) => {
    if (refs.length === 0) return undefined;
    const results = await transfer(verb, refs);
    return results && refs.length === 1 ? results[0] : results;
  };

  return [
    views.team.tree.onDidChangeFilter(() => {
      const filter = views.team.tree.filter;
      views.team.view.message = filter ? `Showing versions that match: ${filter}` : undefined;
      void setContext('teamFiltered', !!filter);
    }),
    registerCommand(COMMANDS.pushVersion, (...args: unknown[]) => run('Push', targets.refs(args, 'local'))),
    registerCommand(COMMANDS.pullVersion, (...args: unknown[]) => run('Pull', targets.refs(args, 'team'))),
    registerCommand(COMMANDS.refreshTeam, () => team.reopen()),
    registerCommand(COMMANDS.configureTeam, () =>
      vscode.commands.executeCommand('workbench.action.openSettings', 'modelRegistry.team'),
    ),
    registerCommand(COMMANDS.teamCredentials, async () => {
      const url = team.location;
      if (!url) return runCommand(COMMANDS.configureTeam);
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

function summary(verb: 'Push' | 'Pull', refs: string[], results: TransferResult[]): string {
  const moved = verb === 'Push' ? 'sent' : 'received';
  const where = verb === 'Push' ? 'the team registry' : 'this workspace';
  const files = results.reduce((n, r) => n + r.objectsSent, 0);
  const bytes = formatBytes(results.reduce((n, r) => n + r.bytesSent, 0));
  const there = results.reduce((n, r) => n + r.objectsSkipped, 0);
  if (results.length === 1) {
    const r = results[0];
    if (r.copied.length === 0) return `${refs[0]} is already in ${where} as ${r.version.ref}.`;
    return `${verb === 'Push' ? 'Pushed' : 'Pulled'} ${refs[0]} → ${r.version.ref}${r.copied.length > 1 ? ` with ${r.copied.length - 1} ancestor(s)` : ''} (${files} files, ${bytes} ${moved}; ${there} already there).`;
  }
  const copies = results.map((r, i) => `${refs[i]} → ${r.version.ref}`).join(', ');
  return `${verb === 'Push' ? 'Pushed' : 'Pulled'} ${results.length} versions: ${copies} (${files} files, ${bytes} ${moved}; ${there} already there).`;
}

async function reveal(where: RegistryView, v: VersionRecord): Promise<void> {
  await vscode.commands.executeCommand('workbench.view.extension.modelRegistry');
  await revealVersion(where.tree, where.view, v);
}

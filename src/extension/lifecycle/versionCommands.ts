import * as path from 'path';
import * as vscode from 'vscode';
import { showCommit } from '../../core';
import { formatBytes } from '../../shared/format';
import { workspaceRepositoryWith } from '../workspaceGit';
import { showError } from '../errors';
import { CommandTargets } from '../registry/registries';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand } from '../commands/register';

const COMMIT_SCHEME = 'modelreg-commit';

/** Commands on tree items (files, versions, commits) and on the registry as a whole. */
export function registerVersionCommands(targets: CommandTargets): vscode.Disposable[] {
  const { service, tree } = targets.registries.local;
  return [
    vscode.workspace.registerTextDocumentContentProvider(COMMIT_SCHEME, {
      // Only the commit comes from the URI; the repository is the workspace's own.
      provideTextDocumentContent: async (uri) => {
        const commit = path.posix.basename(uri.path, '.diff');
        return showCommit(await workspaceRepositoryWith(commit), commit);
      },
    }),
    registerCommand(COMMANDS.refresh, () => tree.refresh()),

    registerCommand(COMMANDS.copySha256, async (...args: unknown[]) => {
      const node = targets.node(args, 'file')?.node;
      if (!node) return;
      await vscode.env.clipboard.writeText(node.file.sha256);
      vscode.window.setStatusBarMessage(`Copied SHA-256 of ${node.file.path}`, 3000);
    }),

    registerCommand(COMMANDS.revealFile, async (...args: unknown[]) => {
      const node = targets.node(args, 'file')?.node;
      if (!node) return;
      const registry = await service.get();
      const uri = vscode.Uri.file(registry.store.objectPath(node.file.sha256));
      // The stored object has no extension; open it read-only for small text, reveal it otherwise.
      await vscode.commands.executeCommand('revealInExplorer', uri);
    }),

    registerCommand(COMMANDS.openCommit, async (...args: unknown[]) => {
      const version = (await targets.version(args, { under: true, ask: 'Open Commit', only: (v) => !!v.git }))?.version;
      if (!version?.git) {
        void vscode.window.showInformationMessage('This version was not imported from a git repository.');
        return;
      }
      const uri = vscode.Uri.from({ scheme: COMMIT_SCHEME, path: `/${version.git.commit}.diff` });
      try {
        await workspaceRepositoryWith(version.git.commit); // says why before an empty editor would
        const doc = await vscode.workspace.openTextDocument(uri);
        await vscode.window.showTextDocument(doc, { preview: true });
      } catch (e) {
        showError(`Could not show commit ${version.git.commit.slice(0, 10)}`, e);
      }
    }),

    registerCommand(COMMANDS.verify, () =>
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Verifying stored files', cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          try {
            let last = 0;
            const r = await (
              await service.get()
            ).verify({
              signal: abort.signal,
              onObject: (done, total) => {
                progress.report({ increment: (100 * (done - last)) / total, message: `${done} of ${total}` });
                last = done;
              },
            });
            if (r.problems.length === 0)
              void vscode.window.showInformationMessage(`All ${r.checked} stored files are intact.`);
            else
              void vscode.window.showErrorMessage(
                `${r.problems.length} of ${r.checked} stored files are damaged: ${r.problems
                  .slice(0, 3)
                  .map((p) => `${p.problem} ${p.usedBy[0]}`)
                  .join('; ')}${r.problems.length > 3 ? '…' : ''}`,
              );
            return r;
          } catch (e) {
            if (!abort.signal.aborted) showError('Verification failed', e);
            return undefined;
          } finally {
            sub.dispose();
          }
        },
      ),
    ),

    registerCommand(COMMANDS.cleanUpImport, async (...args: unknown[]) => {
      const target = await targets.version(args);
      if (!target?.version.interrupted) return;
      const { version, where } = target;
      try {
        await (await where.service.get()).cleanUpInterrupted(version.id);
        where.service.fireSoon();
      } catch (e) {
        showError(`Could not clean up ${version.ref}`, e);
      }
    }),

    registerCommand(COMMANDS.gc, async () => {
      try {
        const r = await (await service.get()).gc();
        void vscode.window.showInformationMessage(
          `Removed ${r.removedObjects} unreferenced files (${formatBytes(r.removedBytes)}).`,
        );
        return r;
      } catch (e) {
        showError('Garbage collection failed', e);
        return undefined;
      }
    }),
  ];
}

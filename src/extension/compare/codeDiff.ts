import * as vscode from 'vscode';
import { VersionRecord } from '../../core';
import { commitRange, fileAtCommit } from '../../core/git/compare';
import { workspaceRepositoryWith } from '../workspaceGit';

export const GIT_FILE_SCHEME = 'modelreg-git';

/** Serves `modelreg-git:/path?commit=…`: a file as it was at a commit, read-only, from the workspace repository that has it. */
export function registerGitFileProvider(): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(GIT_FILE_SCHEME, {
    async provideTextDocumentContent(uri) {
      const commit = new URLSearchParams(uri.query).get('commit') ?? '';
      return fileAtCommit(await workspaceRepositoryWith(commit), commit, uri.path.replace(/^\//, ''));
    },
  });
}

function gitUri(commit: string, file: string): vscode.Uri {
  return vscode.Uri.from({
    scheme: GIT_FILE_SCHEME,
    path: `/${file}`,
    query: new URLSearchParams({ commit }).toString(),
  });
}

/** Opens the code change between the commits of two versions in VS Code's (multi-file) diff editor. */
export async function openCodeDiff(base: VersionRecord, head: VersionRecord): Promise<void> {
  if (!base.git || !head.git) {
    void vscode.window.showInformationMessage('Both versions need a git commit to compare their code.');
    return;
  }
  const repo = await workspaceRepositoryWith(base.git.commit);
  const range = await commitRange(repo, base.git.commit, head.git.commit);
  const files = range.files.filter((f) => !f.path.includes(' → '));
  if (files.length === 0) {
    void vscode.window.showInformationMessage(`No file changed between ${base.ref} and ${head.ref}.`);
    return;
  }
  const title = `${base.ref} (${base.git.commit.slice(0, 8)}) ↔ ${head.ref} (${head.git.commit.slice(0, 8)})`;
  const resources = files.map((f) => [
    vscode.Uri.file(`${repo.workTree}/${f.path}`),
    gitUri(base.git!.commit, f.path),
    gitUri(head.git!.commit, f.path),
  ]);
  try {
    await vscode.commands.executeCommand('vscode.changes', title, resources);
  } catch {
    // Older VS Code without the multi-diff editor: show the first file.
    await vscode.commands.executeCommand(
      'vscode.diff',
      resources[0][1],
      resources[0][2],
      `${files[0].path} — ${title}`,
    );
  }
}

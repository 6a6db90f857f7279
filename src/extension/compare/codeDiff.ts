import * as vscode from 'vscode';
import { VersionRecord } from '../../core';
import { commitRange, fileAtCommit } from '../../core/git/compare';

export const GIT_FILE_SCHEME = 'modelreg-git';

/** Serves `modelreg-git:/path?root=…&commit=…`: a file as it was at a commit, read-only. */
export function registerGitFileProvider(): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(GIT_FILE_SCHEME, {
    provideTextDocumentContent(uri) {
      const q = new URLSearchParams(uri.query);
      return fileAtCommit(q.get('root') ?? '', q.get('commit') ?? '', uri.path.replace(/^\//, ''));
    },
  });
}

function gitUri(root: string, commit: string, file: string): vscode.Uri {
  return vscode.Uri.from({ scheme: GIT_FILE_SCHEME, path: `/${file}`, query: new URLSearchParams({ root, commit }).toString() });
}

/** Opens the code change between the commits of two versions in VS Code's (multi-file) diff editor. */
export async function openCodeDiff(base: VersionRecord, head: VersionRecord): Promise<void> {
  if (!base.git || !head.git) {
    void vscode.window.showInformationMessage('Both versions need a git commit to compare their code.');
    return;
  }
  const root = base.git.root;
  const range = await commitRange(root, base.git.commit, head.git.commit);
  const files = range.files.filter((f) => !f.path.includes(' → '));
  if (files.length === 0) {
    void vscode.window.showInformationMessage(`No file changed between ${base.ref} and ${head.ref}.`);
    return;
  }
  const title = `${base.ref} (${base.git.commit.slice(0, 8)}) ↔ ${head.ref} (${head.git.commit.slice(0, 8)})`;
  const resources = files.map((f) => [vscode.Uri.file(`${root}/${f.path}`), gitUri(root, base.git!.commit, f.path), gitUri(root, head.git!.commit, f.path)]);
  try {
    await vscode.commands.executeCommand('vscode.changes', title, resources);
  } catch {
    // Older VS Code without the multi-diff editor: show the first file.
    await vscode.commands.executeCommand('vscode.diff', resources[0][1], resources[0][2], `${files[0].path} — ${title}`);
  }
}

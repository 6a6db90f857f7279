import * as vscode from 'vscode';
import { findRepository, GitRepo, repositoryWithCommit } from '../core';

/**
 * The git repositories of the open workspace folders: the only places the extension runs git. A
 * stored version's `git.root`, or a folder named in a URI, is never used as a place to run git: it
 * came from a database or an archive someone else may have written.
 */
export async function workspaceRepositories(): Promise<GitRepo[]> {
  const found = await Promise.all(
    (vscode.workspace.workspaceFolders ?? [])
      .filter((f) => f.uri.scheme === 'file')
      .map((f) => findRepository(f.uri.fsPath)),
  );
  const seen = new Set<string>();
  return found.filter((r): r is GitRepo => !!r && !seen.has(r.gitDir) && !!seen.add(r.gitDir));
}

/** The workspace repository holding `commit`; throws a message a person can act on when none does. */
export async function workspaceRepositoryWith(commit: string): Promise<GitRepo> {
  const repos = await workspaceRepositories();
  const repo = await repositoryWithCommit(repos, commit);
  if (repo) return repo;
  throw new Error(
    repos.length
      ? `commit ${commit.slice(0, 10)} is not in ${repos.map((r) => r.workTree).join(', ')} (another clone, rebased away, or not fetched)`
      : `no workspace folder is a git repository, so commit ${commit.slice(0, 10)} cannot be shown`,
  );
}

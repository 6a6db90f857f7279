import { checkCommitId, GitRepo, runGit } from './git';

export interface CommitRange {
  files: { path: string; insertions: number; deletions: number; binary: boolean }[];
  commits: { hash: string; subject: string; author: string; date: string }[];
}

/** `git diff --numstat base head` and the commits in base..head. */
export async function commitRange(repo: GitRepo, base: string, head: string): Promise<CommitRange> {
  checkCommitId(base);
  checkCommitId(head);
  const numstat = await runGit(repo, [
    'diff',
    '--no-textconv',
    '--no-ext-diff',
    '--ignore-submodules',
    '--numstat',
    '-z',
    base,
    head,
    '--',
  ]);
  const files: CommitRange['files'] = [];
  // -z: "ins\tdel\tpath\0"; a rename is "ins\tdel\t\0old\0new\0".
  const parts = numstat.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const m = /^(\d+|-)\t(\d+|-)\t(.*)$/s.exec(parts[i]);
    if (!m) continue;
    let file = m[3];
    if (file === '') {
      file = `${parts[i + 1]} → ${parts[i + 2]}`;
      i += 2;
    }
    const binary = m[1] === '-';
    files.push({ path: file, insertions: binary ? 0 : Number(m[1]), deletions: binary ? 0 : Number(m[2]), binary });
  }
  const log = await runGit(repo, [
    'log',
    '--no-show-signature',
    '--format=%H%x00%s%x00%an%x00%aI',
    `${base}..${head}`,
    '--',
  ]);
  const commits = log
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [hash, subject, author, date] = line.split('\0');
      return { hash, subject, author, date };
    });
  return { files, commits };
}

/** Whether the repository has the commit (it may have been rebased away or never fetched). */
export async function hasCommit(repo: GitRepo, commit: string): Promise<boolean> {
  try {
    checkCommitId(commit);
    await runGit(repo, ['cat-file', '-e', `${commit}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/** Of `repos` (the workspace's), the first that has `commit`: git runs only where the user works, never where a stored version says. */
export async function repositoryWithCommit(repos: GitRepo[], commit: string): Promise<GitRepo | null> {
  for (const repo of repos) if (await hasCommit(repo, commit)) return repo;
  return null;
}

/** A file's content at a commit, for the diff editor. */
export async function fileAtCommit(repo: GitRepo, commit: string, file: string): Promise<string> {
  checkCommitId(commit);
  try {
    return await runGit(repo, ['show', '--no-textconv', `${commit}:${file}`]);
  } catch {
    return ''; // added or deleted in this range: the other side is empty
  }
}

/** The full text of a commit (header, stat and patch), as `git show` prints it. */
export async function showCommit(repo: GitRepo, commit: string): Promise<string> {
  checkCommitId(commit);
  return runGit(repo, ['show', '--no-textconv', '--no-ext-diff', '--stat', '--patch', '--format=fuller', commit, '--']);
}

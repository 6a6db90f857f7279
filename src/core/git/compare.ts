import { simpleGit } from 'simple-git';

export interface CommitRange {
  files: { path: string; insertions: number; deletions: number; binary: boolean }[];
  commits: { hash: string; subject: string; author: string; date: string }[];
}

const COMMIT = /^[0-9a-f]{7,64}$/;

/** `git diff --numstat base head` and the commits in base..head, from the repository at root. */
export async function commitRange(root: string, base: string, head: string): Promise<CommitRange> {
  if (!COMMIT.test(base) || !COMMIT.test(head)) throw new Error('not a commit id');
  const git = simpleGit({ baseDir: root });
  const numstat = await git.raw(['diff', '--numstat', '-z', base, head]);
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
  const log = await git.raw(['log', '--format=%H%x00%s%x00%an%x00%aI', `${base}..${head}`]);
  const commits = log
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [hash, subject, author, date] = line.split('\0');
      return { hash, subject, author, date };
    });
  return { files, commits };
}

/** Whether the repository at root has the commit (it may have been rebased away or never fetched). */
export async function hasCommit(root: string, commit: string): Promise<boolean> {
  if (!COMMIT.test(commit)) return false;
  try {
    await simpleGit({ baseDir: root }).raw(['cat-file', '-e', `${commit}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/** A file's content at a commit, for the diff editor. */
export async function fileAtCommit(root: string, commit: string, file: string): Promise<string> {
  if (!COMMIT.test(commit)) throw new Error('not a commit id');
  try {
    return await simpleGit({ baseDir: root }).raw(['show', `${commit}:${file}`]);
  } catch {
    return ''; // added or deleted in this range: the other side is empty
  }
}

import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { simpleGit } from 'simple-git';

/** Where a model came from in git: the commit checked out when it was imported. */
export interface GitProvenance {
  root: string;
  commit: string;
  branch: string | null;
  /** Tracked files differ from the commit. Untracked files (training outputs usually are) do not count. */
  dirty: boolean;
  remote: string | null;
  subject: string;
  author: string;
  date: string;
}

/** Provenance of the repository containing `target`, or null when it is not inside a git work tree. */
export async function gitProvenance(target: string): Promise<GitProvenance | null> {
  const st = await fsp.stat(target);
  const dir = st.isDirectory() ? target : path.dirname(target);
  const git = simpleGit({ baseDir: dir, trimmed: true });
  let root: string;
  try {
    root = await git.revparse(['--show-toplevel']);
  } catch {
    return null; // not a repository, or git is not installed
  }
  let commit: string;
  try {
    commit = await git.revparse(['HEAD']);
  } catch {
    return null; // a repository without commits has no provenance to record
  }
  const branchName = await git.revparse(['--abbrev-ref', 'HEAD']);
  const status = await git.raw(['status', '--porcelain', '--untracked-files=no']);
  const log = await git.raw(['log', '-1', '--format=%s%x00%an <%ae>%x00%aI', 'HEAD']);
  const [subject, author, date] = log.trim().split('\0');
  let remote: string | null = null;
  try {
    remote = redactUrl((await git.raw(['remote', 'get-url', 'origin'])).trim()) || null;
  } catch {
    remote = null;
  }
  return {
    root,
    commit,
    branch: branchName === 'HEAD' ? null : branchName,
    dirty: status.trim().length > 0,
    remote,
    subject: subject ?? '',
    author: author ?? '',
    date: date ?? '',
  };
}

/** Drops credentials from a remote URL so they are never stored in the registry. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url; // scp-like syntax (git@host:repo) carries no password
  }
}

/** The full text of a commit (header, stat and patch), as `git show` prints it. */
export async function showCommit(root: string, commit: string): Promise<string> {
  if (!/^[0-9a-f]{7,64}$/.test(commit)) throw new Error(`not a commit id: ${commit}`);
  return simpleGit({ baseDir: root }).raw(['show', '--stat', '--patch', '--format=fuller', commit]);
}

/** Who is acting, for histories: git's user.name <user.email> as seen from `dir`, else the OS user. */
export async function gitUser(dir: string): Promise<string> {
  const git = simpleGit({ baseDir: dir, trimmed: true });
  const get = (key: string) => git.raw(['config', '--get', key]).then((s) => s.trim(), () => '');
  const [name, email] = await Promise.all([get('user.name'), get('user.email')]).catch(() => ['', '']);
  if (name) return email ? `${name} <${email}>` : name;
  return os.userInfo().username;
}

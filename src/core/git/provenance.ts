import * as os from 'os';
import { redactUrl } from '../util/redact';
import { findRepository, GitRepo, runGit, userGitConfig } from './git';

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

/** Provenance, or why there is none: it is a fact about an import, never a reason for it to fail. */
export interface ProvenanceResult {
  git: GitProvenance | null;
  /** Set when the target is in a repository but git could not say which commit (recorded with the version). */
  problem?: string;
}

/** Provenance of the repository containing `target`; `git: null` when it is not inside a git work tree. */
export async function gitProvenance(target: string): Promise<ProvenanceResult> {
  const repo = await findRepository(target);
  if (!repo) return { git: null };
  try {
    return { git: await provenanceOf(repo) };
  } catch (e) {
    return { git: null, problem: `git provenance not recorded: ${(e as Error).message}` };
  }
}

async function provenanceOf(repo: GitRepo): Promise<GitProvenance | null> {
  // --verify takes exactly one revision, so a file named HEAD in the work tree is never ambiguous.
  const commit = (await runGit(repo, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']).catch(() => '')).trim();
  if (!commit) return null; // a repository without commits has no provenance to record
  const branch = (await runGit(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '')).trim() || null;
  const status = await runGit(repo, ['status', '--porcelain', '--untracked-files=no', '--ignore-submodules=all']);
  const log = await runGit(repo, ['log', '-1', '--no-show-signature', '--format=%s%x00%an <%ae>%x00%aI', commit, '--']);
  const [subject, author, date] = log.trim().split('\0');
  const origin = (await runGit(repo, ['config', '--get', 'remote.origin.url']).catch(() => '')).trim();
  return {
    root: repo.workTree,
    commit,
    branch,
    dirty: status.trim().length > 0,
    remote: origin ? redactUrl(origin) : null,
    subject: subject ?? '',
    author: author ?? '',
    date: date ?? '',
  };
}

/** Who is acting, for histories: git's user.name <user.email> for the repository holding `dir` (else the user's own config), else the OS user. */
export async function gitUser(dir: string): Promise<string> {
  const repo = await findRepository(dir).catch(() => null);
  const get = (key: string) =>
    repo
      ? runGit(repo, ['config', '--get', key]).then(
          (s) => s.trim(),
          () => '',
        )
      : userGitConfig(key);
  const [name, email] = await Promise.all([get('user.name'), get('user.email')]);
  if (name) return email ? `${name} <${email}>` : name;
  return os.userInfo().username;
}

/**
 * The one way this product runs git. A workspace is untrusted until the user says otherwise, and git
 * will run programs named in a repository's configuration (core.fsmonitor, hooks, textconv and
 * external diff drivers, clean/smudge filters) and will take any folder laid out as a git directory
 * (HEAD, config, objects/) as a bare repository. So every call here:
 * - names the repository explicitly (--git-dir/--work-tree of a `.git` found by `findRepository`),
 *   and refuses bare repositories found by discovery (safe.bareRepository=explicit);
 * - switches off every program the configuration could name, and the pager;
 * - gets a clean environment (no GIT_* from the caller, no system config, no prompts).
 * Reading configuration runs nothing, so the repository's filter and diff drivers are read first and
 * blanked one by one.
 */
import { execFile } from 'child_process';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface GitRepo {
  /** The repository's git directory (`…/.git`, or where a `.git` file points). */
  gitDir: string;
  /** The work tree: the folder holding `.git`. */
  workTree: string;
}

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

const NO_HOOKS = process.platform === 'win32' ? 'NUL' : '/dev/null';

/** Settings that stop git from running anything a repository's config names. */
const SAFE_CONFIG = [
  'safe.bareRepository=explicit',
  'core.fsmonitor=false',
  `core.hooksPath=${NO_HOOKS}`,
  'core.pager=cat',
  'core.untrackedCache=false',
  'diff.external=',
  'log.showSignature=false',
  'status.submoduleSummary=false',
  'submodule.recurse=false',
];

/** Config keys whose values are commands git would run (filters, diff drivers, merge drivers). */
const PROGRAM_KEY = /^(filter\..+\.(clean|smudge|process)|diff\..+\.(textconv|command)|merge\..+\.driver)$/i;

/** The environment git runs in: enough to find itself and the user's own ~/.gitconfig, nothing more. */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'USERPROFILE', 'SYSTEMROOT', 'TMPDIR', 'TEMP', 'TMP', 'XDG_CONFIG_HOME']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return {
    ...env,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_PAGER: 'cat',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
  };
}

function execGit(args: string[], maxBuffer = 64 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    // cwd: a neutral folder, so nothing relative to an untrusted folder is ever discovered.
    execFile(
      'git',
      args,
      { cwd: os.tmpdir(), env: gitEnv(), maxBuffer, encoding: 'utf8', timeout: 60_000, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') return reject(new GitError('git is not installed (not found on PATH)'));
          const first =
            String(stderr)
              .split('\n')
              .find((l) => l.trim()) ?? err.message;
          return reject(new GitError(first.replace(/^(fatal|error): /, '')));
        }
        resolve(stdout);
      },
    );
  });
}

const drivers = new Map<string, Promise<string[]>>();

/** `-c KEY=` for every program-valued key in the repository's configuration (read, not run). */
function blankedDrivers(repo: GitRepo): Promise<string[]> {
  let p = drivers.get(repo.gitDir);
  if (!p) {
    p = execGit(['-c', SAFE_CONFIG[0], `--git-dir=${repo.gitDir}`, 'config', '--name-only', '--list', '-z'])
      .then((out) =>
        out
          .split('\0')
          .filter((k) => PROGRAM_KEY.test(k))
          .flatMap((k) => ['-c', `${k}=`]),
      )
      .catch(() => []);
    drivers.set(repo.gitDir, p);
    // Configuration can change while the editor is open; read it again a little later.
    setTimeout(() => drivers.delete(repo.gitDir), 5000).unref();
  }
  return p;
}

/** Runs `git ARGS` on `repo` with nothing from its configuration run. Throws GitError with git's message. */
export async function runGit(repo: GitRepo, args: string[], opts: { maxBuffer?: number } = {}): Promise<string> {
  const pinned = [
    ...SAFE_CONFIG.flatMap((c) => ['-c', c]),
    ...(await blankedDrivers(repo)),
    '--no-pager',
    `--git-dir=${repo.gitDir}`,
    `--work-tree=${repo.workTree}`,
  ];
  return execGit([...pinned, ...args], opts.maxBuffer);
}

/** git's own settings as the user has them (~/.gitconfig), with no repository involved. */
export async function userGitConfig(key: string): Promise<string> {
  return execGit(['config', '--global', '--get', key]).then(
    (s) => s.trim(),
    () => '',
  );
}

/**
 * The repository whose work tree holds `target`: the nearest `.git` folder (or `.git` file of a
 * worktree or submodule) at or above it. A folder that merely looks like a git directory is never
 * taken: git clone cannot create a `.git` entry, but it can check out a folder laid out as one.
 */
export async function findRepository(target: string): Promise<GitRepo | null> {
  let dir = path.resolve(target);
  const st = await fsp.stat(dir).catch(() => null);
  if (st && !st.isDirectory()) dir = path.dirname(dir);
  for (;;) {
    const dotGit = path.join(dir, '.git');
    const entry = await fsp.lstat(dotGit).catch(() => null);
    if (entry?.isDirectory()) return { gitDir: dotGit, workTree: dir };
    if (entry?.isFile()) {
      const text = await fsp.readFile(dotGit, 'utf8').catch(() => '');
      const m = /^gitdir: (.+)$/m.exec(text.slice(0, 4096));
      if (m) return { gitDir: path.resolve(dir, m[1].trim()), workTree: dir };
    }
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

const COMMIT = /^[0-9a-f]{7,64}$/;

/** Throws unless `commit` is a hexadecimal object id, so it can never be read as an option or a path. */
export function checkCommitId(commit: string): void {
  if (!COMMIT.test(commit)) throw new GitError(`not a commit id: ${JSON.stringify(commit.slice(0, 80))}`);
}

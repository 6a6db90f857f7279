import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

const made: string[] = [];

/** A fresh temp folder, removed after the run (see the root hook below). */
export function tempDir(prefix = 'modelreg-test-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export const mochaHooks = {
  afterAll() {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  },
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } }).trim();
}

/** A real git repository with one commit of `files` (path → content). */
export function makeGitRepo(dir: string, files: Record<string, string> = { 'train.py': 'print("train")\n' }): string {
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'Test Author');
  git(dir, 'config', 'user.email', 'author@example.com');
  git(dir, 'config', 'commit.gpgsign', 'false');
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), content);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'Train a model');
  return git(dir, 'rev-parse', 'HEAD');
}

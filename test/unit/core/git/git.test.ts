import * as assert from 'assert';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { commitRange, showCommit } from '../../../../src/core/git/compare';
import { findRepository } from '../../../../src/core/git/git';
import { gitProvenance } from '../../../../src/core/git/provenance';
import { redactUrl } from '../../../../src/core/util/redact';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { git, makeGitRepo, tempDir } from '../../helpers/tmp';

async function provenance(target: string) {
  const r = await gitProvenance(target);
  assert.strictEqual(r.problem, undefined);
  return r.git;
}

describe('git provenance', () => {
  it('records commit, branch, remote, subject and author of the repo containing the output', async () => {
    const repo = tempDir();
    const head = makeGitRepo(repo);
    git(repo, 'remote', 'add', 'origin', 'https://user:secret@example.com/team/vision.git');
    mkdirSync(path.join(repo, 'outputs', 'run1'), { recursive: true });
    writeFileSync(path.join(repo, 'outputs', 'run1', 'model.bin'), 'x');
    const p = await provenance(path.join(repo, 'outputs', 'run1'));
    assert.ok(p);
    assert.strictEqual(p.root, repo);
    assert.strictEqual(p.commit, head);
    assert.strictEqual(p.branch, 'main');
    assert.strictEqual(p.dirty, false, 'untracked outputs do not make the tree dirty');
    assert.strictEqual(p.remote, 'https://example.com/team/vision.git', 'credentials are dropped');
    assert.strictEqual(p.subject, 'Train a model');
    assert.strictEqual(p.author, 'Test Author <author@example.com>');
    assert.ok(!Number.isNaN(Date.parse(p.date)));
  });

  it('flags a dirty tree when tracked files changed, and a detached HEAD has no branch', async () => {
    const repo = tempDir();
    const head = makeGitRepo(repo);
    writeFileSync(path.join(repo, 'train.py'), 'print("changed")\n');
    const single = path.join(repo, 'model.onnx');
    writeFileSync(single, 'x');
    assert.strictEqual((await provenance(single))!.dirty, true);
    git(repo, 'checkout', '-q', '--', 'train.py');
    git(repo, 'checkout', '-q', '--detach', head);
    const p = await provenance(repo);
    assert.strictEqual(p!.branch, null);
    assert.strictEqual(p!.dirty, false);
  });

  it('returns no provenance outside a repository and in a repository without commits', async () => {
    assert.deepStrictEqual(await gitProvenance(tempDir()), { git: null });
    const empty = tempDir();
    git(empty, 'init', '-q');
    assert.deepStrictEqual(await gitProvenance(empty), { git: null });
  });

  it('a file named HEAD in the output is not read as a revision (the import records the commit)', async () => {
    const repo = tempDir();
    const head = makeGitRepo(repo);
    const out = path.join(repo, 'outputs', 'run1');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'HEAD'), 'not a ref\n');
    writeFileSync(path.join(repo, 'HEAD'), 'not a ref either\n');
    writeFileSync(path.join(out, 'model.bin'), 'x');
    const r = await Registry.open(path.join(tempDir(), '.modelreg'));
    try {
      const v = await importTrainingOutput(r, out, { model: 'm' });
      assert.strictEqual(v.git?.commit, head);
    } finally {
      await r.close();
    }
  });

  it('a provenance failure never fails an import: the version records why', async () => {
    const repo = tempDir();
    makeGitRepo(repo);
    writeFileSync(path.join(repo, '.git', 'index'), 'garbage, not an index'); // git status now fails
    const out = path.join(repo, 'out');
    mkdirSync(out);
    writeFileSync(path.join(out, 'model.bin'), 'x');
    const r = await Registry.open(path.join(tempDir(), '.modelreg'));
    try {
      const v = await importTrainingOutput(r, out, { model: 'm' });
      assert.strictEqual(v.status, 'ready');
      assert.strictEqual(v.git, null);
      assert.match(String(v.details.gitProblem), /^git provenance not recorded: .*index/);
    } finally {
      await r.close();
    }
  });

  it('shows a commit as git show does, and refuses option-like ids', async () => {
    const repo = tempDir();
    const head = makeGitRepo(repo, { 'train.py': 'lr = 0.1\n' });
    const found = (await findRepository(repo))!;
    const text = await showCommit(found, head);
    assert.match(text, /Train a model/);
    assert.match(text, /\+lr = 0\.1/);
    await assert.rejects(showCommit(found, '--output=/tmp/x'), /not a commit id/);
  });

  it('leaves scp-style remotes alone', () => {
    assert.strictEqual(redactUrl('git@github.com:org/repo.git'), 'git@github.com:org/repo.git');
  });
});

/**
 * A cloned repository is hostile until trusted: git must run nothing its configuration names. Each
 * test checks for a marker file that the hostile command would create.
 */
describe('git runs nothing a repository configures', () => {
  /** A repository that commits `outputs/run1` laid out as a git directory whose config runs a command; then `git clone`d. */
  function hostileClone(marker: string): string {
    const inner = tempDir();
    makeGitRepo(inner);
    const src = tempDir();
    makeGitRepo(src);
    const run1 = path.join(src, 'outputs', 'run1');
    cpSync(path.join(inner, '.git'), run1, { recursive: true });
    rmSync(path.join(run1, 'hooks'), { recursive: true, force: true });
    const cmd = `touch '${marker}'; false`;
    writeFileSync(
      path.join(run1, 'config'),
      `[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = .\n\tfsmonitor = "${cmd}"\n[core]\n\thooksPath = hooks\n`,
    );
    mkdirSync(path.join(run1, 'hooks'));
    writeFileSync(path.join(run1, 'hooks', 'post-index-change'), `#!/bin/sh\n${cmd}\n`, { mode: 0o755 });
    writeFileSync(path.join(run1, 'model.bin'), 'weights');
    git(src, 'add', '-A');
    git(src, 'commit', '-q', '-m', 'Add outputs');
    const clone = path.join(tempDir(), 'clone');
    git(path.dirname(clone), 'clone', '-q', src, clone);
    assert.ok(
      existsSync(path.join(clone, 'outputs', 'run1', 'config')),
      'the clone holds the git-directory-shaped folder',
    );
    return clone;
  }

  it('importing a folder laid out as a git directory (core.fsmonitor, hooks) runs nothing, and records the real repository', async () => {
    const marker = path.join(tempDir(), 'MARKER');
    const clone = hostileClone(marker);
    const r = await Registry.open(path.join(tempDir(), '.modelreg'));
    try {
      const v = await importTrainingOutput(r, path.join(clone, 'outputs', 'run1'), { model: 'm' });
      assert.strictEqual(existsSync(marker), false, 'the hostile fsmonitor command ran');
      assert.strictEqual(v.git?.root, clone, 'provenance is the clone, not the embedded git directory');
      assert.strictEqual(v.git?.commit, git(clone, 'rev-parse', 'HEAD'));
    } finally {
      await r.close();
    }
  });

  it("the repository's own filters, textconv and diff drivers, signature checks and environment are not used", async () => {
    const marker = path.join(tempDir(), 'MARKER');
    const repo = tempDir();
    makeGitRepo(repo, { 'train.py': 'lr = 0.1\n', '.gitattributes': '*.py filter=evil diff=evil\n' });
    const cmd = `sh -c "touch '${marker}'; cat"`;
    git(repo, 'config', 'filter.evil.clean', cmd);
    git(repo, 'config', 'filter.evil.smudge', cmd);
    git(repo, 'config', 'diff.evil.textconv', cmd);
    git(repo, 'config', 'diff.evil.command', cmd);
    git(repo, 'config', 'diff.external', cmd);
    git(repo, 'config', 'core.pager', cmd);
    git(repo, 'config', 'log.showSignature', 'true');
    git(repo, 'config', 'gpg.program', cmd);
    rmSync(marker, { force: true }); // the commit itself may have run the clean filter
    writeFileSync(path.join(repo, 'train.py'), 'lr = 0.2\n');
    git(repo, '-c', 'filter.evil.clean=cat', '-c', 'filter.evil.smudge=cat', 'commit', '-q', '-am', 'Lower lr');
    writeFileSync(path.join(repo, 'train.py'), 'lr = 0.3\n'); // status has to look at the content
    const before = git(repo, 'rev-parse', 'HEAD~1');
    const head = git(repo, 'rev-parse', 'HEAD');
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = path.join(tempDir(), 'elsewhere'); // a caller's environment must not redirect git
    try {
      const p = await provenance(repo);
      assert.strictEqual(p?.commit, head);
      assert.strictEqual(p?.dirty, true);
      const found = (await findRepository(repo))!;
      assert.match(await showCommit(found, head), /\+lr = 0\.2/);
      const range = await commitRange(found, before, head);
      assert.deepStrictEqual(
        range.files.map((f) => f.path),
        ['train.py'],
      );
      assert.strictEqual(existsSync(marker), false, 'a configured program ran');
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
  });
});

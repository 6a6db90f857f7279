import * as assert from 'assert';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { gitProvenance, redactUrl, showCommit } from '../../../src/core/git/provenance';
import { git, makeGitRepo, tempDir } from '../helpers/tmp';

describe('git provenance', () => {
  it('records commit, branch, remote, subject and author of the repo containing the output', async () => {
    const repo = tempDir();
    const head = makeGitRepo(repo);
    git(repo, 'remote', 'add', 'origin', 'https://user:secret@example.com/team/vision.git');
    mkdirSync(path.join(repo, 'outputs', 'run1'), { recursive: true });
    writeFileSync(path.join(repo, 'outputs', 'run1', 'model.bin'), 'x');
    const p = await gitProvenance(path.join(repo, 'outputs', 'run1'));
    assert.ok(p);
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
    assert.strictEqual((await gitProvenance(single))!.dirty, true);
    git(repo, 'checkout', '-q', '--', 'train.py');
    git(repo, 'checkout', '-q', '--detach', head);
    const p = await gitProvenance(repo);
    assert.strictEqual(p!.branch, null);
    assert.strictEqual(p!.dirty, false);
  });

  it('returns null outside a repository and in a repository without commits', async () => {
    assert.strictEqual(await gitProvenance(tempDir()), null);
    const empty = tempDir();
    git(empty, 'init', '-q');
    assert.strictEqual(await gitProvenance(empty), null);
  });

  it('shows a commit as git show does, and refuses option-like ids', async () => {
    const repo = tempDir();
    const head = makeGitRepo(repo, { 'train.py': 'lr = 0.1\n' });
    const text = await showCommit(repo, head);
    assert.match(text, /Train a model/);
    assert.match(text, /\+lr = 0\.1/);
    await assert.rejects(showCommit(repo, '--output=/tmp/x'), /not a commit id/);
  });

  it('leaves scp-style remotes alone', () => {
    assert.strictEqual(redactUrl('git@github.com:org/repo.git'), 'git@github.com:org/repo.git');
  });
});

import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { RunRecord } from '../../../../src/core/registry/runTypes';
import {
  groupAlive,
  newRunId,
  PlannedRun,
  retryRun,
  startTraining,
  stopRun,
  waitForBatch,
} from '../../../../src/core/train/runs';
import { eventually } from '../../../helpers/eventually';
import { repoPath } from '../../helpers/paths';
import { git, makeGitRepo, tempDir } from '../../helpers/tmp';

const TRAIN_CLASSIFIER = repoPath('test', 'fixtures', 'sample', 'train_classifier.mjs');

/** A script for the runner's mechanics: waits, fails, spawns a child, reports its environment. */
const TOOL = `
import { spawn } from 'child_process';
import { appendFileSync, copyFileSync, mkdirSync, writeFileSync } from 'fs';
const [out, mode, seconds] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
writeFileSync(out + '/env.json', JSON.stringify({ cuda: process.env.CUDA_VISIBLE_DEVICES ?? null, run: process.env.MODELREG_RUN, electron: process.env.ELECTRON_RUN_AS_NODE ?? null }));
console.log('starting ' + mode);
if (mode === 'child') {
  const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
  writeFileSync(out + '/child.pid', String(c.pid));
}
if (mode === 'fail') { console.error('Traceback: the loss is NaN'); process.exit(3); }
const end = Date.now() + Number(seconds ?? 0) * 1000;
const tick = () => {
  appendFileSync(out + '/metrics.jsonl', JSON.stringify({ step: Date.now(), loss: 1 }) + '\\n');
  if (Date.now() < end) setTimeout(tick, 100);
  else { copyFileSync(process.env.WEIGHTS, out + '/model.safetensors'); console.log('done'); }
};
tick();
`;

function planned(id: string, root: string, argv: string[], params: Record<string, number | string> = {}): PlannedRun {
  return { id, argv, env: {}, output: path.join(root, 'outputs', id), params, overridden: Object.keys(params) };
}

describe('training runs (real processes, detached runner)', function () {
  this.timeout(60_000);
  let root: string;
  let registry: Registry;
  let weights: string;

  beforeEach(async () => {
    root = tempDir('modelreg-train-');
    makeGitRepo(root, { 'tool.mjs': TOOL, '.gitignore': 'outputs/\n.modelreg/\n' });
    copyFileSync(TRAIN_CLASSIFIER, path.join(root, 'train_classifier.mjs'));
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'Add the classifier');
    registry = await Registry.open(path.join(root, '.modelreg'));
    // Weights for the tool's outputs: a real safetensors from the classifier script.
    const seed = path.join(tempDir(), 'seed');
    execFileSync(process.execPath, [TRAIN_CLASSIFIER, seed]);
    weights = path.join(seed, 'model.safetensors');
  });
  afterEach(() => registry.close());

  /** Starts runs with no base version, as a recipe named `recipe` training `model`. */
  const fromScratch = (
    recipe: string,
    model: string,
    runs: PlannedRun[],
    opts: { jobs?: number; devices?: string[] } = {},
  ) =>
    startTraining(registry, {
      recipe: { name: recipe, model },
      root,
      base: null,
      runs,
      jobs: opts.jobs ?? 1,
      devices: opts.devices,
    });

  const tool = (id: string, mode: string, seconds = 0, env: Record<string, string> = {}): PlannedRun => ({
    ...planned(id, root, [process.execPath, 'tool.mjs', path.join(root, 'outputs', id), mode, String(seconds)]),
    env: { WEIGHTS: weights, ...env },
  });

  it('a run that succeeds becomes the next version, parented on its base, with how it was run', async () => {
    const base = await importTrainingOutput(registry, path.dirname(weights), { model: 'classifier' });
    const id = newRunId('classifier');
    const { batch } = await startTraining(registry, {
      recipe: { name: 'classifier', model: 'classifier', metric: 'eval_accuracy' },
      root,
      base,
      runs: [planned(id, root, [process.execPath, 'train_classifier.mjs', `outputs/${id}`], { lr: 0.5 })],
      jobs: 1,
    });
    const [run] = await waitForBatch(registry, batch);
    assert.strictEqual(run.status, 'succeeded', run.error ?? '');
    assert.strictEqual(run.exitCode, 0);
    assert.strictEqual(run.versionRef, 'classifier@v2');
    const v = (await registry.getVersionById(run.versionId!))!;
    assert.strictEqual(v.parentId, base.id);
    assert.strictEqual(v.parentKind, 'train');
    assert.deepStrictEqual(v.params['modelreg.json#train.classifier'], { lr: 0.5 });
    const training = v.details.training as Record<string, unknown>;
    assert.strictEqual(training.run, id);
    assert.deepStrictEqual(training.overridden, ['lr']);
    assert.strictEqual(training.commit, git(root, 'rev-parse', 'HEAD'));
    assert.strictEqual(training.dirty, false);
    assert.ok(
      (await registry.finalMetrics(v.id)).some((m) => m.key === 'eval_accuracy'),
      'the metric log was imported',
    );
    const log = readFileSync(registry.store.objectPath(training.log as string), 'utf8');
    assert.match(log, /^\$ .*train_classifier\.mjs outputs\//);
    assert.strictEqual(run.logObject, training.log);
    assert.ok(!existsSync(path.join(registry.dir, 'runs', id, 'base')), 'the base folder is removed after the run');
  });

  it('the base folder is the base version, as read-only hard links from the store', async () => {
    const base = await importTrainingOutput(registry, path.dirname(weights), { model: 'classifier' });
    const id = newRunId('look');
    const script = `
      const fs = require('fs'); const [b, out] = process.argv.slice(1);
      const st = fs.statSync(b + '/model.safetensors');
      let writable = true; try { fs.writeFileSync(b + '/new.txt', 'x'); } catch { writable = false; }
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(out + '/seen.json', JSON.stringify({ nlink: st.nlink, ino: st.ino, fileMode: st.mode & 0o777, dirMode: fs.statSync(b).mode & 0o777, files: fs.readdirSync(b), writable }));
      fs.copyFileSync(b + '/model.safetensors', out + '/model.safetensors');`;
    const { batch } = await startTraining(registry, {
      recipe: { name: 'look', model: 'classifier' },
      root,
      base,
      runs: [
        planned(id, root, [
          process.execPath,
          '-e',
          script,
          path.join(registry.dir, 'runs', id, 'base'),
          `outputs/${id}`,
        ]),
      ],
      jobs: 1,
    });
    const [run] = await waitForBatch(registry, batch);
    assert.strictEqual(run.status, 'succeeded', run.error ?? '');
    const seen = JSON.parse(readFileSync(path.join(root, 'outputs', id, 'seen.json'), 'utf8'));
    const sha = (await registry.files(base.id)).find((f) => f.path === 'model.safetensors')!.sha256;
    assert.ok(seen.nlink >= 2, 'a hard link, not a copy');
    assert.strictEqual(seen.ino, require('fs').statSync(registry.store.objectPath(sha)).ino);
    assert.deepStrictEqual(
      seen.files.filter((f: string) => f !== 'new.txt').sort(),
      (await registry.files(base.id)).map((f) => f.path).sort(),
    );
    assert.strictEqual(seen.fileMode, 0o444);
    assert.strictEqual(seen.dirMode, 0o555);
    // Permissions do not bind root (CI runs as root): there only the modes can be checked.
    if (process.getuid?.() !== 0) assert.strictEqual(seen.writable, false, 'the script cannot write into its base');
  });

  it('a 2×2 sweep with two jobs makes four versions, never more than two running at once', async () => {
    const runs = [0, 1, 2, 3].map((i) => tool(newRunId(`sweep${i}`), 'ok', 0.8));
    const { batch } = await fromScratch('sweep', 'swept', runs, { jobs: 2 });
    const ended = await waitForBatch(registry, batch);
    assert.deepStrictEqual(
      ended.map((r) => r.status),
      ['succeeded', 'succeeded', 'succeeded', 'succeeded'],
      ended.map((r) => r.error).join('; '),
    );
    assert.deepStrictEqual((await registry.listVersions('swept')).map((v) => v.number).sort(), [1, 2, 3, 4]);
    assert.ok(maxOverlap(ended) <= 2, `at most 2 at once, saw ${maxOverlap(ended)}`);
    assert.strictEqual(maxOverlap(ended), 2, 'two did run at once');
  });

  it('a queued batch (Queue) starts once the runs of other batches have ended; Run starts at once', async () => {
    const first = await fromScratch('busy', 'busy', [tool(newRunId('busy'), 'ok', 1.5)]);
    await eventually(async () =>
      assert.strictEqual((await registry.listRuns({ batch: first.batch }))[0].status, 'running'),
    );
    const queued = await startTraining(registry, {
      recipe: { name: 'later', model: 'later' },
      root,
      base: null,
      runs: [tool(newRunId('later'), 'ok', 0)],
      jobs: 1,
      details: { queue: 'after-running' },
    });
    const now = await fromScratch('now', 'now', [tool(newRunId('now'), 'ok', 0)]);
    const [busy] = await waitForBatch(registry, first.batch);
    const [later] = await waitForBatch(registry, queued.batch);
    const [direct] = await waitForBatch(registry, now.batch);
    assert.ok([busy, later, direct].every((r) => r.status === 'succeeded'));
    assert.ok(
      Date.parse(later.startedAt!) >= Date.parse(busy.finishedAt!),
      `the queued run started after the busy one ended (${later.startedAt} vs ${busy.finishedAt})`,
    );
    assert.ok(
      Date.parse(direct.startedAt!) < Date.parse(busy.finishedAt!),
      'a batch started with Run did not wait for it',
    );
  });

  it("waitForBatch looks again on the runner's writes (the change stamp), not only at its next poll", async () => {
    const { batch } = await fromScratch('prompt', 'prompt', [tool(newRunId('prompt'), 'ok', 0.3)]);
    const seen: string[] = [];
    const started = Date.now();
    // A poll of a minute: only the stamp's watch can end this wait in time.
    const [run] = await waitForBatch(registry, batch, (r) => seen.push(r.status), { pollMs: 60_000 });
    assert.strictEqual(run.status, 'succeeded', run.error ?? '');
    assert.ok(Date.now() - started < 20_000, `ended after ${Date.now() - started} ms`);
    assert.deepStrictEqual(seen.slice(-2), ['running', 'succeeded']);
  });

  it('devices are handed out one per running job as CUDA_VISIBLE_DEVICES, never to two at once', async () => {
    const runs = [0, 1, 2].map((i) => tool(newRunId(`dev${i}`), 'ok', 0.5));
    const { batch } = await fromScratch('dev', 'devices', runs, { jobs: 3, devices: ['7', '9'] });
    const ended = await waitForBatch(registry, batch);
    assert.ok(ended.every((r) => r.status === 'succeeded'));
    const seen = ended.map((r) => JSON.parse(readFileSync(path.join(r.output, 'env.json'), 'utf8')));
    for (const s of seen) assert.ok(['7', '9'].includes(s.cuda), `device ${s.cuda}`);
    // Two runs that overlapped in time had different devices.
    for (const a of ended)
      for (const b of ended)
        if (
          a !== b &&
          Date.parse(a.startedAt!) < Date.parse(b.finishedAt!) &&
          Date.parse(b.startedAt!) < Date.parse(a.finishedAt!)
        )
          assert.notStrictEqual(a.devices, b.devices, `${a.id} and ${b.id} ran at once on one device`);
    assert.deepStrictEqual(
      ended.map((r) => r.devices),
      seen.map((s) => s.cuda),
    );
    assert.ok(maxOverlap(ended) <= 2, 'two devices: two jobs at once');
    for (const s of seen) assert.strictEqual(s.electron, null, 'the runner’s own variables are not passed on');
  });

  it('stop ends the whole process group (the script and its child) and records the run as stopped', async () => {
    const id = newRunId('stop');
    const { batch } = await fromScratch('stop', 'stopped', [tool(id, 'child', 60)]);
    const childPidFile = path.join(root, 'outputs', id, 'child.pid');
    await eventually(() => assert.ok(existsSync(childPidFile), 'the script started its child'), { timeout: 20_000 });
    const run = await registry.requireRun(id);
    const childPid = Number(readFileSync(childPidFile, 'utf8'));
    assert.ok(run.pid && groupAlive(run.pid));
    const stopped = await stopRun(registry, id, { graceMs: 2000 });
    assert.strictEqual(stopped.status, 'stopped');
    assert.ok(!groupAlive(run.pid!), 'no process of the group survives');
    assert.throws(() => process.kill(childPid, 0), /ESRCH/, 'the child is gone too');
    assert.strictEqual(stopped.versionId, null);
    const [ended] = await waitForBatch(registry, batch);
    assert.strictEqual(ended.status, 'stopped');
    assert.deepStrictEqual(await registry.listVersions('stopped').catch(() => []), []);
  });

  it('a failing run keeps its log and exit code and makes no version; Retry runs it again', async () => {
    const id = newRunId('fail');
    const run = { ...tool(id, 'fail'), output: path.join(root, 'outputs', 'fixed') };
    const { batch } = await fromScratch('fail', 'failing', [run]);
    const [ended] = await waitForBatch(registry, batch);
    assert.strictEqual(ended.status, 'failed');
    assert.strictEqual(ended.exitCode, 3);
    assert.match(ended.error!, /exited with code 3/);
    assert.match(readFileSync(ended.log, 'utf8'), /Traceback: the loss is NaN/);
    assert.match(readFileSync(registry.store.objectPath(ended.logObject!), 'utf8'), /Traceback/);
    assert.strictEqual(await registry.getModel('failing'), undefined);
    const again = await retryRun(registry, id);
    assert.notStrictEqual(again.id, id);
    assert.deepStrictEqual(
      again.argv,
      ended.argv.map((a) => a.replace(id, again.id)),
      'the same command, with the new run id where the old one was',
    );
    const [retried] = await waitForBatch(registry, again.batch);
    assert.strictEqual(retried.status, 'failed');
    assert.strictEqual(retried.details.retryOf, id);
  });

  it('Retry of a run named after itself (output outputs/${run}) writes to a folder named after the new run', async () => {
    const id = newRunId('flaky');
    // Fails while the marker file exists: the user fixes the cause, then retries.
    writeFileSync(path.join(root, 'broken'), '');
    const script = `if (require('fs').existsSync('broken')) process.exit(4); require('fs').mkdirSync(process.argv[1], { recursive: true }); require('fs').copyFileSync(process.env.WEIGHTS, process.argv[1] + '/model.safetensors');`;
    const out = path.join(root, 'outputs', id);
    const run = {
      ...planned(id, root, [process.execPath, '-e', script, out]),
      env: { WEIGHTS: weights, RUN_DIR: out },
    };
    const { batch } = await fromScratch('flaky', 'flaky', [run]);
    const [failed] = await waitForBatch(registry, batch);
    assert.strictEqual(failed.status, 'failed');
    assert.strictEqual(failed.exitCode, 4);
    rmSync(path.join(root, 'broken'));
    const again = await retryRun(registry, id);
    const fresh = path.join(root, 'outputs', again.id);
    assert.strictEqual(again.output, fresh);
    assert.deepStrictEqual(again.argv, [process.execPath, '-e', script, fresh]);
    assert.strictEqual(again.env.RUN_DIR, fresh);
    const [retried] = await waitForBatch(registry, again.batch);
    assert.strictEqual(retried.status, 'succeeded', retried.error ?? '');
    assert.strictEqual(retried.versionRef, 'flaky@v1');
    assert.ok(existsSync(path.join(fresh, 'model.safetensors')));
    assert.ok(!existsSync(out), "nothing was written under the failed run's name");
  });

  it('a command that does not exist fails with what could not be started', async () => {
    const id = newRunId('missing');
    const { batch } = await fromScratch('missing', 'missing', [
      planned(id, root, ['no-such-trainer-xyz', '--out', 'x']),
    ]);
    const [ended] = await waitForBatch(registry, batch);
    assert.strictEqual(ended.status, 'failed');
    assert.match(ended.error!, /cannot start no-such-trainer-xyz: not found/);
  });

  it('a stop before a queued run starts takes it out of the queue', async () => {
    const first = tool(newRunId('q1'), 'ok', 1.5);
    const second = tool(newRunId('q2'), 'ok', 0);
    const { batch } = await fromScratch('q', 'queued', [first, second]);
    const stopped = await stopRun(registry, second.id);
    assert.strictEqual(stopped.status, 'stopped');
    assert.strictEqual(stopped.startedAt, null);
    const ended = await waitForBatch(registry, batch);
    assert.deepStrictEqual(
      ended.map((r) => r.status),
      ['succeeded', 'stopped'],
    );
  });

  it('a runner that died is noticed and its run marked failed', async () => {
    const id = newRunId('orphan');
    await fromScratch('orphan', 'orphan', [tool(id, 'ok', 30)]);
    await eventually(async () => assert.ok((await registry.requireRun(id)).pid, 'started'), { timeout: 20_000 });
    const run = await registry.requireRun(id);
    process.kill(run.runner!.pid, 'SIGKILL');
    await eventually(
      async () => {
        const [r] = await registry.listRuns({ batch: run.batch });
        assert.strictEqual(r.status, 'failed');
        assert.match(r.error!, new RegExp(`runner \\(process ${run.runner!.pid}\\) ended`));
      },
      { timeout: 10_000 },
    );
    process.kill(-run.pid!, 'SIGKILL');
  });

  it('a run on uncommitted code stores the diff, so the change can be applied again', async () => {
    writeFileSync(
      path.join(root, 'train_classifier.mjs'),
      readFileSync(TRAIN_CLASSIFIER, 'utf8').replace('const LEARNING_RATE = 0.5;', 'const LEARNING_RATE = 0.3;'),
    );
    const id = newRunId('dirty');
    const { batch } = await fromScratch('dirty', 'dirty', [
      planned(id, root, [process.execPath, 'train_classifier.mjs', `outputs/${id}`]),
    ]);
    const [run] = await waitForBatch(registry, batch);
    assert.strictEqual(run.status, 'succeeded', run.error ?? '');
    assert.strictEqual(run.git?.dirty, true);
    const diff = readFileSync(registry.store.objectPath(run.git!.diff!), 'utf8');
    assert.match(diff, /-const LEARNING_RATE = 0\.5;\n\+const LEARNING_RATE = 0\.3;/);
    // gc keeps it: the run refers to it.
    await registry.gc();
    assert.ok(existsSync(registry.store.objectPath(run.git!.diff!)));
    git(root, 'checkout', '--', 'train_classifier.mjs');
    git(root, 'apply', registry.store.objectPath(run.git!.diff!));
    assert.match(readFileSync(path.join(root, 'train_classifier.mjs'), 'utf8'), /LEARNING_RATE = 0\.3/);
  });
});

/** The most runs that were running at one moment, from their recorded start and end times. */
function maxOverlap(runs: RunRecord[]): number {
  const events = runs.flatMap((r) => [
    { t: Date.parse(r.startedAt!), d: 1 },
    { t: Date.parse(r.finishedAt!), d: -1 },
  ]);
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of events) max = Math.max(max, (now += e.d));
  return max;
}

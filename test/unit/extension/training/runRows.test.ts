import * as assert from 'assert';
import type { RunRecord } from '../../../../src/core';
import { formatElapsed, runEndMessage, runRow } from '../../../../src/extension/training/runRows';

const START = '2026-12-02T10:00:00.000Z';
const t0 = Date.parse(START);

function run(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'classifier-20261202-100000-ab12',
    batch: 'batch-20261202-100000-ab12',
    recipe: 'classifier',
    model: 'classifier',
    root: '/repo',
    base: { id: 1, ref: 'classifier@v1' },
    status: 'running',
    params: { lr: 0.1, epochs: 8 },
    overridden: ['lr'],
    argv: ['python3', 'train.py', '--lr', '0.1'],
    env: {},
    output: '/repo/outputs/x',
    log: '/repo/.modelreg/runs/x/log.txt',
    metric: 'eval_accuracy',
    jobs: 1,
    devices: null,
    pid: 123,
    runner: { pid: 122, host: 'h' },
    stopRequested: false,
    exitCode: null,
    signal: null,
    error: null,
    queuedAt: START,
    startedAt: START,
    finishedAt: null,
    versionId: null,
    versionRef: null,
    git: { commit: 'a'.repeat(40), dirty: true, diff: 'b'.repeat(64) },
    logObject: null,
    details: {},
    ...over,
  };
}

describe('Runs view rows', () => {
  it('formats elapsed time as m:ss, then h:mm:ss', () => {
    assert.strictEqual(formatElapsed(0), '0:00');
    assert.strictEqual(formatElapsed(7_900), '0:07');
    assert.strictEqual(formatElapsed(245_000), '4:05');
    assert.strictEqual(formatElapsed(3_723_000), '1:02:03');
    assert.strictEqual(formatElapsed(-5), '0:00', 'a clock behind the start is not negative time');
  });

  it('a running run: the recipe as label; status, elapsed, epoch, the metric, then the params set in the description', () => {
    const row = runRow(run(), { step: 30, epoch: 3, metric: { key: 'eval_accuracy', value: 0.81234 } }, t0 + 42_000);
    assert.strictEqual(row.label, 'classifier');
    assert.strictEqual(row.description, 'running · 0:42 · epoch 3 · eval_accuracy 0.8123 · lr=0.1');
    assert.strictEqual(row.contextValue, 'run.running');
    assert.strictEqual(row.icon, 'sync~spin');
    assert.match(row.tooltip, /from classifier@v1/);
    assert.match(row.tooltip, /lr=0\.1 \(set\), epochs=8/);
    assert.match(row.tooltip, /code aaaaaaaaaaaa with uncommitted changes/);
  });

  it('a step when the log has no epoch; nothing before the first point', () => {
    assert.strictEqual(
      runRow(run(), { step: 120, epoch: null, metric: null }, t0 + 1000).description,
      'running · 0:01 · step 120 · lr=0.1',
    );
    assert.strictEqual(runRow(run({ overridden: [] }), undefined, t0 + 1000).description, 'running · 0:01');
  });

  it('ended runs: the version made, or how it failed; the context value offers Reveal only with a version', () => {
    const done = run({
      status: 'succeeded',
      finishedAt: '2026-12-02T10:01:05.000Z',
      versionId: 7,
      versionRef: 'classifier@v2',
    });
    const row = runRow(done, undefined, t0 + 999_000);
    assert.strictEqual(row.description, '→ classifier@v2 · 1:05 · lr=0.1', 'the time it ran, not the time since');
    assert.strictEqual(row.contextValue, 'run.succeeded.version');
    const failed = runRow(
      run({
        status: 'failed',
        exitCode: 3,
        finishedAt: '2026-12-02T10:00:05.000Z',
        error: 'the command exited with code 3',
      }),
      undefined,
      t0,
    );
    assert.strictEqual(failed.description, 'failed (exit 3) · 0:05 · lr=0.1');
    assert.strictEqual(failed.contextValue, 'run.failed');
    assert.match(failed.tooltip, /failed — the command exited with code 3/);
    assert.strictEqual(
      runRow(run({ status: 'queued', startedAt: null }), undefined, t0).description,
      'queued · lr=0.1',
    );
  });

  it('says how a run ended, naming the version and its base', () => {
    assert.strictEqual(
      runEndMessage(run({ status: 'succeeded', versionRef: 'classifier@v2' })),
      'Training classifier (lr=0.1) finished: classifier@v2 from classifier@v1.',
    );
    assert.strictEqual(
      runEndMessage(run({ status: 'failed', error: 'the command exited with code 3', overridden: [] })),
      'Training classifier failed: the command exited with code 3. No version was made.',
    );
    assert.strictEqual(
      runEndMessage(run({ status: 'stopped' })),
      'Training classifier (lr=0.1) was stopped; no version was made.',
    );
  });
});

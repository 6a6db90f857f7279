// `modelreg evaluate` killed with SIGKILL (a real CLI child): its row records the process, and gc
// removes the rows (and samples) of evaluations whose process is dead, keeping a live one's.
import * as assert from 'assert';
import { ChildProcess, spawn } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { registerDataset } from '../../../../src/core/datasets/register';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { onnxModelBytes } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';
import { CLI_JS } from '../../helpers/paths';
import { sqlOf } from '../../helpers/sql';

const CLI = CLI_JS;

interface Row {
  id: number;
  status: string;
  runner_pid: number | null;
  samples: number;
}

describe('a SIGKILLed evaluation (real processes)', function () {
  this.timeout(180_000);
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  /** Starts `modelreg evaluate`; resolves once its running row has stored some samples. */
  async function startEvaluation(
    registry: string,
    r: Registry,
  ): Promise<{ child: ChildProcess; closed: Promise<unknown>; row: Row }> {
    const child = spawn(
      process.execPath,
      [CLI, '--registry', registry, 'evaluate', 'm@v1', '--dataset', 'd', '--batch', '16'],
      { stdio: 'ignore' },
    );
    children.push(child);
    const closed = new Promise((resolve) => child.on('close', resolve));
    let ended = false;
    void closed.then(() => (ended = true));
    for (;;) {
      const row = (await rows(r)).find((x) => x.runner_pid === child.pid && x.samples > 0);
      if (row) return { child, closed, row };
      assert.ok(!ended, 'the evaluation ended before it had stored samples');
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  const rows = (r: Registry) =>
    sqlOf(r).all<Row>(
      'SELECT e.id, e.status, e.runner_pid, (SELECT COUNT(*) FROM evaluation_samples s WHERE s.evaluation_id = e.id) AS samples FROM evaluations e ORDER BY e.id',
    );

  it('gc removes the killed one with its samples and keeps the live one', async () => {
    const work = tempDir();
    const registry = path.join(work, 'reg');
    const r = await Registry.open(registry);
    try {
      mkdirSync(path.join(work, 'model'));
      writeFileSync(
        path.join(work, 'model', 'model.onnx'),
        onnxModelBytes({ features: 2, classes: 3, softmax: false }),
      );
      await importTrainingOutput(r, path.join(work, 'model'), { model: 'm' });
      const lines = Array.from({ length: 200_000 }, (_, i) => `${(i % 10) / 10},${(i % 7) / 7},${'abc'[i % 3]}`);
      writeFileSync(path.join(work, 'data.csv'), `x1,x2,label\n${lines.join('\n')}\n`);
      await registerDataset(r, path.join(work, 'data.csv'), { name: 'd' });

      const killed = await startEvaluation(registry, r);
      killed.child.kill('SIGKILL');
      await killed.closed;
      const live = await startEvaluation(registry, r);
      assert.deepStrictEqual(
        (await rows(r)).map((x) => x.status),
        ['running', 'running'],
      );

      const gc = await r.gc();
      const left = await rows(r);
      assert.deepStrictEqual(
        left.map((x) => x.id),
        [live.row.id],
        'the live evaluation stays, the killed one goes',
      );
      assert.strictEqual(gc.removedEvaluations, 1);
      assert.deepStrictEqual(
        await sqlOf(r).all('SELECT evaluation_id FROM evaluation_samples WHERE evaluation_id = ?', [killed.row.id]),
        [],
      );

      live.child.kill('SIGKILL');
      await live.closed;
      await r.gc();
      assert.deepStrictEqual(await rows(r), []);
      assert.deepStrictEqual(await sqlOf(r).all('SELECT evaluation_id FROM evaluation_samples'), []);
    } finally {
      await r.close();
    }
  });
});

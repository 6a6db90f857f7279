import * as assert from 'assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'child_process';
import * as path from 'path';
import { readMetricLogs } from '../../../../src/core/inspect/logs';
import type { MetricLog } from '../../../../src/core/inspect/types';
import { followRunMetrics, runProgress } from '../../../../src/core/train/liveMetrics';
import { eventually } from '../../../helpers/eventually';
import { encodeTfEvent, pythonJson, tfRecord } from '../../helpers/makeLogs';
import { tempDir } from '../../helpers/tmp';

/**
 * A real training stand-in: a separate node process that makes each write it is told to (append,
 * rewrite in place, mkdir), fsyncs it, and answers "ok". The test decides when each write happens,
 * so it can check what the follower saw in between without any timing.
 */
const WRITER = `
const fs = require('fs');
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const op = JSON.parse(line);
  if (op.op === 'mkdir') fs.mkdirSync(op.file, { recursive: true });
  else {
    const fd = fs.openSync(op.file, op.op === 'append' ? 'a' : 'r+');
    if (op.op === 'rewrite') fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, Buffer.from(op.data, 'base64'), 0, undefined, op.op === 'rewrite' ? 0 : null);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  process.stdout.write('ok\\n');
});
`;

class Writer {
  private readonly child: ChildProcessWithoutNullStreams;
  private waiting: (() => void)[] = [];

  constructor() {
    this.child = spawn(process.execPath, ['-e', WRITER]);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      for (let i = 0; i < d.split('\n').length - 1; i++) this.waiting.shift()?.();
    });
  }

  private send(op: Record<string, string>): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(JSON.stringify(op) + '\n');
    });
  }

  append(file: string, data: string | Buffer): Promise<void> {
    return this.send({ op: 'append', file, data: Buffer.from(data).toString('base64') });
  }

  /** Truncates and writes the file in place (same inode), as a trainer rewriting its state does. */
  rewrite(file: string, data: string): Promise<void> {
    return this.send({ op: 'rewrite', file, data: Buffer.from(data).toString('base64') });
  }

  mkdir(dir: string): Promise<void> {
    return this.send({ op: 'mkdir', file: dir });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.child.on('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}

/** Every onSeries call of a follower, and its disposer. */
function follow(dir: string): { calls: MetricLog[][]; last: () => MetricLog[]; stop: () => void } {
  const calls: MetricLog[][] = [];
  const stop = followRunMetrics(dir, (s) => calls.push(s));
  return { calls, last: () => calls[calls.length - 1] ?? [], stop };
}

function series(logs: MetricLog[], source: string, key: string): { steps: number[]; values: number[] } {
  const s = logs.find((l) => l.source === source)?.series.find((x) => x.key === key);
  return { steps: s?.steps ?? [], values: s?.values ?? [] };
}

const line = (rec: Record<string, number>): string => JSON.stringify(rec) + '\n';

describe('liveMetrics', () => {
  let writer: Writer;
  const stops: (() => void)[] = [];
  beforeEach(() => {
    writer = new Writer();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    await writer.close();
  });

  it('shows a metrics.jsonl growing point by point, as the import will read it', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'metrics.jsonl');
    const f = follow(dir);
    stops.push(f.stop);
    for (let e = 1; e <= 5; e++) {
      await writer.append(file, line({ epoch: e, step: 10 * e, loss: 1 / e, eval_accuracy: 0.3 + e / 10 }));
      await eventually(() => assert.equal(series(f.last(), 'metrics.jsonl', 'loss').steps.length, e));
      assert.deepEqual(
        series(f.last(), 'metrics.jsonl', 'loss').steps,
        Array.from({ length: e }, (_, i) => 10 * (i + 1)),
      );
    }
    assert.deepEqual(f.last(), await readMetricLogs(dir, ['metrics.jsonl']));
    assert.deepEqual(await runProgress(dir, 'eval_accuracy'), {
      step: 50,
      epoch: 5,
      metric: { key: 'eval_accuracy', value: 0.3 + 5 / 10 },
    });
    // Without the recipe's metric: the first eval accuracy-like key, else loss.
    assert.equal((await runProgress(dir))?.metric?.key, 'eval_accuracy');
  });

  it('reads a Lightning metrics.csv with blank cells the way readCsvLog does', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'metrics.csv');
    const f = follow(dir);
    stops.push(f.stop);
    await writer.append(file, 'epoch,step,train_loss,val_loss\n');
    for (let s = 1; s <= 4; s++) {
      await writer.append(file, s % 2 ? `0,${s},${1 / s},\n` : `0,${s},,${2 / s}\n`);
      await eventually(() => {
        const got = f.last().find((l) => l.source === 'metrics.csv');
        assert.equal(
          (got?.series ?? []).reduce((n, x) => n + x.steps.length, 0),
          s,
        );
      });
    }
    assert.deepEqual(f.last(), await readMetricLogs(dir, ['metrics.csv']));
    assert.deepEqual(series(f.last(), 'metrics.csv', 'val_loss').steps, [2, 4]);
    // No accuracy-like eval key and no "loss": the first *loss series.
    assert.deepEqual(await runProgress(dir), { step: 4, epoch: 0, metric: { key: 'train_loss', value: 1 / 3 } });
  });

  it('waits out half-written lines and a trainer_state.json mid-rewrite, keeping the last good series', async () => {
    const dir = tempDir();
    const jsonl = path.join(dir, 'metrics.jsonl');
    const csv = path.join(dir, 'logs', 'metrics.csv');
    const state = path.join(dir, 'trainer_state.json');
    const trainerState = (steps: number) =>
      pythonJson({
        global_step: steps,
        epoch: steps / 2,
        log_history: Array.from({ length: steps }, (_, i) => ({ step: i + 1, epoch: (i + 1) / 2, loss: 1 / (i + 1) })),
      });
    await writer.mkdir(path.dirname(csv));
    await writer.append(jsonl, line({ step: 1, loss: 1 }));
    await writer.append(csv, 'step,acc\n1,0.5\n');
    await writer.append(state, trainerState(1));
    const f = follow(dir);
    stops.push(f.stop);
    await eventually(() => {
      assert.equal(series(f.last(), 'metrics.jsonl', 'loss').steps.length, 1);
      assert.equal(series(f.last(), 'trainer_state.json', 'loss').steps.length, 1);
      assert.equal(series(f.last(), 'logs/metrics.csv', 'acc').steps.length, 1);
    });

    // Half a JSON line, half a CSV row, and a trainer state cut off in the middle of its rewrite.
    await writer.append(jsonl, '{"step": 2, "lo');
    await writer.append(csv, '2,0.');
    const full = trainerState(2);
    await writer.rewrite(state, full.slice(0, full.length / 2));
    // A sentinel in a fourth log: once it shows, the scan that saw it also read the half-written files.
    await writer.mkdir(path.join(dir, 'sentinel'));
    await writer.append(path.join(dir, 'sentinel', 'metrics.jsonl'), line({ step: 1, x: 1 }));
    await eventually(() => assert.equal(series(f.last(), 'sentinel/metrics.jsonl', 'x').steps.length, 1));
    assert.deepEqual(series(f.last(), 'metrics.jsonl', 'loss').steps, [1]);
    assert.deepEqual(series(f.last(), 'logs/metrics.csv', 'acc').steps, [1]);
    assert.deepEqual(series(f.last(), 'trainer_state.json', 'loss').steps, [1]);

    await writer.append(jsonl, 'ss": 0.5}\n');
    await writer.append(csv, '75\n');
    await writer.rewrite(state, full);
    await eventually(() => {
      assert.deepEqual(series(f.last(), 'metrics.jsonl', 'loss'), { steps: [1, 2], values: [1, 0.5] });
      assert.deepEqual(series(f.last(), 'logs/metrics.csv', 'acc'), { steps: [1, 2], values: [0.5, 0.75] });
      assert.deepEqual(series(f.last(), 'trainer_state.json', 'loss').steps, [1, 2]);
    });
    const rels = ['logs/metrics.csv', 'metrics.jsonl', 'sentinel/metrics.jsonl', 'trainer_state.json'];
    assert.deepEqual(f.last(), await readMetricLogs(dir, rels));
  });

  it('follows TensorBoard event files as they grow', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.out.tfevents.1.host');
    const event = (step: number) =>
      tfRecord(
        encodeTfEvent({ wall_time: 1.7e9 + step, step, summary: { value: [{ tag: 'loss', simple_value: 1 / step }] } }),
      );
    await writer.append(file, tfRecord(encodeTfEvent({ wall_time: 1.7e9, file_version: 'brain.Event:2' })));
    const f = follow(dir);
    stops.push(f.stop);
    for (let s = 1; s <= 3; s++) {
      const rec = event(s);
      // The record in two writes: the first half alone is a truncated record, read as not there yet.
      await writer.append(file, rec.subarray(0, 10));
      await writer.append(file, rec.subarray(10));
      await eventually(() => assert.equal(series(f.last(), 'events.out.tfevents.1.host', 'loss').steps.length, s));
    }
    assert.deepEqual(f.last(), await readMetricLogs(dir, ['events.out.tfevents.1.host']));
  });

  it('picks up an output folder the run creates after following started', async () => {
    const root = tempDir();
    const dir = path.join(root, 'outputs', 'run-1');
    const f = follow(dir);
    stops.push(f.stop);
    await writer.mkdir(path.join(dir, 'sub'));
    await writer.append(path.join(dir, 'sub', 'metrics.jsonl'), line({ step: 1, loss: 2 }));
    await eventually(() => assert.deepEqual(series(f.last(), 'sub/metrics.jsonl', 'loss').steps, [1]));
    await writer.append(path.join(dir, 'sub', 'metrics.jsonl'), line({ step: 2, loss: 1 }));
    await eventually(() => assert.deepEqual(series(f.last(), 'sub/metrics.jsonl', 'loss').steps, [1, 2]));
  });

  it('stops calling back once disposed', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'metrics.jsonl');
    const first = follow(dir);
    await writer.append(file, line({ step: 1, loss: 1 }));
    await eventually(() => assert.equal(series(first.last(), 'metrics.jsonl', 'loss').steps.length, 1));
    first.stop();
    const calls = first.calls.length;
    await writer.append(file, line({ step: 2, loss: 0.5 }));
    // A second follower seeing the write means the first had every chance to see it too.
    const second = follow(dir);
    stops.push(second.stop);
    await eventually(() => assert.equal(series(second.last(), 'metrics.jsonl', 'loss').steps.length, 2));
    await writer.append(file, line({ step: 3, loss: 0.25 }));
    await eventually(() => assert.equal(series(second.last(), 'metrics.jsonl', 'loss').steps.length, 3));
    assert.equal(first.calls.length, calls);
  });

  it('runProgress of a folder that does not exist yet is empty', async () => {
    assert.deepEqual(await runProgress(path.join(tempDir(), 'nope'), 'loss'), {
      step: null,
      epoch: null,
      metric: null,
    });
  });
});

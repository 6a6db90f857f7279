import * as assert from 'assert/strict';
import { writeFileSync } from 'fs';
import * as path from 'path';
import type { TensorData } from '../../../../src/core/onnxrt/protocol';
import { OrtSession } from '../../../../src/core/onnxrt/session';
import {
  BatcherClosedError,
  concatRows,
  DynamicBatcher,
  Feeds,
  QueueFullError,
  splitRows,
  TensorShapeError,
} from '../../../../src/core/serve/batcher';
import { FLOAT, floatTensor, modelBytes, node, vi } from '../../helpers/onnxModels';
import { tempDir } from '../../helpers/tmp';

const row = (...v: number[]): Feeds => ({ x: { type: 'float32', dims: [1, v.length], data: Float32Array.from(v) } });
const rows = (n: number, width: number, start: number): Feeds => ({
  x: { type: 'float32', dims: [n, width], data: Float32Array.from({ length: n * width }, (_, i) => start + i) },
});

/** A pure JS model: y = 2x + 1 over the whole batch; records each run's rows, and how many ran at once. */
function affineJs(opts: { gate?: () => Promise<void>; failIfNegative?: boolean } = {}) {
  const batches: number[] = [];
  let active = 0;
  let maxActive = 0;
  const run = async (feeds: Feeds): Promise<Feeds> => {
    active++;
    maxActive = Math.max(maxActive, active);
    try {
      batches.push(feeds.x.dims[0]);
      await (opts.gate?.() ?? Promise.resolve());
      const x = feeds.x.data as Float32Array;
      if (opts.failIfNegative && x.some((v) => v < 0)) throw new Error('negative input');
      return { y: { type: 'float32', dims: feeds.x.dims, data: x.map((v) => 2 * v + 1) } };
    } finally {
      active--;
    }
  };
  return { run, batches, maxActive: () => maxActive };
}

/** A gate the test opens: run() waits on it; `started` resolves when a run is waiting. */
function gate() {
  let open!: () => void;
  let opened = new Promise<void>((r) => (open = r));
  let started!: () => void;
  let startedP = new Promise<void>((r) => (started = r));
  return {
    wait: () => {
      started();
      return opened;
    },
    started: () => startedP,
    open: () => {
      open();
      opened = new Promise<void>((r) => (open = r));
      startedP = new Promise<void>((r) => (started = r));
    },
  };
}

const ys = (out: Feeds) => Array.from(out.y.data as Float32Array);

describe('DynamicBatcher: requests merged along axis 0', () => {
  it('64 concurrent single-row submits with maxBatch 16: each answer is its own, in 4 full batches', async () => {
    const m = affineJs();
    const b = new DynamicBatcher({ maxBatch: 16, delayMs: 50, maxQueue: 100 }, m.run);
    const outs = await Promise.all(Array.from({ length: 64 }, (_, i) => b.submit(row(i, -i, i / 2))));
    outs.forEach((o, i) => {
      assert.deepEqual(o.y.dims, [1, 3]);
      assert.deepEqual(ys(o), [2 * i + 1, -2 * i + 1, i + 1]);
    });
    // A full batch runs without waiting the delay.
    assert.deepEqual(m.batches, [16, 16, 16, 16]);
    assert.equal(m.maxActive(), 1);
    await b.close();
  });

  it('requests within the delay run together; multi-row requests keep their rows in order', async () => {
    const m = affineJs();
    const b = new DynamicBatcher({ maxBatch: 16, delayMs: 30, maxQueue: 100 }, m.run);
    const [a, c, d] = await Promise.all([b.submit(rows(2, 2, 0)), b.submit(rows(1, 2, 10)), b.submit(rows(3, 2, 20))]);
    assert.deepEqual(m.batches, [6]);
    assert.deepEqual(a.y.dims, [2, 2]);
    assert.deepEqual(ys(a), [1, 3, 5, 7]);
    assert.deepEqual(ys(c), [21, 23]);
    assert.deepEqual(d.y.dims, [3, 2]);
    assert.deepEqual(ys(d), [41, 43, 45, 47, 49, 51]);
  });

  it('one run at a time: the next batch forms while one runs, and only its requests join it', async () => {
    const g = gate();
    const m = affineJs({ gate: g.wait });
    const b = new DynamicBatcher({ maxBatch: 8, delayMs: 0, maxQueue: 100 }, m.run);
    const first = b.submit(row(1));
    await g.started();
    const later = [b.submit(row(2)), b.submit(row(3)), b.submit(row(4))];
    assert.equal(b.waiting, 3);
    g.open();
    await first;
    await g.started();
    g.open();
    assert.deepEqual((await Promise.all(later)).map(ys), [[5], [7], [9]]);
    assert.deepEqual(m.batches, [1, 3]);
    assert.equal(m.maxActive(), 1);
  });

  it('a request with more rows than maxBatch runs alone, as it came; the rest fill batches up to maxBatch', async () => {
    const m = affineJs();
    const b = new DynamicBatcher({ maxBatch: 4, delayMs: 20, maxQueue: 100 }, m.run);
    const big = b.submit(rows(6, 1, 0));
    const small = [b.submit(rows(3, 1, 100)), b.submit(rows(2, 1, 200)), b.submit(rows(1, 1, 300))];
    assert.deepEqual(ys(await big), [1, 3, 5, 7, 9, 11]);
    assert.deepEqual((await Promise.all(small)).map(ys), [[201, 203, 205], [401, 403], [601]]);
    // 3 + 1 fill a batch (the 2-row request would overflow it and waits for the next).
    assert.deepEqual(m.batches, [6, 4, 2]);
  });

  it('does not merge requests with other non-batch dims, input names or element types', async () => {
    const seen: string[][] = [];
    const run = async (feeds: Feeds): Promise<Feeds> => {
      seen.push(Object.entries(feeds).map(([k, t]) => `${k}:${t.type}[${t.dims.join(',')}]`));
      return Object.fromEntries(Object.entries(feeds).map(([k, t]) => [`${k}_out`, t]));
    };
    const b = new DynamicBatcher({ maxBatch: 16, delayMs: 20, maxQueue: 100 }, run);
    const f32 = (w: number): TensorData => ({ type: 'float32', dims: [1, w], data: new Float32Array(w) });
    const outs = await Promise.all([
      b.submit({ x: f32(3) }),
      b.submit({ x: f32(4) }),
      b.submit({ x: f32(3) }),
      b.submit({ x: f32(3), z: f32(2) }),
      b.submit({ x: { type: 'int32', dims: [1, 3], data: new Int32Array(3) } }),
      b.submit({ z: f32(3) }),
    ]);
    assert.deepEqual(seen, [
      ['x:float32[2,3]'],
      ['x:float32[1,4]'],
      ['x:float32[1,3]', 'z:float32[1,2]'],
      ['x:int32[1,3]'],
      ['z:float32[1,3]'],
    ]);
    assert.deepEqual(
      outs.map((o) => Object.keys(o)),
      [['x_out'], ['x_out'], ['x_out'], ['x_out', 'z_out'], ['x_out'], ['z_out']],
    );
  });

  it('a full queue rejects with QueueFullError while the queued requests still complete', async () => {
    const g = gate();
    const m = affineJs({ gate: g.wait });
    const b = new DynamicBatcher({ maxBatch: 2, delayMs: 0, maxQueue: 3 }, m.run);
    const running = b.submit(row(0));
    await g.started();
    const queued = [b.submit(row(1)), b.submit(row(2)), b.submit(row(3))];
    await assert.rejects(
      b.submit(row(4)),
      (e: Error) => e instanceof QueueFullError && /queue is full \(3/.test(e.message),
    );
    const opener = setInterval(g.open, 1);
    try {
      assert.deepEqual(ys(await running), [1]);
      assert.deepEqual((await Promise.all(queued)).map(ys), [[3], [5], [7]]);
      assert.deepEqual(m.batches, [1, 2, 1]);
      // Room again once the queue drained.
      assert.deepEqual(ys(await b.submit(row(5))), [11]);
    } finally {
      clearInterval(opener);
    }
  });

  it('an error in run rejects every request of that batch, and the batcher keeps working', async () => {
    const m = affineJs({ failIfNegative: true });
    const b = new DynamicBatcher({ maxBatch: 3, delayMs: 10, maxQueue: 100 }, m.run);
    const bad = [b.submit(row(1)), b.submit(row(-1)), b.submit(row(2))];
    const good = [b.submit(row(3)), b.submit(row(4))];
    for (const p of bad) await assert.rejects(p, /negative input/);
    assert.deepEqual((await Promise.all(good)).map(ys), [[7], [9]]);
    assert.deepEqual(ys(await b.submit(row(5))), [11]);
    assert.deepEqual(m.batches, [3, 2, 1]);
  });

  it('an output without the batch axis fails every request of a merged batch, naming the output', async () => {
    const run = async (feeds: Feeds): Promise<Feeds> => ({
      y: feeds.x,
      total: { type: 'float32', dims: [1], data: Float32Array.of(0) },
    });
    const b = new DynamicBatcher({ maxBatch: 4, delayMs: 10, maxQueue: 100 }, run);
    const both = [b.submit(row(1)), b.submit(row(2))];
    for (const p of both)
      await assert.rejects(p, /output total has shape \[1\], which cannot be split into 2 requests/);
    // Alone, a request gets its outputs as they are.
    const alone = await b.submit(row(3));
    assert.deepEqual(alone.total.dims, [1]);
  });

  it('a request without a common first dim (a scalar feed) runs alone, unsplit', async () => {
    const seen: number[] = [];
    const run = async (feeds: Feeds): Promise<Feeds> => {
      seen.push(Object.keys(feeds).length);
      return feeds;
    };
    const b = new DynamicBatcher({ maxBatch: 4, delayMs: 10, maxQueue: 100 }, run);
    const scalar: Feeds = { s: { type: 'int64', dims: [], data: BigInt64Array.of(7n) } };
    const [a, c] = await Promise.all([b.submit(scalar), b.submit(scalar)]);
    assert.deepEqual(a, scalar);
    assert.deepEqual(c, scalar);
    assert.deepEqual(seen, [1, 1]);
  });

  it('reports each execution to onExecution: rows, requests, one queue time per request, compute time', async () => {
    const calls: [number, number, number[], number][] = [];
    const m = affineJs();
    const b = new DynamicBatcher({ maxBatch: 8, delayMs: 10, maxQueue: 100 }, m.run, {
      onExecution: (r, n, q, c) => calls.push([r, n, q, c]),
    });
    await Promise.all([b.submit(rows(2, 1, 0)), b.submit(row(1)), b.submit(rows(3, 1, 0))]);
    assert.equal(calls.length, 1);
    const [r, n, q, c] = calls[0];
    assert.equal(r, 6);
    assert.equal(n, 3);
    assert.equal(q.length, 3);
    assert.ok(q.every((ms) => ms >= 0) && c >= 0);
  });

  it('close() answers what is queued without waiting the delay, then refuses new requests', async () => {
    const m = affineJs();
    const b = new DynamicBatcher({ maxBatch: 8, delayMs: 60_000, maxQueue: 100 }, m.run);
    const queued = [b.submit(row(1)), b.submit(row(2))];
    await b.close();
    assert.deepEqual((await Promise.all(queued)).map(ys), [[3], [5]]);
    await assert.rejects(b.submit(row(3)), BatcherClosedError);
    await b.close(); // idempotent
  });

  it('refuses options out of range', () => {
    const m = affineJs();
    assert.throws(() => new DynamicBatcher({ maxBatch: 0, delayMs: 1, maxQueue: 1 }, m.run), RangeError);
    assert.throws(() => new DynamicBatcher({ maxBatch: 1, delayMs: -1, maxQueue: 1 }, m.run), RangeError);
    assert.throws(() => new DynamicBatcher({ maxBatch: 1, delayMs: 1, maxQueue: 0 }, m.run), RangeError);
  });
});

describe('concatRows / splitRows', () => {
  const kinds: [string, (v: number[]) => TensorData['data']][] = [
    ['float32', (v) => Float32Array.from(v)],
    ['float64', (v) => Float64Array.from(v)],
    ['float16', (v) => Uint16Array.from(v)],
    ['int8', (v) => Int8Array.from(v)],
    ['uint8', (v) => Uint8Array.from(v)],
    ['bool', (v) => Uint8Array.from(v, (x) => x & 1)],
    ['int16', (v) => Int16Array.from(v)],
    ['int32', (v) => Int32Array.from(v)],
    ['uint32', (v) => Uint32Array.from(v)],
    ['int64', (v) => BigInt64Array.from(v, BigInt)],
    ['uint64', (v) => BigUint64Array.from(v, BigInt)],
    ['string', (v) => v.map((x) => `s${x}`)],
  ];
  for (const [type, make] of kinds) {
    it(`joins and splits ${type} tensors along axis 0, keeping the array kind`, () => {
      const a: Feeds = { t: { type, dims: [1, 2, 2], data: make([1, 2, 3, 4]) } };
      const b: Feeds = { t: { type, dims: [2, 2, 2], data: make([5, 6, 7, 8, 9, 10, 11, 12]) } };
      const joined = concatRows([a, b]);
      assert.deepEqual(joined.t.dims, [3, 2, 2]);
      assert.equal(joined.t.data.constructor, a.t.data.constructor);
      assert.deepEqual(joined.t.data, make([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
      assert.deepEqual(splitRows(joined, [1, 2]), [a, b]);
    });
  }

  it('concatRows refuses feed lists with other names or shapes, saying which request', () => {
    assert.throws(() => concatRows([row(1, 2), row(1, 2, 3)]), /request 1 has other inputs or shapes/);
    assert.throws(() => concatRows([]), /no feeds/);
  });

  it('splitRows names the output whose first dim is not the rows asked for', () => {
    assert.throws(() => splitRows({ y: row(1, 2).x }, [1, 1]), /output y has shape \[1, 2\]/);
  });
});

/** y = x·W + b with W 3×2 and b [0.5, -1]: an affine map on a dynamic batch axis ([-1, 3] in OIP terms). */
function affineOnnx(): Buffer {
  return modelBytes({
    name: 'affine',
    node: [node('MatMul', ['x', 'W'], ['xw']), node('Add', ['xw', 'b'], ['y'])],
    initializer: [floatTensor('W', [3, 2], [1, 2, 3, 4, 5, 6]), floatTensor('b', [2], [0.5, -1])],
    input: [vi('x', FLOAT, ['batch', 3])],
    output: [vi('y', FLOAT, ['batch', 2])],
  });
}

describe('DynamicBatcher with a real onnxruntime session', function () {
  this.timeout(60000);

  it('64 concurrent single-row requests, maxBatch 16: every answer correct and in order, at most 8 runs', async () => {
    const file = path.join(tempDir('modelreg-batcher-'), 'affine.onnx');
    writeFileSync(file, affineOnnx());
    const s = await OrtSession.create(file);
    try {
      const executions: number[] = [];
      const b = new DynamicBatcher({ maxBatch: 16, delayMs: 5, maxQueue: 64 }, (f) => s.run(f), {
        onExecution: (r) => executions.push(r),
      });
      const inputs = Array.from({ length: 64 }, (_, i) => [i, i % 7, -i / 4]);
      const outs = await Promise.all(inputs.map((v) => b.submit(row(...v))));
      outs.forEach((o, i) => {
        const [x0, x1, x2] = inputs[i];
        assert.deepEqual(o.y.dims, [1, 2]);
        const want = [x0 * 1 + x1 * 3 + x2 * 5 + 0.5, x0 * 2 + x1 * 4 + x2 * 6 - 1];
        Array.from(o.y.data as Float32Array).forEach((v, j) => assert.ok(Math.abs(v - want[j]) < 1e-3, `row ${i}`));
      });
      assert.ok(executions.length <= 8, `${executions.length} executions`);
      assert.equal(
        executions.reduce((a, n) => a + n, 0),
        64,
      );
      // onnxruntime's own refusal fails every request of that batch (float64 data for a float32
      // input: all three merge, having the same type and shape), and the next batch runs as usual.
      const f64 = (v: number): Feeds => ({ x: { type: 'float64', dims: [1, 3], data: Float64Array.of(v, 0, 0) } });
      const wrong = [b.submit(f64(1)), b.submit(f64(2)), b.submit(f64(3))];
      const right = b.submit(row(1, 0, 0));
      for (const p of wrong) await assert.rejects(p, /type/i);
      assert.deepEqual(ys(await right), [1.5, 1]);
      assert.equal(executions.length, 4 + 1); // the failed run is not reported
      // A malformed feed is refused alone, before it can join a batch.
      const short: Feeds = { x: { type: 'float32', dims: [1, 3], data: Float32Array.of(1, 2) } };
      const beside = b.submit(row(0, 1, 0));
      await assert.rejects(
        b.submit(short),
        (e: Error) => e instanceof TensorShapeError && /need 3 elements, the data has 2/.test(e.message),
      );
      assert.deepEqual(ys(await beside), [3.5, 3]);
      await b.close();
    } finally {
      await s.release();
    }
  });

  it('a full queue refuses the surplus of 64 submits while the rest are answered by the session', async () => {
    const file = path.join(tempDir('modelreg-batcher-'), 'affine.onnx');
    writeFileSync(file, affineOnnx());
    const s = await OrtSession.create(file);
    try {
      const b = new DynamicBatcher({ maxBatch: 16, delayMs: 5, maxQueue: 20 }, (f) => s.run(f));
      // The 16th submit fills a batch, which starts at once and leaves the queue; 20 more can wait.
      const settled = await Promise.allSettled(Array.from({ length: 64 }, (_, i) => b.submit(row(i, 0, 0))));
      settled.forEach((r, i) => {
        if (i < 36)
          assert.equal(r.status === 'fulfilled' && (r.value.y.data as Float32Array)[0], i + 0.5, `request ${i}`);
        else assert.ok(r.status === 'rejected' && r.reason instanceof QueueFullError, `request ${i}`);
      });
      await b.close();
    } finally {
      await s.release();
    }
  });
});

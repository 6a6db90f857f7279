import * as assert from 'assert';
import { downsampleMinMax, windowRange } from '../../../../src/core/compare/downsample';

describe('downsampleMinMax', () => {
  const n = 100_000;
  const xs = Float64Array.from({ length: n }, (_, i) => i);
  // Noisy decay with one spike and one dip that a naive stride would miss.
  const ys = Float64Array.from({ length: n }, (_, i) => Math.exp(-i / 20000) + 0.01 * Math.sin(i * 0.7));
  ys[31_337] = 50;
  ys[77_777] = -40;

  it('keeps at most the target, the endpoints, and the global extremes', () => {
    const idx = downsampleMinMax(xs, ys, 2000);
    assert.ok(idx.length <= 2000, `${idx.length} points`);
    assert.ok(idx.length > 1900, 'uses the budget');
    assert.strictEqual(idx[0], 0);
    assert.strictEqual(idx.at(-1), n - 1);
    assert.ok(idx.includes(31_337), 'spike kept');
    assert.ok(idx.includes(77_777), 'dip kept');
    assert.ok(
      idx.every((v, i) => i === 0 || v > idx[i - 1]),
      'strictly increasing x order',
    );
  });

  it('keeps every bucket’s extremes: no local peak between kept points is higher than both neighbours’ bucket max', () => {
    const idx = downsampleMinMax(xs, ys, 500);
    const kept = new Set(idx);
    const max = ys.reduce((a, b) => Math.max(a, b), -Infinity);
    const min = ys.reduce((a, b) => Math.min(a, b), Infinity);
    assert.ok([...kept].some((i) => ys[i] === max) && [...kept].some((i) => ys[i] === min));
  });

  it('returns short series untouched', () => {
    assert.deepStrictEqual(downsampleMinMax([0, 1, 2], [3, 4, 5], 2000), [0, 1, 2]);
  });

  it('skips NaN for extremes but keeps a gap where a bucket is all NaN', () => {
    const y = Float64Array.from({ length: 10_000 }, (_, i) => (i >= 4000 && i < 6000 ? NaN : i));
    const idx = downsampleMinMax(Float64Array.from(y.keys()), y, 100);
    assert.ok(
      idx.some((i) => Number.isNaN(y[i])),
      'a NaN survives to break the line',
    );
    assert.ok(idx.filter((i) => !Number.isNaN(y[i])).length > 10);
  });

  it('downsamples a window with one neighbour on each side', () => {
    const [from, to] = windowRange(xs, 1000, 1999);
    assert.deepStrictEqual([from, to], [999, 2001]);
    const idx = downsampleMinMax(xs, ys, 200, from, to);
    assert.strictEqual(idx[0], 999);
    assert.strictEqual(idx.at(-1), 2000);
    assert.ok(idx.length <= 200);
    assert.deepStrictEqual(windowRange(xs, -10, -5), [0, 1]);
  });
});

import * as assert from 'assert/strict';
import type { MetricLog } from '../../../../src/core/inspect/types';
import { LiveColumnSeries, withLiveColumns } from '../../../../src/extension/compare/live';
import type { ComparisonModel } from '../../../../src/shared/compare/contract';
import { applyLiveSeries } from '../../../../src/shared/compare/live';

const log = (n: number, key = 'loss', from = 0): MetricLog => ({
  source: 'metrics.jsonl',
  series: [
    {
      key,
      steps: Array.from({ length: n }, (_, i) => from + i),
      values: Array.from({ length: n }, (_, i) => 1 / (from + i + 1)),
    },
  ],
});

/** A comparison of no version, with one live column, as the panel builds it. */
function liveModel(series: LiveColumnSeries, logs: MetricLog[]): ComparisonModel {
  series.update(logs);
  const empty: ComparisonModel = { versions: [], metrics: [], series: [], params: [], code: [], maxPoints: 8 };
  return withLiveColumns(empty, [{ run: { id: 'run-1', label: 'run-1', output: '/out' }, running: true, series }]);
}

describe('live columns of the compare panel', () => {
  it('posts only the new points, and the page copy equals the run series', () => {
    const series = new LiveColumnSeries(-1, 8);
    const model = liveModel(series, [log(2)]);
    assert.equal(model.versions[0].id, -1);
    assert.deepEqual(model.versions[0].live, { runId: 'run-1', running: true });
    assert.deepEqual(model.metrics, [
      { key: 'loss', direction: 'lower', directionOverridden: false, values: [0.5], best: [] },
    ]);
    for (let n = 3; n <= 6; n++) {
      const update = series.update([log(n)])!;
      assert.deepEqual(
        update.series.map((c) => [c.from, c.steps]),
        [[n - 1, [n - 1]]],
        'one new point',
      );
      applyLiveSeries(model, update);
    }
    assert.equal(series.update([log(6)]), undefined, 'nothing new, nothing posted');
    assert.deepEqual(model.series[0].steps, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(model.metrics[0].values, [1 / 6], 'the table shows the latest value');
  });

  it('sends a series whole again after a rewrite, and downsampled once the page holds twice the budget', () => {
    const series = new LiveColumnSeries(-1, 8);
    const model = liveModel(series, [log(4)]);
    // trainer_state.json rewritten with other steps: not an append.
    const rewritten = series.update([log(4, 'loss', 100)])!;
    assert.equal(rewritten.series[0].from, 0);
    applyLiveSeries(model, rewritten);
    assert.deepEqual(model.series[0].steps, [100, 101, 102, 103]);
    // Appends up to 16 points on the page, then a downsampled replacement of at most 8.
    let last;
    for (let n = 5; n <= 17; n++) applyLiveSeries(model, (last = series.update([log(n, 'loss', 100)])!));
    assert.equal(last!.series[0].from, 0);
    assert.ok(model.series[0].steps.length <= 8, `${model.series[0].steps.length} points`);
    assert.equal(model.series[0].totalPoints, 17);
    assert.equal(model.series[0].steps.at(-1), 116, 'the last point is always kept');
  });

  it('a key the run starts logging later joins as a new series', () => {
    const series = new LiveColumnSeries(-2, 8);
    const model = liveModel(series, [log(2)]);
    const update = series.update([
      log(3),
      { source: 'metrics.csv', series: [{ key: 'acc', steps: [0], values: [0.4] }] },
    ])!;
    assert.deepEqual(applyLiveSeries(model, update), { keys: ['loss', 'acc'], newKeys: true });
    assert.deepEqual(
      model.series.map((s) => [s.key, s.steps]),
      [
        ['loss', [0, 1, 2]],
        ['acc', [0]],
      ],
    );
  });
});

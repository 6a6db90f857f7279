import * as assert from 'assert';
import { buildAcrossPlot, defaultAcrossMetric } from '../../../../src/shared/compare/across';
import type { ComparisonModel, MetricRow, VersionColumn } from '../../../../src/shared/compare/contract';

function version(id: number, number: number): VersionColumn {
  return {
    id,
    ref: `net@v${number}`,
    model: 'net',
    number,
    aliases: [],
    tags: [],
    format: null,
    framework: null,
    sizeBytes: 0,
    parameterCount: null,
    createdAt: '2026-01-01T00:00:00Z',
    source: { kind: 'folder', uri: '/x' },
    git: null,
    conversion: null,
    color: '#000',
  };
}

function metric(key: string, direction: MetricRow['direction'], values: (number | null)[]): MetricRow {
  return { key, direction, directionOverridden: false, values, best: [] };
}

/** Columns deliberately out of version order: v3, v1, v2. */
function model(metrics: MetricRow[]): ComparisonModel {
  return {
    versions: [version(30, 3), version(10, 1), version(20, 2)],
    metrics,
    series: [],
    params: [],
    code: [],
    maxPoints: 100,
    acrossModel: 'net',
  };
}

describe('shared/compare/across', () => {
  it('puts the versions in version order with each one’s final value', () => {
    const plot = buildAcrossPlot(model([metric('eval_accuracy', 'higher', [0.9, 0.7, 0.8])]), 'eval_accuracy');
    assert.deepStrictEqual(
      plot?.points.map((p) => [p.ref, p.number, p.value]),
      [
        ['net@v1', 1, 0.7],
        ['net@v2', 2, 0.8],
        ['net@v3', 3, 0.9],
      ],
    );
  });

  it('skips versions without the metric and names them', () => {
    const plot = buildAcrossPlot(model([metric('eval_loss', 'lower', [0.3, null, 0.5])]), 'eval_loss');
    assert.deepStrictEqual(
      plot?.points.map((p) => p.number),
      [2, 3],
    );
    assert.deepStrictEqual(plot?.missing, ['net@v1']);
  });

  it('marks the best by the goal: lowest for a loss, highest for an accuracy, ties share', () => {
    const loss = buildAcrossPlot(model([metric('eval_loss', 'lower', [0.3, 0.5, 0.2])]), 'eval_loss');
    assert.deepStrictEqual(
      loss?.points.filter((p) => p.best).map((p) => p.ref),
      ['net@v2'],
    );
    const acc = buildAcrossPlot(model([metric('acc', 'higher', [0.6, 0.9, 0.9])]), 'acc');
    assert.deepStrictEqual(
      acc?.points.filter((p) => p.best).map((p) => p.ref),
      ['net@v1', 'net@v2'],
    );
  });

  it('gives a metric that is not a goal no best', () => {
    for (const goal of ['none', null] as const) {
      const plot = buildAcrossPlot(model([metric('lr', goal, [0.1, 0.01, 0.05])]), 'lr');
      assert.strictEqual(plot?.points.filter((p) => p.best).length, 0);
      assert.strictEqual(plot?.points.length, 3);
    }
  });

  it('starts on the first metric with a goal, and knows no unknown key', () => {
    const m = model([
      metric('epoch', 'none', [1, 1, 1]),
      metric('mystery', null, [1, 2, 3]),
      metric('eval_loss', 'lower', [1, 2, 3]),
    ]);
    assert.strictEqual(defaultAcrossMetric(m), 'eval_loss');
    assert.strictEqual(defaultAcrossMetric(model([metric('lr', 'none', [1, 2, 3])])), 'lr');
    assert.strictEqual(defaultAcrossMetric(model([])), undefined);
    assert.strictEqual(buildAcrossPlot(m, 'nope'), undefined);
  });
});

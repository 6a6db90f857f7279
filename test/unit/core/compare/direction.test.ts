import * as assert from 'assert';
import { bestIndices, inferDirection, metricGoal } from '../../../../src/core/compare/direction';
import { diffParams } from '../../../../src/core/compare/params';
import { parseCompareState, parseFromWebview } from '../../../../src/shared/compare/contract';

describe('metric direction', () => {
  it('reads the direction from common metric names', () => {
    const cases: [string, 'lower' | 'higher' | 'none' | null][] = [
      ['loss', 'lower'],
      ['eval_loss', 'lower'],
      ['train/box_loss', 'lower'],
      ['val_error', 'lower'],
      ['eval_wer', 'lower'],
      ['perplexity', 'lower'],
      ['train_runtime', 'lower'],
      ['eval_accuracy', 'higher'],
      ['val_acc', 'higher'],
      ['f1', 'higher'],
      ['metrics/mAP50-95(B)', 'higher'],
      ['metrics/precision(B)', 'higher'],
      ['rougeL', 'higher'],
      ['eval_samples_per_second', 'higher'],
      ['top5', 'higher'],
      ['train_loss_epoch', 'lower'],
      ['val_acc_step', 'higher'],
      ['glossary_size', null],
      ['temperature', null],
    ];
    for (const [key, want] of cases) assert.strictEqual(inferDirection(key), want, key);
  });

  it('tells settings and counters from results: they have no direction and no best', () => {
    const notGoals = [
      'lr-SGD',
      'lr',
      'learning_rate',
      'train/lr',
      'epoch',
      'step',
      'global_step',
      'train_batch_size',
      'batch_size',
      'seed',
      'momentum',
      'weight_decay',
      'grad_norm',
      'total_flos',
    ];
    for (const key of notGoals) {
      const { goal, overridden } = metricGoal(key);
      assert.strictEqual(goal, 'none', key);
      assert.strictEqual(overridden, false, key);
      assert.deepStrictEqual(bestIndices([0.1, 0.01], goal), [], key);
    }
  });

  it("lets the user's setting decide, and only a direction has a best", () => {
    assert.deepStrictEqual(metricGoal('lr-SGD', { 'lr-SGD': 'lower' }), { goal: 'lower', overridden: true });
    assert.deepStrictEqual(metricGoal('val_acc', { val_acc: 'lower' }), { goal: 'lower', overridden: true });
    assert.deepStrictEqual(metricGoal('val_acc', { other: 'lower' }), { goal: 'higher', overridden: false });
    // A setting that is not a direction (hand-edited settings.json) is ignored, as is a prototype key.
    assert.deepStrictEqual(metricGoal('loss', { loss: 'sideways' as never }), { goal: 'lower', overridden: false });
    assert.deepStrictEqual(metricGoal('constructor'), { goal: null, overridden: false });
    assert.deepStrictEqual(bestIndices([0.3, 0.1], metricGoal('lr-SGD').goal), []);
    assert.deepStrictEqual(bestIndices([0.3, 0.1], metricGoal('lr-SGD', { 'lr-SGD': 'lower' }).goal), [1]);
  });

  it('finds the best value per direction, sharing ties and skipping missing values', () => {
    assert.deepStrictEqual(bestIndices([0.3, 0.1, null, 0.2], 'lower'), [1]);
    assert.deepStrictEqual(bestIndices([0.3, 0.9, 0.9, null], 'higher'), [1, 2]);
    assert.deepStrictEqual(bestIndices([0.3, 0.9], null), []);
    assert.deepStrictEqual(bestIndices([0.3, 0.9], 'none'), []);
    assert.deepStrictEqual(bestIndices([null, NaN], 'lower'), []);
  });
});

describe('parameter diff', () => {
  it('unions keys across files, flattens nested objects, keeps arrays whole, flags differences', () => {
    const rows = diffParams([
      { 'hparams.yaml': { lr: 0.01, optim: { name: 'sgd', momentum: 0.9 }, layers: [64, 64] } },
      { 'hparams.yaml': { lr: 0.001, optim: { name: 'sgd', momentum: 0.9 }, layers: [64, 64], dropout: 0.1 } },
    ]);
    assert.deepStrictEqual(
      rows.map((r) => [r.key, r.values, r.differs]),
      [
        ['hparams.yaml › dropout', [null, '0.1'], true],
        ['hparams.yaml › layers', ['[64,64]', '[64,64]'], false],
        ['hparams.yaml › lr', ['0.01', '0.001'], true],
        ['hparams.yaml › optim.momentum', ['0.9', '0.9'], false],
        ['hparams.yaml › optim.name', ['sgd', 'sgd'], false],
      ],
    );
    // What the page shows: the key inside the file, and the file apart.
    assert.deepStrictEqual(
      rows.map((r) => [r.name, r.file]),
      [
        ['dropout', 'hparams.yaml'],
        ['layers', 'hparams.yaml'],
        ['lr', 'hparams.yaml'],
        ['optim.momentum', 'hparams.yaml'],
        ['optim.name', 'hparams.yaml'],
      ],
    );
    assert.deepStrictEqual(
      diffParams([{ 'lightning_logs/version_0/hparams.yaml': { lr: 0.1 }, seed: 7 }]).map((r) => [
        r.key,
        r.name,
        r.file,
      ]),
      [
        ['lightning_logs/version_0/hparams.yaml › lr', 'lr', 'lightning_logs/version_0/hparams.yaml'],
        ['seed', 'seed', null],
      ],
    );
  });
});

describe('compare panel messages', () => {
  it('accepts well-formed messages', () => {
    assert.deepStrictEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
    assert.deepStrictEqual(
      parseFromWebview({ type: 'requestWindow', payload: { requestId: 3, key: 'loss', axis: 'step', min: 0, max: 10 } })
        ?.type,
      'requestWindow',
    );
    assert.ok(parseFromWebview({ type: 'export', payload: { format: 'markdown', baselineVersionId: 1 } }));
    assert.ok(parseFromWebview({ type: 'setDirection', payload: { key: 'loss', direction: null } }));
    assert.ok(parseFromWebview({ type: 'savePng', payload: { key: 'loss', dataUrl: 'data:image/png;base64,iVBO' } }));
  });

  it('rejects malformed ones', () => {
    const bad: unknown[] = [
      null,
      'ready',
      [],
      { type: 'nope' },
      { type: 'requestWindow', payload: { requestId: 1, key: 'loss', axis: 'epoch', min: 0, max: 1 } },
      { type: 'requestWindow', payload: { requestId: 1, key: 'loss', axis: 'step', min: 5, max: 1 } },
      { type: 'requestWindow', payload: { requestId: 1.5, key: 'loss', axis: 'step', min: 0, max: 1 } },
      { type: 'requestWindow', payload: { requestId: 1, key: 'loss', axis: 'step', min: NaN, max: 1 } },
      { type: 'openCommit', payload: { versionId: '1; rm -rf /' } },
      { type: 'openDiff', payload: { baseVersionId: 1 } },
      { type: 'export', payload: { format: 'xlsx', baselineVersionId: 1 } },
      { type: 'savePng', payload: { key: 'x', dataUrl: 'javascript:alert(1)' } },
      { type: 'setDirection', payload: { key: 'loss', direction: 'sideways' } },
      { type: 'setDirection', payload: { key: 'x'.repeat(5000), direction: 'lower' } },
    ];
    for (const m of bad) assert.strictEqual(parseFromWebview(m), undefined, JSON.stringify(m)?.slice(0, 80));
  });

  it('validates restored panel state', () => {
    assert.deepStrictEqual(parseCompareState({ versionIds: [1, 2, 'x'] }), { versionIds: [1, 2] });
    assert.strictEqual(parseCompareState({ versionIds: [] }), undefined);
    assert.strictEqual(parseCompareState('garbage'), undefined);
    // The across-versions mode keeps its model; a name that is not a short string is dropped.
    assert.deepStrictEqual(parseCompareState({ versionIds: [1], acrossModel: 'net' }), {
      versionIds: [1],
      acrossModel: 'net',
    });
    assert.deepStrictEqual(parseCompareState({ versionIds: [1], acrossModel: 'x'.repeat(500) }), { versionIds: [1] });
    assert.deepStrictEqual(parseCompareState({ versionIds: [1], acrossModel: 7 }), { versionIds: [1] });
  });
});

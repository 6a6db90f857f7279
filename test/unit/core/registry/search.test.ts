import * as assert from 'assert';
import {
  exampleComparison,
  explainNoMatch,
  MetricRange,
  metricTerms,
  nearestNames,
} from '../../../../src/core/registry/search';

const range = (key: string, lo: number, hi: number): MetricRange => ({
  key,
  lowest: { value: lo, ref: 'm@v1' },
  highest: { value: hi, ref: 'm@v2' },
});

describe('search: metric terms, why nothing matched, the example', () => {
  it('reads metric comparisons with or without spaces around the operator', () => {
    for (const text of ['val_acc>0.8', 'val_acc >0.8', 'val_acc> 0.8', 'val_acc > 0.8'])
      assert.deepStrictEqual(metricTerms(`resnet ${text} tag:x`), [{ key: 'val_acc', op: '>', value: 0.8 }], text);
    assert.deepStrictEqual(metricTerms('loss <= 1e-3 f1!=0'), [
      { key: 'loss', op: '<=', value: 0.001 },
      { key: 'f1', op: '!=', value: 0 },
    ]);
    assert.deepStrictEqual(metricTerms('acc>0.9x tag:"a > 1"'), [], 'not a number; a quoted value');
  });

  it('no such metric: names the nearest known ones', () => {
    const keys = ['eval_accuracy', 'eval_loss', 'train_loss', 'lr'];
    assert.strictEqual(
      explainNoMatch('accuracy>0.9', keys, []),
      'No versions match "accuracy>0.9": no metric is named accuracy; known metrics: eval_accuracy',
    );
    assert.deepStrictEqual(nearestNames('val_acc', ['val_accuracy', 'train_acc', 'loss']), ['val_accuracy']);
    assert.deepStrictEqual(
      nearestNames('xyz', ['b', 'a', 'c', 'd']),
      ['a', 'b', 'c'],
      'none close: the nearest anyway',
    );
    assert.strictEqual(
      explainNoMatch('acc>1', [], []),
      'No versions match "acc>1": no metric is named acc (no version has metrics)',
    );
  });

  it('no value passes: says the best value there is, by the direction of the comparison', () => {
    const ranges = [range('eval_accuracy', 0.61, 0.934), range('eval_loss', 0.2, 0.9)];
    assert.strictEqual(
      explainNoMatch('eval_accuracy >= 0.95', [], ranges),
      'No versions match "eval_accuracy >= 0.95": no eval_accuracy is >= 0.95; the highest is 0.934 (m@v2)',
    );
    assert.strictEqual(
      explainNoMatch('eval_loss<0.1', [], ranges),
      'No versions match "eval_loss<0.1": no eval_loss is < 0.1; the lowest is 0.2 (m@v1)',
    );
    assert.strictEqual(
      explainNoMatch('eval_loss=2', [], ranges),
      'No versions match "eval_loss=2": no eval_loss is 2; values run from 0.2 to 0.9',
    );
    // Each term alone passes: the combination (or another term) is what matched nothing.
    assert.strictEqual(
      explainNoMatch('eval_accuracy>0.9 eval_loss<0.3 resnet', [], ranges),
      'No versions match "eval_accuracy>0.9 eval_loss<0.3 resnet"',
    );
  });

  it('the example: a quality metric above a round value under its best, a loss below one', () => {
    assert.strictEqual(
      exampleComparison([range('eval_loss', 0.2, 0.9), range('eval_accuracy', 0.61, 0.934)]),
      'eval_accuracy>0.9',
    );
    assert.strictEqual(exampleComparison([range('val_acc', 0.5, 0.9)]), 'val_acc>=0.9', 'the best passes');
    assert.strictEqual(exampleComparison([range('mAP', 12, 45.2)]), 'mAP>40');
    assert.strictEqual(exampleComparison([range('eval_loss', 0.234, 0.9)]), 'eval_loss<0.3');
    assert.strictEqual(exampleComparison([range('lr', 0.01, 0.5)]), 'lr>=0.5');
    assert.strictEqual(exampleComparison([]), undefined);
  });
});

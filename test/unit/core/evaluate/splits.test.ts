import * as assert from 'assert';
import { defaultSplit, splitChoices } from '../../../../src/core/evaluate/splits';

describe('evaluation splits', () => {
  it('the default is test, else val…, else any split but train; none for a dataset without splits', () => {
    assert.strictEqual(defaultSplit('d', ['train', 'val', 'test']), 'test');
    assert.strictEqual(defaultSplit('d', ['train', 'validation']), 'validation');
    assert.strictEqual(defaultSplit('d', ['train', 'holdout']), 'holdout');
    assert.strictEqual(defaultSplit('d', ['training', 'extra']), 'extra');
    assert.strictEqual(defaultSplit('d', []), null);
    assert.throws(() => defaultSplit('d', ['train']), /dataset d has no test or validation split \(splits: train\)/);
  });

  it('a picker offers the default first and train last (the extension takes the first one)', () => {
    assert.deepStrictEqual(splitChoices(['test', 'train', 'val']), ['test', 'val', 'train']);
    assert.deepStrictEqual(splitChoices(['train', 'val']), ['val', 'train']);
    assert.deepStrictEqual(splitChoices(['train', 'b-extra', 'a-extra']), ['b-extra', 'a-extra', 'train']);
    for (const splits of [
      ['train', 'val'],
      ['train', 'validation', 'test'],
      ['train', 'holdout'],
      ['train', 'dev'],
    ])
      assert.strictEqual(splitChoices(splits)[0], defaultSplit('d', splits));
  });
});

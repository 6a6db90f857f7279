import * as assert from 'assert';
import { formatBytes, formatCount, formatMetric } from '../../../src/shared/format';

describe('formatting shared by the tree, the CLI and the compare panel', () => {
  it('formats sizes, counts and metric values', () => {
    assert.strictEqual(formatBytes(512), '512 B');
    assert.strictEqual(formatBytes(5786), '5.65 KiB');
    assert.strictEqual(formatBytes(3 * 1024 ** 3), '3.00 GiB');
    assert.strictEqual(formatCount(105090), '105K');
    assert.strictEqual(formatCount(999_950), '1M');
    assert.strictEqual(formatCount(null), '—');
    assert.strictEqual(formatMetric(0.98221), '0.9822');
    assert.strictEqual(formatMetric(1.2e15), '1.2e+15');
    assert.strictEqual(formatMetric(0.00006), '6e-5');
    assert.strictEqual(formatMetric(42), '42');
    assert.strictEqual(formatMetric(null), '—');
    assert.strictEqual(formatMetric(Infinity), '∞');
  });
});

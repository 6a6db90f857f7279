import * as assert from 'assert';
import {
  formatBytes,
  formatCount,
  formatLocalTime,
  formatMetric,
  formatRelativeTime,
  formatTime,
} from '../../../src/shared/format';

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

  describe('times: relative to a given now, exact in the local time zone', () => {
    const tz = process.env.TZ;
    // Node reads TZ again when it changes; +05:30 shows that the UTC time is not what is printed.
    before(() => (process.env.TZ = 'Asia/Kolkata'));
    after(() => (tz === undefined ? delete process.env.TZ : (process.env.TZ = tz)));
    const now = Date.parse('2026-03-10T12:00:00Z');
    const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

    it('says how long ago, in the largest whole unit', () => {
      assert.strictEqual(formatRelativeTime(ago(0), now), 'just now');
      assert.strictEqual(formatRelativeTime(ago(59), now), 'just now');
      assert.strictEqual(formatRelativeTime(ago(60), now), '1 minute ago');
      assert.strictEqual(formatRelativeTime(ago(5 * 60 + 30), now), '5 minutes ago');
      assert.strictEqual(formatRelativeTime(ago(3 * 3600 + 59 * 60), now), '3 hours ago');
      assert.strictEqual(formatRelativeTime(ago(86400), now), '1 day ago');
      assert.strictEqual(formatRelativeTime(ago(45 * 86400), now), '1 month ago');
      assert.strictEqual(formatRelativeTime(ago(800 * 86400), now), '2 years ago');
      // Another machine's clock ahead of ours.
      assert.strictEqual(formatRelativeTime(new Date(now + 120_000).toISOString(), now), 'in 2 minutes');
      // git's dates carry their own offset.
      assert.strictEqual(formatRelativeTime('2026-03-10T15:00:00+05:00', now), '2 hours ago');
      assert.strictEqual(formatRelativeTime('not a time', now), 'not a time');
    });

    it('gives the exact local time, and both together for a tooltip', () => {
      assert.strictEqual(formatLocalTime('2026-03-10T09:00:05.123Z'), '2026-03-10 14:30:05');
      assert.strictEqual(formatLocalTime('2026-03-10T20:00:00Z'), '2026-03-11 01:30:00');
      assert.strictEqual(formatTime('2026-03-10T09:00:05Z', now), '2 hours ago (2026-03-10 14:30:05)');
      assert.strictEqual(formatTime('', now), '');
    });
  });
});

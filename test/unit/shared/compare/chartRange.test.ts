import * as assert from 'assert';
import { visibleYRange } from '../../../../src/shared/compare/chartRange';

const near = (a: { min: number; max: number } | null, min: number, max: number) => {
  assert.ok(a, 'a range');
  assert.ok(Math.abs(a.min - min) < 1e-9 && Math.abs(a.max - max) < 1e-9, JSON.stringify(a));
};

describe('y range of a zoomed chart', () => {
  const falling = [0, 1, 2, 3, 4].map((x) => ({ x, y: 10 - 2 * x })); // 10, 8, 6, 4, 2

  it('covers only the points in the visible x range, padded by 5 % of the span', () => {
    near(visibleYRange([falling], 1, 3), 4 - 0.2, 8 + 0.2);
  });

  it("counts where a line crosses the range's edges, so the segments into view are not clipped", () => {
    // x in [0.5, 2.5]: points at 1 and 2 (8, 6), the line crosses the edges at 9 and 5.
    near(visibleYRange([falling], 0.5, 2.5, 0), 5, 9);
    // No point inside at all, only a segment crossing the whole range.
    near(visibleYRange([falling], 1.25, 1.75, 0), 6.5, 7.5);
  });

  it('takes every line, skips gaps (null, NaN), and pads a flat line', () => {
    const other = [
      { x: 1, y: 20 },
      { x: 2, y: null },
      { x: 3, y: NaN },
    ];
    near(visibleYRange([falling, other], 1, 3, 0), 4, 20);
    near(
      visibleYRange(
        [
          [
            { x: 0, y: 3 },
            { x: 5, y: 3 },
          ],
        ],
        1,
        2,
      ),
      3 - 0.15,
      3 + 0.15,
    );
    assert.strictEqual(visibleYRange([falling], 10, 20), null);
    assert.strictEqual(visibleYRange([], 0, 1), null);
  });
});

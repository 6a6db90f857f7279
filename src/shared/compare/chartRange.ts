/**
 * The y range of a zoomed chart: what the lines inside the visible x range reach, padded. Pure, so
 * plain mocha tests it; the compare page sets it on the chart after every zoom or pan.
 */
export interface XY {
  x: number;
  y: number | null;
}

/**
 * Lowest and highest y the visible part of the lines reaches over [xMin, xMax], points sorted by
 * x. A line that enters from outside the range counts with its value where it crosses the edge, so
 * the segment to a point just outside is drawn rather than clipped. Then `pad` of the span is
 * added on both sides (a flat line gets a band around it). Null when no line has a point there.
 */
export function visibleYRange(
  lines: XY[][],
  xMin: number,
  xMax: number,
  pad = 0.05,
): { min: number; max: number } | null {
  let lo = Infinity;
  let hi = -Infinity;
  const take = (y: number) => {
    if (y < lo) lo = y;
    if (y > hi) hi = y;
  };
  for (const data of lines) {
    for (let i = 0; i < data.length; i++) {
      const p = data[i];
      if (p.y === null || !Number.isFinite(p.y)) continue;
      if (p.x >= xMin && p.x <= xMax) take(p.y);
      const q = data[i + 1];
      if (!q || q.y === null || !Number.isFinite(q.y) || q.x === p.x) continue;
      // The segment p→q crosses an edge of the range: its value there is on screen.
      for (const edge of [xMin, xMax]) {
        if ((p.x < edge && q.x > edge) || (p.x > edge && q.x < edge))
          take(p.y + ((q.y - p.y) * (edge - p.x)) / (q.x - p.x));
      }
    }
  }
  if (lo > hi) return null;
  const span = hi - lo || Math.abs(hi) || 1;
  return { min: lo - span * pad, max: hi + span * pad };
}

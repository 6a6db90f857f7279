/**
 * Min/max-per-bucket downsampling: each bucket keeps its lowest and highest point (in x order), and
 * the first and last points are always kept. Unlike LTTB it can never drop a spike or a dip, which
 * is what people look for in loss curves. NaN values are skipped for the extremes; a bucket that
 * holds only NaN keeps one of them so the chart shows a gap.
 */
export function downsampleMinMax(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  target: number,
  from = 0,
  to = xs.length,
): number[] {
  const n = to - from;
  if (n <= target || target < 4) return range(from, to);
  const out: number[] = [from];
  const buckets = Math.floor((target - 2) / 2);
  const inner = n - 2;
  for (let b = 0; b < buckets; b++) {
    const start = from + 1 + Math.floor((b * inner) / buckets);
    const end = from + 1 + Math.floor(((b + 1) * inner) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const y = ys[i];
      if (Number.isNaN(y)) continue;
      if (lo < 0 || y < ys[lo]) lo = i;
      if (hi < 0 || y > ys[hi]) hi = i;
    }
    if (lo < 0) {
      if (end > start) out.push(start); // all NaN: keep the gap
    } else if (lo === hi) out.push(lo);
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  out.push(to - 1);
  return out;
}

/** Indices of the points with x in [min, max], plus one neighbour on each side so lines reach the edges. */
export function windowRange(xs: ArrayLike<number>, min: number, max: number): [number, number] {
  let from = lowerBound(xs, min);
  let to = lowerBound(xs, max);
  while (to < xs.length && xs[to] <= max) to++;
  if (from > 0) from--;
  if (to < xs.length) to++;
  return [from, to];
}

function lowerBound(xs: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

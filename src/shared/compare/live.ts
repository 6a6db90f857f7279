/**
 * Applying a live column's new points to the comparison the page holds. Plain data, shared by the
 * page (which then appends to its charts) and the host's tests.
 */
import type { ComparisonModel, LiveSeriesUpdate, SeriesData } from './contract';

/**
 * Cuts each series of the live column to `from` and appends the chunk's points; a series seen for
 * the first time is added. The column's cells in the metrics table take each series' latest value.
 * Returns the keys whose series changed, and whether one of them had no series in the model before.
 */
export function applyLiveSeries(
  model: ComparisonModel,
  update: LiveSeriesUpdate,
): { keys: string[]; newKeys: boolean } {
  const column = model.versions.findIndex((v) => v.id === update.versionId);
  if (column === -1) return { keys: [], newKeys: false }; // a column the page no longer shows
  let newKeys = false;
  for (const chunk of update.series) {
    let s = model.series.find((x) => x.versionId === update.versionId && x.key === chunk.key);
    if (!s) {
      newKeys ||= !model.series.some((x) => x.key === chunk.key);
      s = {
        versionId: update.versionId,
        key: chunk.key,
        steps: [],
        values: [],
        relTimes: chunk.relTimes && [],
        totalPoints: 0,
      };
      model.series.push(s);
    }
    append(s, chunk.from, chunk.steps, chunk.values, chunk.relTimes);
    s.totalPoints = chunk.totalPoints;
    const row = model.metrics.find((m) => m.key === chunk.key);
    if (row && s.values.length) row.values[column] = s.values[s.values.length - 1];
  }
  return { keys: update.series.map((c) => c.key), newKeys };
}

function append(s: SeriesData, from: number, steps: number[], values: number[], relTimes: number[] | null): void {
  const at = Math.min(from, s.steps.length);
  s.steps.length = s.values.length = at;
  for (let i = 0; i < steps.length; i++) {
    s.steps.push(steps[i]);
    s.values.push(values[i]);
  }
  if (!relTimes || !s.relTimes) s.relTimes = null;
  else {
    s.relTimes.length = at;
    for (const t of relTimes) s.relTimes.push(t);
  }
}

/**
 * The "Across versions" plot of the compare page: one metric's final value per version of a model,
 * x = version number, best marked by the metric's goal. Pure, so the page and the tests share it.
 */
import type { ComparisonModel, Goal } from './contract';

export interface AcrossPoint {
  versionId: number;
  ref: string;
  number: number;
  value: number;
  best: boolean;
}

export interface AcrossPlot {
  key: string;
  goal: Goal;
  /** In version order; versions without the metric are left out. */
  points: AcrossPoint[];
  /** Refs of the versions that lack the metric, so the page can say so. */
  missing: string[];
}

/** The metric the plot starts on: the first with a goal (a direction), else the first metric. */
export function defaultAcrossMetric(model: ComparisonModel): string | undefined {
  const goal = model.metrics.find((m) => m.direction === 'lower' || m.direction === 'higher');
  return (goal ?? model.metrics[0])?.key;
}

/** The points of one metric across the compared versions; undefined when no row has that key. */
export function buildAcrossPlot(model: ComparisonModel, key: string): AcrossPlot | undefined {
  const row = model.metrics.find((m) => m.key === key);
  if (!row) return undefined;
  const columns = model.versions
    .map((v, i) => ({ v, value: row.values[i] }))
    .sort((a, b) => a.v.number - b.v.number || a.v.id - b.v.id);
  const present = columns.filter((c) => c.value !== null && c.value !== undefined && Number.isFinite(c.value));
  const values = present.map((c) => c.value as number);
  // Only a goal has a best: a learning rate or an unknown metric gets no mark.
  const best =
    row.direction === 'lower' ? Math.min(...values) : row.direction === 'higher' ? Math.max(...values) : undefined;
  return {
    key,
    goal: row.direction,
    points: present.map((c) => ({
      versionId: c.v.id,
      ref: c.v.ref,
      number: c.v.number,
      value: c.value as number,
      best: best !== undefined && c.value === best,
    })),
    missing: columns.filter((c) => !present.includes(c)).map((c) => c.v.ref),
  };
}

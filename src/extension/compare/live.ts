// Live columns of the compare panel: a running training's series, as followRunMetrics reads them,
// turned into a column of the comparison and into the updates that grow its curves. Host side, no
// 'vscode' import (unit-tested in plain Node, and timed by bench/live.mjs).
import { type Direction, metricGoal } from '../../core/compare/direction';
import { downsampleMinMax, windowRange } from '../../core/compare/downsample';
import type { MetricLog } from '../../core/inspect/types';
import { storedMetricSeries } from '../../core/registry/imports';
import {
  type ComparisonModel,
  type LiveSeriesChunk,
  type LiveSeriesUpdate,
  type SeriesData,
  VERSION_COLORS,
  type VersionColumn,
  type XAxis,
} from '../../shared/compare/contract';

/** What the Runs view hands the panel for a running run. */
export interface LiveRunInfo {
  id: string;
  label: string;
  /** The run's output folder, where its metric logs appear. */
  output: string;
  metric?: string | null;
}

/** The series of one log key, as the registry will store it once the run is imported. */
interface LiveSeries {
  key: string;
  steps: number[];
  values: number[];
  wallTimes?: number[];
}

export function liveSeriesOf(logs: MetricLog[]): LiveSeries[] {
  return storedMetricSeries(logs).map(({ key, series }) => ({ ...series, key }));
}

/**
 * Tracks what was posted of one live column's series, so each update carries only the new points.
 * The page's copy is downsampled like any comparison (maxPoints per series); appends make it grow,
 * and once it holds twice that the series is downsampled again and sent whole.
 */
export class LiveColumnSeries {
  private series: LiveSeries[] = [];
  /** Per key: points of the run's series already posted, the last one's step, and the page's point count. */
  private readonly posted = new Map<string, { raw: number; lastStep: number; shown: number }>();

  constructor(
    readonly versionId: number,
    private readonly maxPoints: number,
  ) {}

  /** The whole series for a comparison message (everything the page has is replaced). */
  full(): SeriesData[] {
    this.posted.clear();
    return this.series.map((s) => {
      const c = this.chunk(s, 0, downsampleMinMax(s.steps, s.values, this.maxPoints));
      return { versionId: this.versionId, ...c };
    });
  }

  /** Takes the run's latest logs; returns what to post for them, or undefined when nothing new reaches the page. */
  update(logs: MetricLog[]): LiveSeriesUpdate | undefined {
    this.series = liveSeriesOf(logs);
    const chunks: LiveSeriesChunk[] = [];
    for (const s of this.series) {
      const p = this.posted.get(s.key);
      const n = s.steps.length;
      if (p && n === p.raw && s.steps[n - 1] === p.lastStep) continue;
      // Appended points only when the posted ones are still the series' start (no rewrite, no step out of order).
      const appendable =
        p && n > p.raw && s.steps[p.raw - 1] === p.lastStep && p.shown + n - p.raw <= 2 * this.maxPoints;
      chunks.push(
        appendable
          ? this.chunk(s, p.shown, range(p.raw, n))
          : this.chunk(s, 0, downsampleMinMax(s.steps, s.values, this.maxPoints)),
      );
    }
    return chunks.length ? { versionId: this.versionId, series: chunks } : undefined;
  }

  private chunk(s: LiveSeries, from: number, idx: number[]): LiveSeriesChunk {
    const n = s.steps.length;
    this.posted.set(s.key, { raw: n, lastStep: s.steps[n - 1], shown: from + idx.length });
    const t0 = s.wallTimes?.[0];
    return {
      key: s.key,
      from,
      steps: idx.map((i) => s.steps[i]),
      values: idx.map((i) => s.values[i]),
      relTimes: s.wallTimes && t0 !== undefined ? idx.map((i) => s.wallTimes![i] - t0) : null,
      totalPoints: n,
    };
  }

  /** A zoomed chart's finer look at one series (as seriesWindow gives for versions). */
  window(key: string, axis: XAxis, min: number, max: number): SeriesData | undefined {
    const s = this.series.find((x) => x.key === key);
    if (!s || s.steps.length === 0) return undefined;
    const t0 = axis === 'time' && s.wallTimes ? s.wallTimes[0] : 0;
    const xs = axis === 'time' && s.wallTimes ? s.wallTimes : s.steps;
    const [from, to] = windowRange(xs, min + t0, max + t0);
    const idx = downsampleMinMax(xs, s.values, this.maxPoints, from, to);
    const t = s.wallTimes;
    return {
      versionId: this.versionId,
      key,
      steps: idx.map((i) => s.steps[i]),
      values: idx.map((i) => s.values[i]),
      relTimes: t ? idx.map((i) => t[i] - t[0]) : null,
      totalPoints: s.steps.length,
    };
  }

  /** Latest value per key, for the column's cells in the metrics table. */
  latest(): Map<string, number> {
    return new Map(this.series.map((s) => [s.key, s.values[s.values.length - 1]]));
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

export interface LiveColumnState {
  run: LiveRunInfo;
  running: boolean;
  series: LiveColumnSeries;
}

/**
 * The comparison with the live columns after the versions: a column each (colours continuing the
 * versions'), their latest values in the metrics table (never the best: a run still going is not a
 * result), nothing in the parameters, and their series as they are now.
 */
export function withLiveColumns(
  model: ComparisonModel,
  live: LiveColumnState[],
  directions: Record<string, Direction> = {},
): ComparisonModel {
  if (live.length === 0) return model;
  const first = model.versions.length;
  const columns: VersionColumn[] = live.map((l, i) => ({
    id: l.series.versionId,
    ref: l.run.label,
    model: '',
    number: 0,
    aliases: [],
    tags: [],
    format: null,
    framework: null,
    sizeBytes: 0,
    parameterCount: null,
    createdAt: '',
    source: { kind: 'training run', uri: l.run.output },
    git: null,
    conversion: null,
    color: VERSION_COLORS[(first + i) % VERSION_COLORS.length],
    live: { runId: l.run.id, running: l.running },
  }));
  const latest = live.map((l) => l.series.latest());
  const keys = new Set(model.metrics.map((m) => m.key));
  const extra = [...new Set(latest.flatMap((m) => [...m.keys()]))].filter((k) => !keys.has(k)).sort();
  const metrics = [
    ...model.metrics,
    ...extra.map((key) => ({
      key,
      direction: metricGoal(key, directions).goal,
      directionOverridden: metricGoal(key, directions).overridden,
      values: model.versions.map(() => null),
      best: [],
    })),
  ].map((row) => ({ ...row, values: [...row.values, ...latest.map((m) => m.get(row.key) ?? null)] }));
  return {
    ...model,
    versions: [...model.versions, ...columns],
    metrics,
    series: [...model.series, ...live.flatMap((l) => l.series.full())],
    params: model.params.map((p) => ({ ...p, values: [...p.values, ...live.map(() => null)] })),
  };
}

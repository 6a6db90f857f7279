// The compare panel's model: what it shows, read from the registry and the workspace's git. Host
// side, but no 'vscode' import, so it is unit-tested in plain Node (test/unit/compare).
import { bestIndices, metricGoal } from '../../core/compare/direction';
import { downsampleMinMax, windowRange } from '../../core/compare/downsample';
import { diffParams } from '../../core/compare/params';
import { commitRange, repositoryWithCommit } from '../../core/git/compare';
import { GitRepo } from '../../core/git/git';
import { Registry } from '../../core/registry/registry';
import { StoredSeries, VersionRecord } from '../../core/registry/types';
import { conversionFacts } from '../../shared/conversion';
import {
  CodeComparison,
  ComparisonModel,
  Direction,
  MetricRow,
  SeriesData,
  VERSION_COLORS,
  VersionColumn,
  XAxis,
} from '../../shared/compare/contract';

export const DEFAULT_MAX_POINTS = 2000;

export interface ComparisonOptions {
  /** Metric key → direction, from the user's settings; wins over the name-based guess. */
  directions?: Record<string, Direction>;
  maxPoints?: number;
  /** The workspace's repositories, where the code diff is read: never a folder a stored version names. */
  repositories?: GitRepo[];
}

/** Everything the compare panel shows for the given versions, with series downsampled for posting. */
export async function buildComparison(
  registry: Registry,
  versionIds: number[],
  opts: ComparisonOptions = {},
): Promise<ComparisonModel> {
  const maxPoints = opts.maxPoints ?? DEFAULT_MAX_POINTS;
  const versions: VersionRecord[] = [];
  for (const id of versionIds) {
    const v = await registry.getVersionById(id);
    if (v) versions.push(v); // a version deleted meanwhile just drops out of the comparison
  }
  const finals = await Promise.all(versions.map((v) => registry.finalMetrics(v.id)));
  const keys = [...new Set(finals.flatMap((f) => f.map((m) => m.key)))].sort();
  const metrics: MetricRow[] = keys.map((key) => {
    const values = finals.map((f) => f.find((m) => m.key === key)?.value ?? null);
    const { goal: direction, overridden } = metricGoal(key, opts.directions);
    return {
      key,
      direction,
      directionOverridden: overridden,
      values,
      best: bestIndices(values, direction),
    };
  });

  metrics.push(...(await evaluationRows(registry, versions)));

  const series: SeriesData[] = [];
  for (const v of versions) {
    for (const s of await registry.allSeries(v.id)) {
      if (s.steps.length > 1) series.push(toSeriesData(v.id, s, downsampleMinMax(s.steps, s.values, maxPoints)));
    }
  }

  return {
    versions: versions.map(toColumn),
    metrics,
    series,
    params: diffParams(versions.map((v) => v.params)),
    code: await Promise.all(versions.slice(1).map((v) => compareCode(versions[0], v, opts.repositories ?? []))),
    maxPoints,
  };
}

const EVALUATION_METRICS: [string, string, Direction][] = [
  ['accuracy', 'accuracy', 'higher'],
  ['top5', 'top-5', 'higher'],
  ['macroF1', 'macro F1', 'higher'],
  ['weightedF1', 'weighted F1', 'higher'],
  ['ece', 'ECE', 'lower'],
  // Detection (a version evaluated on boxes has these instead): COCO's, then the other conventions.
  ['AP', 'AP', 'higher'],
  ['AP50', 'AP50', 'higher'],
  ['AP75', 'AP75', 'higher'],
  ['APs', 'AP small', 'higher'],
  ['APm', 'AP medium', 'higher'],
  ['APl', 'AP large', 'higher'],
  ['AR100', 'AR100', 'higher'],
  ['VOC_AP50', 'VOC AP50', 'higher'],
  ['mAP50-95', 'mAP50-95 (Ultralytics)', 'higher'],
  ['F1', 'F1', 'higher'],
];

/** Each version's newest evaluation per dataset and split, as rows "eval points/test: accuracy". */
async function evaluationRows(registry: Registry, versions: VersionRecord[]): Promise<MetricRow[]> {
  const latest = await Promise.all(
    versions.map(async (v) => {
      const byDataset = new Map<string, Record<string, number | null | undefined>>();
      for (const e of await registry.evaluationsOf(v.id)) {
        const where = `${e.datasetName}${e.split ? `/${e.split}` : ''}`;
        if (!byDataset.has(where)) byDataset.set(where, e.metrics);
      }
      return byDataset;
    }),
  );
  const datasets = [...new Set(latest.flatMap((m) => [...m.keys()]))].sort();
  const rows: MetricRow[] = [];
  for (const where of datasets) {
    for (const [key, label, direction] of EVALUATION_METRICS) {
      const values = latest.map((m) => m.get(where)?.[key] ?? null);
      if (values.every((x) => x === null)) continue;
      rows.push({
        key: `eval ${where}: ${label}`,
        direction,
        directionOverridden: false,
        values,
        best: bestIndices(values, direction),
      });
    }
  }
  return rows;
}

/** A finer look at one metric of the given versions: the points with x in [min, max], downsampled. */
export async function seriesWindow(
  registry: Registry,
  versionIds: number[],
  key: string,
  axis: XAxis,
  min: number,
  max: number,
  maxPoints = DEFAULT_MAX_POINTS,
): Promise<SeriesData[]> {
  const out: SeriesData[] = [];
  for (const id of versionIds) {
    const s = await registry.metricSeries(id, key);
    if (!s || s.steps.length === 0) continue;
    // Times are searched as stored (seconds since the epoch): shift the window instead of the series.
    const t0 = axis === 'time' && s.wallTimes ? s.wallTimes[0] : 0;
    const xs = axis === 'time' && s.wallTimes ? s.wallTimes : s.steps;
    const [from, to] = windowRange(xs, min + t0, max + t0);
    out.push(toSeriesData(id, s, downsampleMinMax(xs, s.values, maxPoints, from, to)));
  }
  return out;
}

function toSeriesData(versionId: number, s: StoredSeries, idx: number[]): SeriesData {
  const times = s.wallTimes;
  return {
    versionId,
    key: s.key,
    steps: idx.map((i) => s.steps[i]),
    values: idx.map((i) => s.values[i]),
    relTimes: times ? idx.map((i) => times[i] - times[0]) : null,
    totalPoints: s.steps.length,
  };
}

function toColumn(v: VersionRecord, i: number): VersionColumn {
  return {
    id: v.id,
    ref: v.ref,
    model: v.model,
    number: v.number,
    aliases: [],
    tags: v.tags,
    format: v.format,
    framework: v.framework,
    sizeBytes: v.sizeBytes,
    parameterCount: v.parameterCount,
    createdAt: v.createdAt,
    source: v.source,
    git: v.git && {
      commit: v.git.commit,
      shortCommit: v.git.commit.slice(0, 8),
      subject: v.git.subject,
      author: v.git.author,
      date: v.git.date,
      branch: v.git.branch,
      dirty: v.git.dirty,
      remote: v.git.remote,
    },
    conversion: v.parentKind === 'conversion' ? conversionFacts(v.details) : null,
    color: VERSION_COLORS[i % VERSION_COLORS.length],
  };
}

async function compareCode(base: VersionRecord, head: VersionRecord, repositories: GitRepo[]): Promise<CodeComparison> {
  const result: CodeComparison = {
    baseVersionId: base.id,
    headVersionId: head.id,
    baseRef: base.ref,
    headRef: head.ref,
    files: [],
    commits: [],
  };
  if (!base.git || !head.git)
    return { ...result, unavailable: `${!base.git ? base.ref : head.ref} was not imported from a git repository` };
  if (base.git.commit === head.git.commit)
    return { ...result, unavailable: `both were trained from the same commit ${base.git.commit.slice(0, 8)}` };
  const repo = await repositoryWithCommit(repositories, base.git.commit);
  if (!repo)
    return {
      ...result,
      unavailable: `commit ${base.git.commit.slice(0, 8)} is not in the workspace's repository (another clone, rebased away, or not fetched)`,
    };
  if (!(await repositoryWithCommit([repo], head.git.commit))) {
    return {
      ...result,
      unavailable: `commit ${head.git.commit.slice(0, 8)} is not in ${repo.workTree} (the versions come from different repositories, or it was not fetched)`,
    };
  }
  try {
    return { ...result, ...(await commitRange(repo, base.git.commit, head.git.commit)) };
  } catch (e) {
    return { ...result, unavailable: `git could not compare the commits: ${(e as Error).message}` };
  }
}

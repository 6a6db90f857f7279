/**
 * The compare panel's contract, imported by the extension host and by the page (webview/compare):
 * the view model it shows, its messages in the shared envelope, and their validator. Plain data
 * only. Every message from the page goes through parseFromWebview before use: the page is untrusted input.
 */
import type { Direction, Goal } from '../../core/compare/direction';
import type { ParamRow } from '../../core/compare/params';
import type { ConversionFacts } from '../conversion';
import { envelope, isInt, isNum, isObj, isStr, type Message, type PageContract, type Ready } from '../messages';

export type { ConversionFacts, Direction, Goal, ParamRow };

/** Tableau 10: distinguishable on light and dark backgrounds, and for most colour-blind readers. */
export const VERSION_COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

export interface GitColumn {
  commit: string;
  shortCommit: string;
  subject: string;
  author: string;
  date: string;
  branch: string | null;
  dirty: boolean;
  remote: string | null;
}

/** One compared version: a column of the summary and a line colour in the charts. */
export interface VersionColumn {
  id: number;
  ref: string;
  model: string;
  number: number;
  aliases: string[];
  tags: string[];
  format: string | null;
  framework: string | null;
  sizeBytes: number;
  parameterCount: number | null;
  createdAt: string;
  source: { kind: string; uri: string };
  git: GitColumn | null;
  /** What the converter did, for a version made by Convert…; null otherwise. */
  conversion: ConversionFacts | null;
  /** CSS colour of this version's lines, stable for a given position. */
  color: string;
  /**
   * Set on the column of a training run followed live (not a version yet): its id is negative, its
   * curves grow by 'liveSeries' messages, and it never holds a best value.
   */
  live?: { runId: string; running: boolean };
}

export interface MetricRow {
  key: string;
  /**
   * Which way is better; 'none' for what is not a result (learning rate, epoch, seed), null when
   * it cannot be told from the name and was not set. Only a direction has a best value.
   */
  direction: Goal;
  /** True when the direction comes from the user's setting rather than the metric's name. */
  directionOverridden: boolean;
  /** Final value per version, in column order; null where the version lacks the metric. */
  values: (number | null)[];
  /** Column indices holding the best value (ties share it); empty without a direction. */
  best: number[];
}

export interface SeriesData {
  versionId: number;
  key: string;
  steps: number[];
  values: number[];
  /** Seconds since the first point of this series, when the log has wall times. */
  relTimes: number[] | null;
  /** Points in the stored series; steps.length is at most the downsampling target. */
  totalPoints: number;
}

export interface CodeComparison {
  baseVersionId: number;
  headVersionId: number;
  baseRef: string;
  headRef: string;
  /** Why there is nothing to show (no git, different repositories, commit gone...). */
  unavailable?: string;
  files: { path: string; insertions: number; deletions: number; binary: boolean }[];
  commits: { hash: string; subject: string; author: string; date: string }[];
}

export interface ComparisonModel {
  versions: VersionColumn[];
  metrics: MetricRow[];
  series: SeriesData[];
  params: ParamRow[];
  /** Each version against the first one (the default baseline), in column order. */
  code: CodeComparison[];
  /** Target points per series of the overview (the extension's downsampling budget). */
  maxPoints: number;
  /** Set when the panel plots a metric across every version of this model (Plot Metric Across Versions). */
  acrossModel?: string;
}

export type XAxis = 'step' | 'time';

/**
 * New points of one series of a live column: the page cuts its copy of the series to `from` points
 * and appends these (from = 0 replaces it, e.g. after a rewrite or when it is downsampled again).
 */
export interface LiveSeriesChunk {
  key: string;
  from: number;
  steps: number[];
  values: number[];
  /** Seconds since the series' first point, when its log has wall times. */
  relTimes: number[] | null;
  /** Points the run has logged in this series so far. */
  totalPoints: number;
}

export interface LiveSeriesUpdate {
  /** The live column's id (negative). */
  versionId: number;
  series: LiveSeriesChunk[];
}

/** Extension → webview. */
export type ToWebview =
  | Message<'comparison', ComparisonModel>
  | Message<'seriesWindow', { requestId: number; key: string; axis: XAxis; series: SeriesData[] }>
  | Message<'liveSeries', LiveSeriesUpdate>
  | Message<'error', { message: string }>;

/** Webview → extension. */
export type FromWebview =
  | Ready
  | Message<'requestWindow', { requestId: number; key: string; axis: XAxis; min: number; max: number }>
  | Message<'openCommit', { versionId: number }>
  | Message<'openDiff', { baseVersionId: number; headVersionId: number }>
  | Message<'export', { format: 'csv' | 'markdown'; baselineVersionId: number }>
  | Message<'savePng', { key: string; dataUrl: string }>
  | Message<'setDirection', { key: string; direction: Direction | null }>;

/** The state the page keeps with vscode.setState, used to restore the panel after a reload. */
export interface CompareState {
  versionIds: number[];
  /** The model whose every version the panel follows, in the across-versions mode. */
  acrossModel?: string;
}

/** Returns the message when it is well-formed, else undefined. */
export function parseFromWebview(msg: unknown): FromWebview | undefined {
  const m = envelope(msg);
  if (!m) return undefined;
  const p = m.payload;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'requestWindow':
      if (
        isObj(p) &&
        isInt(p.requestId) &&
        isStr(p.key) &&
        (p.axis === 'step' || p.axis === 'time') &&
        isNum(p.min) &&
        isNum(p.max) &&
        p.min <= p.max
      ) {
        return {
          type: 'requestWindow',
          payload: { requestId: p.requestId, key: p.key, axis: p.axis, min: p.min, max: p.max },
        };
      }
      return undefined;
    case 'openCommit':
      return isObj(p) && isInt(p.versionId) ? { type: 'openCommit', payload: { versionId: p.versionId } } : undefined;
    case 'openDiff':
      return isObj(p) && isInt(p.baseVersionId) && isInt(p.headVersionId)
        ? { type: 'openDiff', payload: { baseVersionId: p.baseVersionId, headVersionId: p.headVersionId } }
        : undefined;
    case 'export':
      return isObj(p) && (p.format === 'csv' || p.format === 'markdown') && isInt(p.baselineVersionId)
        ? { type: 'export', payload: { format: p.format, baselineVersionId: p.baselineVersionId } }
        : undefined;
    case 'savePng':
      // A chart image, capped at 20 MB of base64 so a broken page cannot exhaust memory.
      return isObj(p) && isStr(p.key) && isStr(p.dataUrl, 20_000_000) && p.dataUrl.startsWith('data:image/png;base64,')
        ? { type: 'savePng', payload: { key: p.key, dataUrl: p.dataUrl } }
        : undefined;
    case 'setDirection':
      return isObj(p) && isStr(p.key) && (p.direction === 'lower' || p.direction === 'higher' || p.direction === null)
        ? { type: 'setDirection', payload: { key: p.key, direction: p.direction } }
        : undefined;
    default:
      return undefined;
  }
}

/** Validates restored panel state (it comes from the page as well). */
export function parseCompareState(state: unknown): CompareState | undefined {
  if (!isObj(state) || !Array.isArray(state.versionIds)) return undefined;
  const ids = state.versionIds.filter(isInt);
  if (ids.length < 1 || ids.length > 50) return undefined;
  return isStr(state.acrossModel, 200) ? { versionIds: ids, acrossModel: state.acrossModel } : { versionIds: ids };
}

/** The compare page: its bundle, what its CSP adds (PNG export draws to a canvas; vscode-elements inject styles), its checks. */
export const COMPARE_PAGE: PageContract<FromWebview, CompareState> = {
  viewType: 'modelRegistry.compare',
  bundle: 'compare',
  title: 'Compare',
  imgSrc: ['data:', 'blob:'],
  styleNonce: true,
  codicons: true,
  parse: parseFromWebview,
  parseState: parseCompareState,
};

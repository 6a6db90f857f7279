/**
 * The evaluation panel's contract, imported by the extension host and by the page (webview/evaluation):
 * the view it shows, its messages in the shared envelope, and their validator. Plain data only.
 * Every message from the page goes through parseFromWebview before use: the page is untrusted input.
 */
import type { DatasetKind } from '../../core/datasets/types';
import type { ClassificationMetrics, ClassMetrics } from '../../core/evaluate/types';
import { envelope, isObj, type Message, type PageContract, type Ready } from '../messages';

/** The headline numbers shown as cards; null where undefined (or the evaluator did not compute it). */
export type MetricsView = { [K in Exclude<keyof ClassificationMetrics, 'count'>]-?: number | null };

export interface EvaluationView {
  id: number;
  /** The evaluated version, "model@vN". */
  ref: string;
  status: 'running' | 'done' | 'failed';
  dataset: { name: string; manifestSha256: string; split: string | null; kind: DatasetKind | null };
  evaluator: string;
  /** The workspace commit when the evaluation ran. */
  git: { commit: string; dirty: boolean } | null;
  startedAt: string;
  finishedAt: string | null;
  sampleCount: number;
  errorCount: number;
  metrics: MetricsView;
  perClass: ClassMetrics[];
  classes: string[];
  /** confusion[label][prediction] = count, in class order. */
  confusion: number[][];
  /** How the sample browser shows a sample: an image thumbnail, a text snippet, or just its id. */
  samples: 'image' | 'text';
}

export interface SampleView {
  sampleId: string;
  /** Class indices; null when the sample could not be evaluated. */
  label: number | null;
  prediction: number | null;
  /** Probability of the predicted class. */
  score: number | null;
  error?: string;
  /** A webview URI of the image (image datasets only, never a remote URL). */
  thumbnail?: string;
  /** A short snippet of the row (table datasets). */
  text?: string;
}

/** Which samples a 'samples' message answers: one confusion-matrix cell, a class's false positives/negatives, or the failed ones. */
export type SampleQuery =
  { label: number; prediction: number } | { kind: 'fp' | 'fn'; cls: number } | { kind: 'errors' };

/** Extension → page. */
export type HostMessage =
  | Message<'init', EvaluationView>
  | Message<'samples', { request: number; cell: SampleQuery; samples: SampleView[]; total?: number }>
  /** With a request: that sample query failed; without: the whole evaluation cannot be shown. */
  | Message<'error', { request?: number; message: string }>;

/** Page → extension. Every sample request carries a number; the page drops answers to older ones. */
export type PageMessage =
  | Ready
  | Message<'cell', { request: number; label: number; prediction: number }>
  | Message<'classErrors', { request: number; cls: number; kind: 'fp' | 'fn' }>
  | Message<'errors', { request: number }>
  | Message<'openSample', { sampleId: string }>;

/** What the page keeps with vscode.setState, so the panel comes back after a reload. */
export interface EvaluationState {
  evaluationId: number;
}

/** Upper bound on class indices when the caller does not pass the evaluation's class count. */
export const MAX_CLASSES = 100_000;
/** Longest sample id accepted from the page (ids are relative paths or "file#row"). */
export const MAX_SAMPLE_ID = 1024;

const isRequest = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Returns the message when it is well-formed, else undefined. Class indices must lie in
 * 0..classCount-1, so pass the evaluation's class count once it is known.
 */
export function parseFromWebview(msg: unknown, classCount = MAX_CLASSES): PageMessage | undefined {
  const m = envelope(msg);
  if (!m) return undefined;
  if (m.type === 'ready') return { type: 'ready' };
  const p = m.payload;
  if (!isObj(p)) return undefined;
  const isClass = (v: unknown): v is number =>
    Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < classCount;
  switch (m.type) {
    case 'cell':
      return isRequest(p.request) && isClass(p.label) && isClass(p.prediction)
        ? { type: 'cell', payload: { request: p.request, label: p.label, prediction: p.prediction } }
        : undefined;
    case 'classErrors':
      return isRequest(p.request) && isClass(p.cls) && (p.kind === 'fp' || p.kind === 'fn')
        ? { type: 'classErrors', payload: { request: p.request, cls: p.cls, kind: p.kind } }
        : undefined;
    case 'errors':
      return isRequest(p.request) ? { type: 'errors', payload: { request: p.request } } : undefined;
    case 'openSample':
      return typeof p.sampleId === 'string' &&
        p.sampleId.length > 0 &&
        p.sampleId.length <= MAX_SAMPLE_ID &&
        !p.sampleId.includes('\0')
        ? { type: 'openSample', payload: { sampleId: p.sampleId } }
        : undefined;
    default:
      return undefined;
  }
}

/** Validates restored panel state (it comes from the page as well). */
export function parseEvaluationState(state: unknown): EvaluationState | undefined {
  return isObj(state) && isRequest(state.evaluationId) ? { evaluationId: state.evaluationId } : undefined;
}

/** The evaluation page. Thumbnails come only through the webview (no data: or blob: images). */
export const EVALUATION_PAGE: PageContract<PageMessage, EvaluationState> = {
  viewType: 'modelRegistry.evaluation',
  bundle: 'evaluation',
  title: 'Evaluation',
  parse: parseFromWebview,
  parseState: parseEvaluationState,
};

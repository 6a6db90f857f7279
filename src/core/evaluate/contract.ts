/**
 * The evaluation panel's message contract, imported by the extension host and by the webview bundle
 * (webview/evaluation). Plain data only. Every message from the page goes through parseFromWebview
 * before use: the page is untrusted input.
 */
import type { DatasetKind } from '../datasets/types';
import type { ClassificationMetrics, ClassMetrics } from './types';

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
  | { type: 'init'; evaluation: EvaluationView }
  | { type: 'samples'; request: number; cell: SampleQuery; samples: SampleView[]; total?: number }
  | { type: 'error'; request?: number; message: string };

/** Page → extension. */
export type PageMessage =
  | { type: 'ready' }
  | { type: 'cell'; request: number; label: number; prediction: number }
  | { type: 'class-errors'; request: number; cls: number; kind: 'fp' | 'fn' }
  | { type: 'errors'; request: number }
  | { type: 'open-sample'; sampleId: string };

/** Upper bound on class indices when the caller does not pass the evaluation's class count. */
export const MAX_CLASSES = 100_000;
/** Longest sample id accepted from the page (ids are relative paths or "file#row"). */
export const MAX_SAMPLE_ID = 1024;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRequest = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Returns the message when it is well-formed, else undefined. Class indices must lie in
 * 0..classCount-1, so pass the evaluation's class count once it is known.
 */
export function parseFromWebview(msg: unknown, classCount = MAX_CLASSES): PageMessage | undefined {
  if (!isObj(msg) || typeof msg.type !== 'string') return undefined;
  const isClass = (v: unknown): v is number =>
    Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < classCount;
  switch (msg.type) {
    case 'ready':
      return { type: 'ready' };
    case 'cell':
      return isRequest(msg.request) && isClass(msg.label) && isClass(msg.prediction)
        ? { type: 'cell', request: msg.request, label: msg.label, prediction: msg.prediction }
        : undefined;
    case 'class-errors':
      return isRequest(msg.request) && isClass(msg.cls) && (msg.kind === 'fp' || msg.kind === 'fn')
        ? { type: 'class-errors', request: msg.request, cls: msg.cls, kind: msg.kind }
        : undefined;
    case 'errors':
      return isRequest(msg.request) ? { type: 'errors', request: msg.request } : undefined;
    case 'open-sample':
      return typeof msg.sampleId === 'string' &&
        msg.sampleId.length > 0 &&
        msg.sampleId.length <= MAX_SAMPLE_ID &&
        !msg.sampleId.includes('\0')
        ? { type: 'open-sample', sampleId: msg.sampleId }
        : undefined;
    default:
      return undefined;
  }
}

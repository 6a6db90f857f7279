/**
 * The detection review panel's contract, imported by the extension host and by the page
 * (webview/detection): the evaluation it shows, its messages in the shared envelope, and their
 * validator. Every message from the page goes through parseFromDetectionPage before use.
 */
import type { BoxCounts, BoxCrop, BoxKind, CropQuery, ImageSort } from '../../core/evaluate/detection/browse';
import type { PredictionOutcome, PrCurve, TruthOutcome } from '../../core/evaluate/detection/types';
import { envelope, isObj, isNum, type Message, type PageContract, type Ready } from '../messages';

export type { BoxCounts, BoxCrop, BoxKind, CropQuery, ImageSort, PredictionOutcome, PrCurve, TruthOutcome };

/** A class's row as stored (COCO AP and AP50; the counts the page recomputes at its confidence). */
export interface ClassRow {
  class: string;
  support: number;
  AP: number | null;
  AP50: number | null;
}

export interface DetectionView {
  id: number;
  /** The evaluated version, "model@vN". */
  ref: string;
  status: 'running' | 'done' | 'failed';
  dataset: { name: string; manifestSha256: string; split: string | null };
  evaluator: string;
  git: { commit: string; dirty: boolean } | null;
  finishedAt: string | null;
  imageCount: number;
  classes: string[];
  /** The stored metrics under record.ts's keys (AP … ARl, VOC_AP50, VOC07_AP50, mAP50, mAP50-95, bestF1 …); null where undefined. */
  metrics: Record<string, number | null>;
  perClass: ClassRow[];
  prCurves: PrCurve[];
  /** Why VOC, Ultralytics and COCO numbers differ. */
  notes: string[];
  /** The confidence the evaluation recorded its counts at: the slider's start. */
  confidence: number;
  iou: number;
  /** The dataset registered without its images: boxes are drawn on blank canvases. */
  imagesMissing: boolean;
}

/** The counts at the page's confidence: per class, all together, and the confusion matrix (background at K). */
export interface StatsView {
  confidence: number;
  perClass: BoxCounts[];
  total: BoxCounts;
  confusion: number[][];
}

/** One image of the browser, its boxes at the query's confidence. */
export interface ImageTile {
  /** Its place in the evaluation. */
  index: number;
  sampleId: string;
  width: number;
  height: number;
  counts: BoxCounts;
  predictions: PredictionOutcome[];
  truths: TruthOutcome[];
  /** Webview URIs of the original and of its cached thumbnail; absent when the file is missing (a blank canvas then). */
  src?: string;
  thumb?: string;
}

export interface ImagesQuery {
  confidence: number;
  cls: number | null;
  outcome: BoxKind | null;
  sort: ImageSort;
}

export interface CropTile extends BoxCrop {
  width: number;
  height: number;
  src?: string;
}

/** Extension → page. */
export type HostMessage =
  | Message<'init', DetectionView>
  | Message<'stats', { request: number; stats: StatsView }>
  | Message<'images', { request: number; offset: number; total: number; images: ImageTile[] }>
  /** Thumbnails made after their images were posted. */
  | Message<'thumbs', { thumbs: { index: number; thumb: string }[] }>
  | Message<'crops', { request: number; query: CropQuery; total: number; crops: CropTile[] }>
  /** One image, asked for by its place in the evaluation (a crop's image, opened large). */
  | Message<'image', { request: number; image: ImageTile }>
  /** With a request: that query failed; without: the whole evaluation cannot be shown. */
  | Message<'error', { request?: number; message: string }>;

/** Page → extension. Each query carries a number; the page drops answers to older ones. */
export type PageMessage =
  | Ready
  | Message<'stats', { request: number; confidence: number }>
  | Message<'images', { request: number; query: ImagesQuery; offset: number; limit: number }>
  | Message<'crops', { request: number; confidence: number; query: CropQuery }>
  | Message<'image', { request: number; confidence: number; index: number }>;

export interface DetectionState {
  evaluationId: number;
}

/** Most images one 'images' message may ask for (the page asks for what is on screen, and a margin). */
export const MAX_PAGE = 200;
export const MAX_CLASSES = 100_000;
const MAX_OFFSET = 100_000_000;

const isIndex = (v: unknown, below: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < below;
const isConfidence = (v: unknown): v is number => isNum(v) && v >= 0 && v <= 1;
const SORTS: readonly ImageSort[] = ['index', 'fp-score', 'fn-area'];
const KINDS: readonly BoxKind[] = ['tp', 'fp', 'fn'];

function parseImagesQuery(q: unknown, classCount: number): ImagesQuery | undefined {
  if (!isObj(q) || !isConfidence(q.confidence)) return undefined;
  const cls = q.cls === null || isIndex(q.cls, classCount) ? q.cls : undefined;
  const outcome =
    q.outcome === null || KINDS.includes(q.outcome as BoxKind) ? (q.outcome as BoxKind | null) : undefined;
  const sort = SORTS.includes(q.sort as ImageSort) ? (q.sort as ImageSort) : undefined;
  if (cls === undefined || outcome === undefined || !sort) return undefined;
  return { confidence: q.confidence, cls, outcome, sort };
}

function parseCropQuery(q: unknown, classCount: number): CropQuery | undefined {
  if (!isObj(q)) return undefined;
  // A confusion cell may be in the background row or column (index K), not both.
  if ('truth' in q)
    return isIndex(q.truth, classCount + 1) &&
      isIndex(q.predicted, classCount + 1) &&
      !(q.truth === classCount && q.predicted === classCount)
      ? { truth: q.truth, predicted: q.predicted }
      : undefined;
  return isIndex(q.cls, classCount) && (q.outcome === 'fp' || q.outcome === 'fn')
    ? { cls: q.cls, outcome: q.outcome }
    : undefined;
}

/** Returns the message when it is well-formed, else undefined; class indices must lie in 0..classCount-1 (K for background). */
export function parseFromDetectionPage(msg: unknown, classCount = MAX_CLASSES): PageMessage | undefined {
  const m = envelope(msg);
  if (!m) return undefined;
  if (m.type === 'ready') return { type: 'ready' };
  const p = m.payload;
  if (!isObj(p) || !isIndex(p.request, Number.MAX_SAFE_INTEGER)) return undefined;
  const request = p.request;
  switch (m.type) {
    case 'stats':
      return isConfidence(p.confidence) ? { type: 'stats', payload: { request, confidence: p.confidence } } : undefined;
    case 'images': {
      const query = parseImagesQuery(p.query, classCount);
      return query && isIndex(p.offset, MAX_OFFSET) && isIndex(p.limit, MAX_PAGE + 1) && p.limit > 0
        ? { type: 'images', payload: { request, query, offset: p.offset, limit: p.limit } }
        : undefined;
    }
    case 'crops': {
      const query = parseCropQuery(p.query, classCount);
      return query && isConfidence(p.confidence)
        ? { type: 'crops', payload: { request, confidence: p.confidence, query } }
        : undefined;
    }
    case 'image':
      return isConfidence(p.confidence) && isIndex(p.index, MAX_OFFSET)
        ? { type: 'image', payload: { request, confidence: p.confidence, index: p.index } }
        : undefined;
    default:
      return undefined;
  }
}

export function parseDetectionState(state: unknown): DetectionState | undefined {
  return isObj(state) && isIndex(state.evaluationId, Number.MAX_SAFE_INTEGER)
    ? { evaluationId: state.evaluationId }
    : undefined;
}

/** The detection review page. Images come only through the webview (no data: or blob: images). */
export const DETECTION_PAGE: PageContract<PageMessage, DetectionState> = {
  viewType: 'modelRegistry.detection',
  bundle: 'detection',
  title: 'Detection evaluation',
  parse: parseFromDetectionPage,
  parseState: parseDetectionState,
};

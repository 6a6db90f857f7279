/**
 * From a detector's outputs to boxes: the version's config.json "postprocessing", raw YOLO decoding,
 * class-wise NMS, reading models that already give boxes, scores and labels, and mapping boxes from
 * the model's input back to the original image.
 *
 *   "postprocessing": {
 *     "kind": "yolo",              // or "boxes-scores-labels" (torchvision, exports with NMS inside)
 *     "score_threshold": 0.001,    // boxes scoring at or below it are dropped (low: evaluation wants the whole PR curve)
 *     "iou_threshold": 0.7,        // NMS: a box overlapping a better one of its class by more is dropped (yolo only)
 *     "max_detections": 100,       // per image, the best by score
 *     "multi_label": false,        // yolo: an anchor gives a box for every class above the threshold (Ultralytics' val), not only its best
 *     "box_format": "xyxy",        // or "xywh", "cxcywh"; default cxcywh for yolo (Ultralytics' raw output)
 *     "normalized": false,         // true: boxes are 0..1 of the input's width and height
 *     "label_offset": 0,           // subtracted from labels (torchvision counts background as 0: use 1)
 *     "outputs": { "boxes": "…", "scores": "…", "labels": "…" }  // boxes-scores-labels: output names (default: by name, shape and type); yolo reads the first output
 *   }
 */
import { InputError } from '../../errors';
import type { InputGeometry } from '../../datasets/samples';
import type { PredictedBox } from './types';

export type BoxFormat = 'xyxy' | 'xywh' | 'cxcywh';

export interface Postprocess {
  kind: 'yolo' | 'boxes-scores-labels';
  scoreThreshold: number;
  iouThreshold: number;
  maxDetections: number;
  multiLabel: boolean;
  boxFormat: BoxFormat;
  normalized: boolean;
  labelOffset: number;
  outputs: { boxes?: string; scores?: string; labels?: string };
}

/** A box in the model's input, corners in pixels; label as the model numbers it. */
export interface Detection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  label: number;
}

const KINDS = ['yolo', 'boxes-scores-labels'] as const;
const FORMATS = ['xyxy', 'xywh', 'cxcywh'] as const;
const WHERE = 'config.json';

/** The config's "postprocessing", checked, with defaults; a missing or wrong key is an InputError naming it. */
export function postprocessFromConfig(config: unknown): Postprocess {
  const raw = isObject(config) ? config.postprocessing : undefined;
  if (raw === undefined)
    throw new InputError(WHERE, `a detector needs "postprocessing": { "kind": ${KINDS.map(quote).join(' or ')}, … }`);
  if (!isObject(raw)) throw new InputError(WHERE, '"postprocessing" must be an object');
  const known = [
    'kind',
    'score_threshold',
    'iou_threshold',
    'max_detections',
    'multi_label',
    'box_format',
    'normalized',
    'label_offset',
    'outputs',
  ];
  for (const k of Object.keys(raw))
    if (!known.includes(k))
      throw new InputError(WHERE, `postprocessing.${k} is not a setting (known: ${known.join(', ')})`);
  const kind = raw.kind;
  if (!KINDS.includes(kind as Postprocess['kind']))
    throw new InputError(
      WHERE,
      `postprocessing.kind must be ${KINDS.map(quote).join(' or ')}, not ${JSON.stringify(kind ?? null)}`,
    );
  const fraction = (key: string, fallback: number) => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      throw new InputError(WHERE, `postprocessing.${key} must be a number from 0 to 1, not ${JSON.stringify(v)}`);
    return v;
  };
  const maxDetections = raw.max_detections ?? 100;
  if (typeof maxDetections !== 'number' || !Number.isInteger(maxDetections) || maxDetections < 1)
    throw new InputError(
      WHERE,
      `postprocessing.max_detections must be a whole number above 0, not ${JSON.stringify(maxDetections)}`,
    );
  const boxFormat = raw.box_format ?? (kind === 'yolo' ? 'cxcywh' : 'xyxy');
  if (!FORMATS.includes(boxFormat as BoxFormat))
    throw new InputError(
      WHERE,
      `postprocessing.box_format must be ${FORMATS.map(quote).join(', ')}, not ${JSON.stringify(boxFormat)}`,
    );
  const flag = (key: string) => {
    const v = raw[key] ?? false;
    if (typeof v !== 'boolean')
      throw new InputError(WHERE, `postprocessing.${key} must be true or false, not ${JSON.stringify(v)}`);
    return v;
  };
  const labelOffset = raw.label_offset ?? 0;
  if (typeof labelOffset !== 'number' || !Number.isInteger(labelOffset))
    throw new InputError(
      WHERE,
      `postprocessing.label_offset must be a whole number, not ${JSON.stringify(labelOffset)}`,
    );
  const outputs = raw.outputs ?? {};
  if (!isObject(outputs))
    throw new InputError(
      WHERE,
      'postprocessing.outputs must be an object of output names: { "boxes", "scores", "labels" }',
    );
  for (const [k, v] of Object.entries(outputs))
    if (!['boxes', 'scores', 'labels'].includes(k) || typeof v !== 'string')
      throw new InputError(
        WHERE,
        `postprocessing.outputs.${k} must be one of boxes, scores, labels naming an output, not ${JSON.stringify(v)}`,
      );
  return {
    kind: kind as Postprocess['kind'],
    scoreThreshold: fraction('score_threshold', 0.001),
    iouThreshold: fraction('iou_threshold', 0.7),
    maxDetections,
    multiLabel: flag('multi_label'),
    boxFormat: boxFormat as BoxFormat,
    normalized: flag('normalized'),
    labelOffset,
    outputs: outputs as Postprocess['outputs'],
  };
}

/** Corners of a box in `format`, scaled from 0..1 to pixels of a width × height input when `normalized`. */
function corners(a: number, b: number, c: number, d: number, format: BoxFormat, sx: number, sy: number) {
  const [x1, y1, x2, y2] =
    format === 'xyxy'
      ? [a, b, c, d]
      : format === 'xywh'
        ? [a, b, a + c, b + d]
        : [a - c / 2, b - d / 2, a + c / 2, b + d / 2];
  return { x1: x1 * sx, y1: y1 * sy, x2: x2 * sx, y2: y2 * sy };
}

/**
 * Ultralytics' raw output [1, 4 + C, A] (or [4 + C, A]): per anchor a box, then C class scores (no
 * objectness). Each anchor keeps its best class, as Ultralytics' predictor does, or with multiLabel
 * every class, as its validator does; scores at or below the threshold are dropped. Boxes are not yet
 * suppressed: see nmsClasswise.
 */
export function decodeYolo(
  output: ArrayLike<number>,
  dims: number[],
  opts: {
    scoreThreshold: number;
    multiLabel?: boolean;
    boxFormat?: BoxFormat;
    normalized?: boolean;
    inputSize?: [number, number];
  },
): Detection[] {
  const rows = dims.length === 3 && dims[0] === 1 ? dims[1] : dims.length === 2 ? dims[0] : -1;
  const anchors = dims[dims.length - 1];
  if (rows < 5 || output.length !== rows * anchors)
    throw new Error(`a raw YOLO output is [1, 4 + classes, anchors], not [${dims.join(', ')}]`);
  const [sy, sx] = opts.normalized && opts.inputSize ? opts.inputSize : [1, 1];
  const out: Detection[] = [];
  for (let a = 0; a < anchors; a++) {
    const at = (r: number) => output[r * anchors + a];
    const box = () => corners(at(0), at(1), at(2), at(3), opts.boxFormat ?? 'cxcywh', sx, sy);
    if (opts.multiLabel) {
      for (let c = 4; c < rows; c++)
        if (at(c) > opts.scoreThreshold) out.push({ ...box(), score: at(c), label: c - 4 });
      continue;
    }
    let label = 0;
    let score = -Infinity;
    for (let c = 4; c < rows; c++) if (at(c) > score) [score, label] = [at(c), c - 4];
    if (score > opts.scoreThreshold) out.push({ ...box(), score, label });
  }
  return out;
}

/** Intersection over union of two corner boxes (0 when either has no area). */
export function iou(a: Detection, b: Detection): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

/**
 * Greedy non-maximum suppression within each class, as torchvision's batched_nms (which Ultralytics
 * uses): by score, highest first (ties keep their order), a box overlapping a kept box of its class
 * by IoU above the threshold is dropped; the first maxDetections kept are returned.
 */
export function nmsClasswise(boxes: Detection[], iouThreshold: number, maxDetections: number): Detection[] {
  const sorted = boxes.map((b, i) => ({ b, i })).sort((p, q) => q.b.score - p.b.score || p.i - q.i);
  const kept: Detection[] = [];
  const keptByClass = new Map<number, Detection[]>();
  for (const { b } of sorted) {
    if (kept.length >= maxDetections) break;
    const same = keptByClass.get(b.label) ?? [];
    if (same.some((k) => iou(k, b) > iouThreshold)) continue;
    same.push(b);
    keptByClass.set(b.label, same);
    kept.push(b);
  }
  return kept;
}

/** A model output as postprocessing reads it. */
export interface OutputTensor {
  name: string;
  type: string;
  dims: number[];
  data: ArrayLike<number | bigint>;
}

/**
 * Boxes, scores and labels as the model gives them (batch dimension optional): [N, 4], [N], [N].
 * Outputs are found by the config's names, else by the names boxes/scores/labels, else by shape and
 * type (the one with last dimension 4 is boxes, an integer one is labels, the other scores). Filters
 * by score and keeps the best maxDetections; no NMS (the model did it).
 */
export function readBoxesScoresLabels(
  outputs: OutputTensor[],
  p: Postprocess,
  inputSize: [number, number],
): Detection[] {
  const problem = (why: string) =>
    new Error(
      `${why}; kind "boxes-scores-labels" needs boxes [N, 4], scores [N] and labels [N] (outputs: ${outputs
        .map((o) => `${o.name} [${o.dims.join(', ')}]`)
        .join(', ')})`,
    );
  const byName = (key: 'boxes' | 'scores' | 'labels') => {
    const name = p.outputs[key];
    if (name === undefined) return outputs.find((o) => o.name === key);
    const o = outputs.find((x) => x.name === name);
    if (!o) throw problem(`postprocessing.outputs.${key} names "${name}", which the model does not output`);
    return o;
  };
  const boxes = byName('boxes') ?? outputs.find((o) => o.dims[o.dims.length - 1] === 4);
  const rest = outputs.filter((o) => o !== boxes);
  const labels = byName('labels') ?? rest.find((o) => /int/.test(o.type));
  const scores = byName('scores') ?? rest.find((o) => o !== labels && /float|double/.test(o.type));
  if (!boxes || !scores || !labels) throw problem('cannot tell which outputs are boxes, scores and labels');
  const n = scores.data.length;
  const flat = (o: OutputTensor, per: number) =>
    o.dims.length >= 1 &&
    o.dims.length <= (per === 4 ? 3 : 2) &&
    o.data.length === n * per &&
    (per === 1 || o.dims[o.dims.length - 1] === 4);
  if (!flat(boxes, 4) || !flat(scores, 1) || !flat(labels, 1) || (boxes.dims.length === 3 && boxes.dims[0] !== 1))
    throw problem(
      `${boxes.name} [${boxes.dims.join(', ')}], ${scores.name} [${scores.dims.join(', ')}] and ${labels.name} [${labels.dims.join(', ')}] do not fit`,
    );
  const [sy, sx] = p.normalized ? inputSize : [1, 1];
  const out: Detection[] = [];
  for (let i = 0; i < n; i++) {
    const score = Number(scores.data[i]);
    if (!(score > p.scoreThreshold)) continue;
    const b = (k: number) => Number(boxes.data[i * 4 + k]);
    out.push({ ...corners(b(0), b(1), b(2), b(3), p.boxFormat, sx, sy), score, label: Number(labels.data[i]) });
  }
  // Stable: equal scores keep the model's order.
  return out.sort((a, b) => b.score - a.score).slice(0, p.maxDetections);
}

/**
 * Input boxes → [x, y, w, h] in the original image's pixels: undo the padding and scale, clip to the
 * image, and number labels from 0 (label_offset). Boxes left with no area, or whose label is below 0
 * after the offset, are dropped; their ids stay in order among the rest.
 */
export function toImageBoxes(
  dets: Detection[],
  g: InputGeometry,
  image: { width: number; height: number },
  labelOffset: number,
): PredictedBox[] {
  const clip = (v: number, max: number) => Math.min(Math.max(v, 0), max);
  const out: PredictedBox[] = [];
  for (const d of dets) {
    const x1 = clip((d.x1 - g.padX) / g.scaleX, image.width);
    const y1 = clip((d.y1 - g.padY) / g.scaleY, image.height);
    const x2 = clip((d.x2 - g.padX) / g.scaleX, image.width);
    const y2 = clip((d.y2 - g.padY) / g.scaleY, image.height);
    const label = d.label - labelOffset;
    if (x2 <= x1 || y2 <= y1 || label < 0) continue;
    out.push({ id: out.length, label, bbox: [x1, y1, x2 - x1, y2 - y1], score: d.score });
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const quote = (s: string) => JSON.stringify(s);

/**
 * Recording a detection evaluation: predictions (from a COCO results file, an external evaluator or
 * the built-in ONNX detector) against a detection dataset's boxes, summarised and stored with every
 * image's box outcomes. Metrics need only the manifest's boxes, so predictions made elsewhere are
 * evaluated without the images.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { CancelledError, InputError, RegistryError } from '../../errors';
import { gitProvenance } from '../../git/provenance';
import { Registry } from '../../registry/registry';
import { DatasetManifest, DatasetRecord, DatasetSample } from '../../registry/datasetTypes';
import { EvaluationRecord } from '../../registry/evaluationTypes';
import { hashFile } from '../../store/localStore';
import { parseJsonBounded } from '../../util/json';
import { chooseSplit } from '../splits';
import { METRIC_NOTES, summarizeDetections } from './summary';
import { DetectionImage, PredictedBox } from './types';

export interface DetectionEvaluateOptions {
  dataset: string;
  split?: string;
  /** Confidence the counts (precision, recall, F1, confusion) are taken at; default summarizeDetections'. */
  confidence?: number;
  /** The workspace folder, for the commit the evaluation is recorded with. */
  cwd?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** A detection dataset's images in the split, ready to evaluate; refuses a classification dataset. */
export async function detectionImages(
  registry: Registry,
  datasetName: string,
  wantedSplit: string | undefined,
): Promise<{ dataset: DatasetRecord; manifest: DatasetManifest; split: string | null; images: DetectionImage[] }> {
  const dataset = await registry.getDataset(datasetName);
  const manifest = await registry.readManifest(dataset);
  if (manifest.kind !== 'detection')
    throw new RegistryError(
      `dataset ${dataset.name} is a ${manifest.kind} dataset with class labels, not boxes; detection metrics need a COCO, YOLO or Pascal VOC dataset`,
    );
  const split = chooseSplit(dataset, wantedSplit);
  const samples = manifest.samples.filter((s) => split === null || s.split === split);
  if (!samples.length)
    throw new RegistryError(`dataset ${dataset.name}${split ? ` (split ${split})` : ''} has no images`);
  return { dataset, manifest, split, images: samples.map(toDetectionImage) };
}

export function toDetectionImage(s: DatasetSample): DetectionImage {
  const image = s.image ?? { id: 0, width: 0, height: 0 };
  return { imageId: image.id, sampleId: s.id, width: image.width, height: image.height, truths: s.boxes ?? [] };
}

/** What reading a results file left out, so the user can tell a wrong file from a partial one. */
export interface IgnoredPredictions {
  /** image_id not among the evaluated images (another split, another dataset). */
  unknownImage: number;
  /** category_id not one of the dataset's categories. */
  unknownCategory: number;
  /** bbox not four finite numbers with w, h ≥ 0, or score not a finite number. */
  malformed: number;
}

/**
 * COCO results (a list of {image_id, category_id, bbox: [x, y, w, h], score}) → predictions per
 * image id. image_id is the dataset's image id, or (as YOLO tools write it) the image's file stem.
 */
export function readCocoResults(
  text: string,
  file: string,
  manifest: DatasetManifest,
  images: DetectionImage[],
): { predictions: Map<number, PredictedBox[]>; count: number; ignored: IgnoredPredictions } {
  const list = parseJsonBounded(text, file);
  if (!Array.isArray(list))
    throw new InputError(
      file,
      `COCO results must be a list of {image_id, category_id, bbox, score}, not ${list === null ? 'null' : typeof list}`,
    );
  const byId = new Map<number | string, number>();
  const stems = new Map<string, number>();
  for (const im of images) {
    byId.set(im.imageId, im.imageId);
    stems.set(path.posix.basename(im.sampleId).replace(/\.[^.]*$/, ''), im.imageId);
  }
  const classOf = new Map((manifest.detection?.categoryIds ?? []).map((id, i) => [id, i]));
  const predictions = new Map<number, PredictedBox[]>(images.map((im) => [im.imageId, []]));
  const ignored: IgnoredPredictions = { unknownImage: 0, unknownCategory: 0, malformed: 0 };
  let count = 0;
  for (const r of list as Record<string, unknown>[]) {
    const b = r?.bbox;
    if (
      !Array.isArray(b) ||
      b.length !== 4 ||
      !Number.isFinite(b[0]) || // Number.isFinite is false for anything but a finite number
      !Number.isFinite(b[1]) ||
      !Number.isFinite(b[2]) ||
      !Number.isFinite(b[3]) ||
      b[2] < 0 ||
      b[3] < 0 ||
      typeof r.score !== 'number' ||
      !Number.isFinite(r.score)
    ) {
      ignored.malformed++;
      continue;
    }
    const imageId =
      typeof r.image_id === 'number'
        ? byId.get(r.image_id)
        : typeof r.image_id === 'string'
          ? stems.get(r.image_id)
          : undefined;
    if (imageId === undefined) {
      ignored.unknownImage++;
      continue;
    }
    const label = typeof r.category_id === 'number' ? classOf.get(r.category_id) : undefined;
    if (label === undefined) {
      ignored.unknownCategory++;
      continue;
    }
    const mine = predictions.get(imageId)!;
    mine.push({ id: mine.length, label, bbox: b as PredictedBox['bbox'], score: r.score });
    count++;
  }
  if (list.length && !count)
    throw new InputError(
      file,
      `none of its ${list.length} predictions fits the dataset: ${describeIgnored(ignored)} (image_id must be the dataset's image id or file stem, category_id one of ${[...classOf.keys()].slice(0, 10).join(', ')}${classOf.size > 10 ? ', …' : ''})`,
    );
  return { predictions, count, ignored };
}

export const describeIgnored = (i: IgnoredPredictions) =>
  `${i.unknownImage} of an unknown image, ${i.unknownCategory} of an unknown category, ${i.malformed} malformed`;

/**
 * `modelreg evaluate REF --dataset NAME --predictions results.json`: an evaluation of REF from
 * predictions made elsewhere, recorded with the results file's hash.
 */
export async function evaluateFromPredictions(
  registry: Registry,
  ref: string,
  file: string,
  opts: DetectionEvaluateOptions,
): Promise<EvaluationRecord> {
  const v = await registry.resolve(ref);
  const { dataset, manifest, split, images } = await detectionImages(registry, opts.dataset, opts.split);
  const abs = path.resolve(file);
  const st = await fsp.stat(abs).catch(() => {
    throw new InputError(abs, 'no such file');
  });
  if (!st.isFile()) throw new InputError(abs, 'not a file');
  const { sha256 } = await hashFile(abs, { signal: opts.signal });
  const read = readCocoResults(await fsp.readFile(abs, 'utf8'), abs, manifest, images);
  opts.log?.(
    `${read.count} predictions on ${images.length} images${read.count < countAll(read) ? `; ignored: ${describeIgnored(read.ignored)}` : ''}`,
  );
  return withEvaluation(registry, { versionId: v.id, dataset, split, evaluator: 'predictions', cwd: opts.cwd }, (id) =>
    recordDetectionEvaluation(registry, id, dataset.classes, images, read.predictions, {
      ...opts,
      details: {
        predictions: { file: path.basename(abs), sha256, size: st.size, count: read.count, ignored: read.ignored },
      },
    }),
  );
}

const countAll = (r: { count: number; ignored: IgnoredPredictions }) =>
  r.count + r.ignored.unknownImage + r.ignored.unknownCategory + r.ignored.malformed;

/**
 * Summarises predictions against the images' boxes and completes evaluation `id` (begun by the
 * caller, who drops it if this throws) with every image's outcomes.
 */
export async function recordDetectionEvaluation(
  registry: Registry,
  id: number,
  classes: string[],
  images: DetectionImage[],
  predictions: Map<number, PredictedBox[]>,
  opts: { confidence?: number; signal?: AbortSignal; errorCount?: number; details?: Record<string, unknown> },
): Promise<EvaluationRecord> {
  const started = Date.now();
  const summary = summarizeDetections(classes, images, predictions, { confidence: opts.confidence });
  await registry.addEvaluationImages(
    id,
    summary.images.map((image, idx) => ({ idx, image })),
  );
  if (opts.signal?.aborted) throw new CancelledError();
  return registry.completeEvaluation(id, {
    metrics: summary.metrics,
    perClass: summary.perClass,
    confusion: summary.confusion,
    sampleCount: images.length,
    errorCount: opts.errorCount ?? 0,
    details: {
      ...opts.details,
      task: 'detection',
      confidence: summary.confidence,
      iou: summary.iou,
      boxes: images.reduce((n, im) => n + im.truths.length, 0),
      predictionCount: [...predictions.values()].reduce((n, p) => n + p.length, 0),
      prCurves: summary.prCurves,
      notes: METRIC_NOTES,
      seconds: (Date.now() - started) / 1000,
    },
  });
}

/** Begins an evaluation of the version on the dataset, runs `body` with its id, and drops it if body throws. */
export async function withEvaluation(
  registry: Registry,
  e: { versionId: number; dataset: DatasetRecord; split: string | null; evaluator: string; cwd?: string },
  body: (id: number) => Promise<EvaluationRecord>,
): Promise<EvaluationRecord> {
  const git = e.cwd ? (await gitProvenance(e.cwd)).git : null;
  const id = await registry.beginEvaluation({
    versionId: e.versionId,
    datasetId: e.dataset.id,
    split: e.split,
    evaluator: e.evaluator,
    git: git && { commit: git.commit, dirty: git.dirty },
  });
  try {
    return await body(id);
  } catch (err) {
    await registry.dropEvaluation(id);
    throw err;
  }
}

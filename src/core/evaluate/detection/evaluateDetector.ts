/**
 * The built-in detection evaluator: an ONNX detector run on a detection dataset's images (with the
 * pre- and postprocessing of the version's config.json), its boxes scored against the manifest's.
 */
import * as path from 'path';
import { InputError, RegistryError } from '../../errors';
import { checkDatasetFiles, detectionImagesDir, realDatasetRoot } from '../../datasets/verify';
import { OrtCrashError, OrtError, OrtSession, OrtTimeoutError } from '../../onnxrt/session';
import { Registry } from '../../registry/registry';
import { EvaluationRecord } from '../../registry/evaluationTypes';
import { VersionRecord } from '../../registry/types';
import { detectImages } from './detect';
import { postprocessFromConfig } from './postprocess';
import { DetectionEvaluateOptions, detectionImages, recordDetectionEvaluation, withEvaluation } from './record';
import { PredictedBox } from './types';

export async function evaluateDetector(
  registry: Registry,
  v: VersionRecord,
  onnx: { path: string; sha256: string },
  config: unknown,
  labels: string[] | undefined,
  opts: DetectionEvaluateOptions & { onProgress?: (done: number, total: number) => void },
): Promise<EvaluationRecord> {
  const { dataset, manifest, split, images } = await detectionImages(registry, opts.dataset, opts.split);
  try {
    postprocessFromConfig(config); // refused before anything runs, naming the version
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError(
      `${v.ref}:config.json`,
      `${e.problem} (dataset ${dataset.name} holds boxes, so ${v.ref} is run as a detector)`,
    );
  }
  if (manifest.detection?.imagesMissing)
    throw new RegistryError(
      `dataset ${dataset.name} was registered without its images, so a detector cannot run on it: register it again with its images folder (--images DIR), or record predictions made elsewhere (--predictions results.json)`,
    );
  const root = await realDatasetRoot(dataset);
  const samples = manifest.samples.filter((s) => split === null || s.split === split);
  await checkDatasetFiles(dataset, manifest, root, samples, opts.signal);
  const imagesDir = detectionImagesDir(dataset, root);
  // Model output label → dataset class, by name when the config names the model's classes.
  const toDataset = labels?.map((n) => dataset.classes.indexOf(n));
  const where = `${v.ref}:${onnx.path}`;
  const session = await OrtSession.create(registry.store.objectPath(onnx.sha256), { signal: opts.signal }).catch(
    (e: Error) => {
      throw e instanceof OrtError
        ? new InputError(where, `onnxruntime cannot load the model (${e.message.split('\n')[0]})`)
        : e instanceof OrtCrashError || e instanceof OrtTimeoutError
          ? new InputError(where, e.message)
          : e;
    },
  );
  try {
    return await withEvaluation(
      registry,
      { versionId: v.id, dataset, split, evaluator: 'builtin', cwd: opts.cwd },
      async (id) => {
        opts.log?.(`${v.ref} on ${dataset.name}${split ? `/${split}` : ''}: ${images.length} images`);
        const started = Date.now();
        const results = await detectImages(
          session,
          config,
          samples.map((s, i) => ({
            file: path.join(imagesDir, ...s.file.split('/')),
            width: images[i].width,
            height: images[i].height,
          })),
          { model: where, signal: opts.signal, onProgress: opts.onProgress },
        );
        const predictions = new Map<number, PredictedBox[]>();
        const errors: { sampleId: string; error: string }[] = [];
        const scored = images.filter((im, i) => {
          const r = results[i];
          if (r.error !== undefined) return !errors.push({ sampleId: im.sampleId, error: r.error });
          predictions.set(
            im.imageId,
            r.boxes
              .map((b) => (toDataset ? { ...b, label: toDataset[b.label] ?? -1 } : b))
              .filter((b) => b.label >= 0 && b.label < dataset.classes.length)
              .map((b, k) => ({ ...b, id: k })),
          );
          return true;
        });
        if (!scored.length)
          throw new InputError(where, `no image could be run (first: ${errors[0].sampleId}: ${errors[0].error})`);
        const seconds = (Date.now() - started) / 1000;
        opts.log?.(
          `${scored.length} images in ${seconds.toFixed(1)} s (${(scored.length / seconds).toFixed(1)}/s), ${errors.length} could not be read`,
        );
        return recordDetectionEvaluation(registry, id, dataset.classes, scored, predictions, {
          confidence: opts.confidence,
          signal: opts.signal,
          errorCount: errors.length,
          details: {
            model: onnx.path,
            imagesPerSecond: scored.length / seconds,
            classMap: toDataset ? 'by name' : 'by index',
            ...(errors.length ? { imageErrors: errors.slice(0, 20) } : {}),
          },
        });
      },
    );
  } finally {
    await session.release();
  }
}

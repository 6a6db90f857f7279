/**
 * Running an ONNX detector on images: preprocessing and postprocessing from the version's config.json,
 * one image a run (detectors are usually exported for batch 1), images decoded on worker threads
 * while the previous one runs.
 */
import { CancelledError, InputError } from '../../errors';
import { imageShape, inputGeometry, preprocessFromConfig } from '../../datasets/samples';
import { OrtCrashError, OrtError, OrtSession, OrtTimeoutError } from '../../onnxrt/session';
import { ImagePool } from '../imagePool';
import {
  decodeYolo,
  nmsClasswise,
  OutputTensor,
  postprocessFromConfig,
  readBoxesScoresLabels,
  toImageBoxes,
} from './postprocess';
import type { PredictedBox } from './types';

export interface DetectImage {
  /** Absolute path. */
  file: string;
  /** The original image's size, as the dataset records it; boxes come back in these pixels. */
  width: number;
  height: number;
}

export interface DetectOptions {
  /** Names the model in errors (e.g. "model@v2:model.onnx"). */
  model: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** One image's boxes, or why the image could not be read (the other images still run). */
export type DetectResult = { boxes: PredictedBox[]; error?: undefined } | { boxes?: undefined; error: string };

/**
 * Boxes for each image, in its order. An image that cannot be decoded gets its error; a model whose
 * outputs do not fit the declared kind, or that onnxruntime cannot run, ends the run with an
 * InputError naming the model.
 */
export async function detectImages(
  session: OrtSession,
  config: unknown,
  images: DetectImage[],
  opts: DetectOptions,
): Promise<DetectResult[]> {
  const post = postprocessFromConfig(config);
  const input = session.inputs[0];
  const pre = preprocessFromConfig(config, input?.shape);
  const shape = [1, ...imageShape(pre)];
  const pool = new ImagePool(1);
  const load = (i: number) =>
    pool.load(images[i].file, pre).then(
      (data) => ({ data }),
      (e: Error) => ({ error: e.message }),
    );
  const results: DetectResult[] = [];
  let next = images.length ? load(0) : undefined;
  try {
    for (let i = 0; i < images.length; i++) {
      if (opts.signal?.aborted) throw new CancelledError();
      const loaded = await next!;
      next = i + 1 < images.length ? load(i + 1) : undefined;
      if ('error' in loaded) results.push({ error: loaded.error });
      else {
        const out = await session
          .run({ [input.name]: { type: 'float32', data: loaded.data, dims: shape } })
          .catch((e: Error) => {
            if (e instanceof OrtError)
              throw new InputError(
                opts.model,
                `onnxruntime cannot run the model on an image (${e.message.split('\n')[0]})`,
              );
            throw e instanceof OrtCrashError || e instanceof OrtTimeoutError
              ? new InputError(opts.model, e.message)
              : e;
          });
        const tensors: OutputTensor[] = session.outputNames.map((name) => ({
          name,
          type: out[name].type,
          dims: out[name].dims,
          data: out[name].data as OutputTensor['data'],
        }));
        let dets;
        try {
          if (post.kind === 'yolo' && !/^float(32|64)?$|^double$/.test(tensors[0].type))
            throw new Error(`a raw YOLO output is float, not ${tensors[0].type}`);
          dets =
            post.kind === 'yolo'
              ? nmsClasswise(
                  decodeYolo(tensors[0].data as ArrayLike<number>, tensors[0].dims, { ...post, inputSize: pre.size }),
                  post.iouThreshold,
                  post.maxDetections,
                )
              : readBoxesScoresLabels(tensors, post, pre.size);
        } catch (e) {
          throw new InputError(
            opts.model,
            `its outputs do not fit config.json's postprocessing.kind "${post.kind}": ${(e as Error).message}`,
          );
        }
        const img = images[i];
        results.push({ boxes: toImageBoxes(dets, inputGeometry(img.width, img.height, pre), img, post.labelOffset) });
      }
      opts.onProgress?.(i + 1, images.length);
    }
    return results;
  } finally {
    await next?.catch(() => undefined);
    await pool.close();
  }
}

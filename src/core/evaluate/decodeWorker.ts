// A worker thread that decodes and preprocesses images, so that neither the editor nor inference waits on it.
import { promises as fsp } from 'fs';
import { parentPort } from 'worker_threads';
import { loadImage, thumbnailJpeg } from '../datasets/samples';
import { ImagePreprocess } from '../datasets/types';
import { InputError } from '../errors';

/** A model input (`pre`) or a JPEG thumbnail (`thumbnail`: its longer side) of the file. */
async function work(m: {
  file: string;
  pre?: ImagePreprocess;
  thumbnail?: number;
}): Promise<Float32Array | Uint8Array> {
  const side = m.thumbnail;
  if (side === undefined) return loadImage(m.file, m.pre!);
  return new Uint8Array(thumbnailJpeg(m.file, await fsp.readFile(m.file), side));
}

parentPort!.on('message', (m: { id: number; file: string; pre?: ImagePreprocess; thumbnail?: number }) => {
  work(m).then(
    (data) => parentPort!.postMessage({ id: m.id, data }, [data.buffer as ArrayBuffer]),
    // An InputError crosses the thread as its parts, so the caller still gets one naming the file.
    (e: Error) =>
      parentPort!.postMessage({
        id: m.id,
        error: e.message,
        ...(e instanceof InputError ? { file: e.file, problem: e.problem } : {}),
      }),
  );
});

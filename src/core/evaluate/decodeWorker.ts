// A worker thread that decodes and preprocesses images, so that neither the editor nor inference waits on it.
import { parentPort } from 'worker_threads';
import { loadImage } from '../datasets/samples';
import { ImagePreprocess } from '../datasets/types';
import { InputError } from '../errors';

parentPort!.on('message', (m: { id: number; file: string; pre: ImagePreprocess }) => {
  loadImage(m.file, m.pre).then(
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

import { existsSync, promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { loadImage, thumbnailJpeg } from '../datasets/samples';
import { ImagePreprocess } from '../datasets/types';
import { InputError } from '../errors';

/**
 * Image decoding on worker threads (one per spare core, at least one). The worker script sits next to
 * this module: out/src/core/evaluate/decodeWorker.js when compiled, dist/decodeWorker.js when bundled.
 * Without it, decoding runs on this thread.
 */
export class ImagePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (d: never) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor(size = Math.max(1, os.cpus().length - 1)) {
    const script = path.join(__dirname, 'decodeWorker.js');
    if (!existsSync(script)) return;
    for (let i = 0; i < size; i++) {
      const w = new Worker(script);
      w.on(
        'message',
        (m: { id: number; data?: Float32Array | Uint8Array; error?: string; file?: string; problem?: string }) => {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (m.data) p?.resolve(m.data as never);
          else
            p?.reject(
              m.file !== undefined && m.problem !== undefined ? new InputError(m.file, m.problem) : new Error(m.error),
            );
        },
      );
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  load(file: string, pre: ImagePreprocess): Promise<Float32Array> {
    if (this.workers.length === 0) return loadImage(file, pre);
    return this.send({ file, pre });
  }

  /** A JPEG thumbnail of the image, at most `side` pixels on its longer side (thumbnailJpeg). */
  async thumbnail(file: string, side: number): Promise<Uint8Array> {
    if (this.workers.length === 0) return thumbnailJpeg(file, await fsp.readFile(file), side);
    return this.send({ file, thumbnail: side });
  }

  private send<T>(job: { file: string; pre?: ImagePreprocess; thumbnail?: number }): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (d: never) => void, reject });
      this.workers[id % this.workers.length].postMessage({ id, ...job });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Small helpers shared by the weight readers: ranged reads, counting, number conversion. */
import { open, type FileHandle } from 'fs/promises';
import { InputError } from '../../errors';

/** Opens `file`, runs `fn` with the handle and its size, and always closes the handle. */
export async function withFile<T>(file: string, fn: (fh: FileHandle, size: number) => Promise<T>): Promise<T> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    return await fn(fh, size);
  } finally {
    await fh.close();
  }
}

/** Reads up to `length` bytes at `position`; the result is shorter only at the end of the file. */
export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** Product of the dimensions; 1 for a scalar. */
export function product(dims: number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Elements of a tensor from its declared shape, refusing shapes no real file has: a negative or
 * fractional dimension, or more elements than a double counts exactly (2^53).
 */
export function elementCount(file: string, tensor: string, dims: number[]): number {
  const shape = () => `[${dims.join(', ')}]`;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new InputError(
        file,
        `tensor "${tensor}" declares an impossible shape ${shape()}: dimensions must be non-negative integers`,
      );
  }
  const n = product(dims);
  if (!Number.isSafeInteger(n))
    throw new InputError(file, `tensor "${tensor}" declares an impossible shape ${shape()}: more than 2^53 elements`);
  return n;
}

export function countInto(hist: Record<string, number>, key: string, by = 1): void {
  // defineProperty so that a key such as "__proto__" from a hostile file stays a plain key.
  const value = (Object.prototype.hasOwnProperty.call(hist, key) ? hist[key] : 0) + by;
  Object.defineProperty(hist, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The `n` most frequent keys of a histogram, most frequent first (ties by name). */
export function topEntries(hist: Record<string, number>, n: number): Record<string, number> {
  const sorted = Object.entries(hist).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return Object.fromEntries(sorted.slice(0, n));
}

/** protobufjs gives int64 as a Long when the `long` package is resolvable and as a number otherwise. */
export function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high, unsigned } = v as { low: number; high: number; unsigned?: boolean };
    return (unsigned ? high >>> 0 : high) * 4294967296 + (low >>> 0);
  }
  return 0;
}

/** A message for errors thrown by third-party decoders, without their stack. */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

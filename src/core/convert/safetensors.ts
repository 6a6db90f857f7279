/**
 * safetensors float conversions — fp32 → fp16 / bf16 and back up to fp32 — streamed in chunks with
 * bounded memory. Rounding is round-to-nearest-even; NaN stays NaN, ±Inf stays ±Inf, values beyond
 * fp16's range become ±Inf (counted in the report).
 */
import { promises as fsp } from 'fs';
import { CancelledError, InputError } from '../errors';
import { readSafetensorsHeader, SafetensorsTensor } from '../inspect/weights/safetensors';
import { withFile } from '../inspect/weights/read';
import { FileEntry } from '../registry/types';
import { ConvertOptions, FileConverter } from './types';

type FloatType = 'F32' | 'F16' | 'BF16';
const BYTES: Record<FloatType, number> = { F32: 4, F16: 2, BF16: 2 };
const isFloat = (d: string): d is FloatType => d === 'F32' || d === 'F16' || d === 'BF16';

const u32 = new Uint32Array(1);
const f32 = new Float32Array(u32.buffer);

/** fp32 bits → fp16 bits, round-to-nearest-even (after F. Giesen's float_to_half_fast3_rtne). */
export function f32BitsToF16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  let abs = bits & 0x7fffffff;
  let h: number;
  if (abs >= 0x47800000) {
    h = abs > 0x7f800000 ? 0x7e00 : 0x7c00; // NaN → quiet NaN; Inf and ≥ 65536 → Inf
  } else if (abs < 0x38800000) {
    // Below fp16's smallest normal: adding 0.5 aligns the 10 mantissa bits at the bottom, and the
    // float addition does the rounding (exact in double for every value that can round to non-zero).
    u32[0] = abs;
    f32[0] = f32[0] + 0.5;
    h = u32[0] - 0x3f000000;
  } else {
    const odd = (abs >>> 13) & 1;
    abs = (abs + 0xc8000fff + odd) >>> 0; // rebias the exponent (−112 << 23) and round
    h = abs >>> 13;
  }
  return sign | h;
}

/** fp32 bits → bf16 bits, round-to-nearest-even; NaN stays a (quiet) NaN. */
export function f32BitsToBf16(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** fp16 bits → fp32 bits, exact. */
export function f16BitsToF32(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  f32[0] = mant * 2 ** -24; // subnormal: exact in fp32
  return (sign | u32[0]) >>> 0;
}

let f16Table: Uint32Array | undefined;
/** All 65,536 fp16 → fp32 results, built once: a lookup beats the branches in the hot loop. */
function f16ToF32Table(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32(h);
  }
  return f16Table;
}

/** Converts n elements from `src` (dtype from) into `dst` (dtype to); returns how many finite values overflowed to ±Inf. */
function convertChunk(from: FloatType, to: FloatType, src: ArrayBuffer, dst: ArrayBuffer, n: number): number {
  let overflow = 0;
  // Everything goes through fp32 bits, which hold fp16 and bf16 values exactly: one rounding at most.
  const in32 = from === 'F32' ? new Uint32Array(src, 0, n) : undefined;
  const in16 = from === 'F32' ? undefined : new Uint16Array(src, 0, n);
  const table = from === 'F16' ? f16ToF32Table() : undefined;
  const bitsAt = (i: number) => (in32 ? in32[i] : table ? table[in16![i]] : (in16![i] << 16) >>> 0);
  if (to === 'F32') {
    const out = new Uint32Array(dst, 0, n);
    if (table) for (let i = 0; i < n; i++) out[i] = table[in16![i]];
    else for (let i = 0; i < n; i++) out[i] = bitsAt(i);
    return 0;
  }
  const out = new Uint16Array(dst, 0, n);
  if (to === 'F16') {
    if (in32) {
      for (let i = 0; i < n; i++) {
        const b = in32[i];
        const h = f32BitsToF16(b);
        out[i] = h;
        if ((h & 0x7fff) === 0x7c00 && (b & 0x7fffffff) < 0x7f800000) overflow++;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const b = bitsAt(i);
        const h = f32BitsToF16(b);
        out[i] = h;
        if ((h & 0x7fff) === 0x7c00 && (b & 0x7fffffff) < 0x7f800000) overflow++;
      }
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = f32BitsToBf16(bitsAt(i));
  }
  return overflow;
}

const CHUNK_ELEMENTS = 1 << 20; // 4 MiB of fp32 per read

/** Names listed in `keep` (comma-separated substrings) stay in their dtype, e.g. "norm,bias". */
function keeper(keep: string): (name: string) => boolean {
  const parts = keep
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return (name) => parts.some((p) => name.includes(p));
}

/** Streams a safetensors file into `dest` with its float tensors in `target`. */
export async function convertSafetensors(
  src: string,
  dest: string,
  target: FloatType,
  opts: ConvertOptions,
): Promise<Record<string, unknown>> {
  return withFile(src, async (fh, size) => {
    const h = await readSafetensorsHeader(src, fh, size);
    opts.onBytes?.(h.dataStart); // the header counts as read
    const keep = keeper(opts.params.keep ?? '');
    const plan = h.tensors.map((t) => ({
      t,
      to: isFloat(t.dtype) && t.dtype !== target && !keep(t.name) ? target : undefined,
    }));
    if (!plan.some((p) => p.to)) {
      const dtypes = [...new Set(h.tensors.map((t) => t.dtype))].join(', ') || 'none';
      throw new InputError(src, `nothing to convert to ${target}: its tensors are ${dtypes}`);
    }
    // New header: same order, same names and shapes, new dtypes and offsets; metadata kept.
    const header: Record<string, unknown> = h.metadata ? { __metadata__: h.metadata } : {};
    let offset = 0;
    for (const { t, to } of plan) {
      const bytes = to ? ((t.end - t.begin) / BYTES[t.dtype as FloatType]) * BYTES[to] : t.end - t.begin;
      header[t.name] = { dtype: to ?? t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // keeps the data 8-byte aligned
    const head = Buffer.alloc(8 + Buffer.byteLength(json));
    head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
    head.write(json, 8);

    const out = await fsp.open(dest, 'wx');
    let overflow = 0;
    let converted = 0;
    let reading: Promise<void> | undefined;
    let writing: Promise<void> = Promise.resolve();
    let flushing: Promise<void> = Promise.resolve();
    let written = 0;
    let synced = 0;
    try {
      await writeFully(out, Buffer.from(head));
      // Two input and two output buffers: the next read and the last write run while this chunk converts.
      const inBufs = [new ArrayBuffer(CHUNK_ELEMENTS * 4), new ArrayBuffer(CHUNK_ELEMENTS * 4)];
      const outBufs = [new ArrayBuffer(CHUNK_ELEMENTS * 4), new ArrayBuffer(CHUNK_ELEMENTS * 4)];
      const lastWriteOf: Promise<void>[] = [writing, writing];
      let turn = 0;
      const pieces = chunks(plan, h.dataStart);
      let next = pieces.next();
      reading = next.done ? undefined : readInto(fh, inBufs[0], next.value, src);
      while (!next.done) {
        if (opts.signal?.aborted) throw new CancelledError();
        const piece = next.value;
        await reading;
        const inBuf = inBufs[turn];
        next = pieces.next();
        reading = next.done ? undefined : readInto(fh, inBufs[1 - turn], next.value, src);
        await lastWriteOf[turn]; // outBufs[turn] was handed to a write two turns ago; the last write may still run
        const outBuf = outBufs[turn];
        let data: Buffer;
        if (piece.to) {
          const n = piece.length / BYTES[piece.from as FloatType];
          overflow += convertChunk(piece.from as FloatType, piece.to, inBuf, outBuf, n);
          converted += n;
          data = Buffer.from(outBuf, 0, n * BYTES[piece.to]);
        } else {
          data = Buffer.from(outBuf, 0, piece.length);
          data.set(new Uint8Array(inBuf, 0, piece.length));
        }
        writing = writing.then(() => writeFully(out, data));
        lastWriteOf[turn] = writing;
        // Start writeback every 64 MiB instead of leaving it all to the final fsync: the disk then
        // works while we convert. (The page cache would otherwise hold it all until the end.)
        if ((written += data.length) - synced >= 64 << 20) {
          synced = written;
          flushing = Promise.all([flushing, writing.then(() => out.datasync())]).then(() => undefined);
        }
        opts.onBytes?.(piece.length);
        turn = 1 - turn;
      }
      await writing;
      await flushing;
      await out.sync();
    } finally {
      await Promise.allSettled([reading, writing, flushing]); // on an error or cancel, let in-flight I/O settle first
      await out.close();
    }
    // Read the result back: a valid header whose tensors tile the data as planned.
    const back = await withFile(dest, (f, s) => readSafetensorsHeader(dest, f, s));
    if (back.tensors.length !== h.tensors.length || back.dataBytes !== offset)
      throw new Error(`${opts.name ?? src}: the file converted from it does not read back as written`);
    const bytesAfter = 8 + Buffer.byteLength(json) + offset;
    opts.log?.(
      `${opts.name ?? src}: ${converted.toLocaleString('en')} values → ${target}${overflow ? `, ${overflow} beyond range became ±Inf` : ''}; ${size} → ${bytesAfter} bytes`,
    );
    return {
      tensors: plan.filter((p) => p.to).length,
      keptTensors: plan.filter((p) => !p.to).length,
      valuesConverted: converted,
      overflowToInf: overflow,
      bytesBefore: size,
      bytesAfter,
    };
  });
}

interface Piece {
  /** File offset and byte count of this piece of the input. */
  position: number;
  length: number;
  from: string;
  to?: FloatType;
}

/** The data section as pieces of at most CHUNK_ELEMENTS elements, whole elements each. */
function* chunks(plan: { t: SafetensorsTensor; to?: FloatType }[], dataStart: number): Generator<Piece> {
  for (const { t, to } of plan) {
    const step = CHUNK_ELEMENTS * (to ? BYTES[t.dtype as FloatType] : 4);
    for (let pos = t.begin; pos < t.end; pos += step)
      yield { position: dataStart + pos, length: Math.min(step, t.end - pos), from: t.dtype, to };
  }
}

async function readInto(fh: fsp.FileHandle, buf: ArrayBuffer, piece: Piece, file: string): Promise<void> {
  const view = new Uint8Array(buf, 0, piece.length);
  for (let done = 0; done < piece.length;) {
    const { bytesRead } = await fh.read(view, done, piece.length - done, piece.position + done);
    if (bytesRead === 0) throw new InputError(file, 'the file ended early (changed while it was converted?)');
    done += bytesRead;
  }
}

async function writeFully(fh: fsp.FileHandle, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length;) off += (await fh.write(data, off, data.length - off)).bytesWritten;
}

const KEEP = {
  name: 'keep',
  description: 'tensors whose names contain any of these (comma-separated) keep their dtype, e.g. "norm,bias"',
  default: '',
};

function dtypeConverter(id: string, target: FloatType, title: string, description: string): FileConverter {
  return {
    id,
    title,
    description,
    targetFormat: 'safetensors',
    targetDtype: ({ F32: 'fp32', F16: 'fp16', BF16: 'bf16' } as const)[target],
    params: [KEEP],
    accepts: (f: FileEntry) => f.path.toLowerCase().endsWith('.safetensors'),
    inputFormat: 'safetensors',
    outputPath: (p) => p,
    convert: (src, dest, opts) => convertSafetensors(src, dest, target, opts),
  };
}

export const toFp16 = dtypeConverter(
  'fp16',
  'F16',
  'safetensors → fp16',
  'Half precision: half the size; values beyond ±65504 become ±Inf (counted)',
);
export const toBf16 = dtypeConverter(
  'bf16',
  'BF16',
  'safetensors → bf16',
  "bfloat16: half the size, fp32's range, 8 bits of mantissa",
);
export const toFp32 = dtypeConverter(
  'fp32',
  'F32',
  'safetensors → fp32',
  'Back up to full precision (exact for fp16 and bf16 values)',
);

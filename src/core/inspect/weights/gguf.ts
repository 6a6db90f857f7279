/**
 * GGUF (llama.cpp): magic "GGUF", version, tensor count, key/value metadata, tensor infos, then the
 * aligned tensor data. The header is read incrementally: the tokenizer vocabulary alone can be MBs.
 */
import type { FileHandle } from 'fs/promises';
import { InputError } from '../../errors';
import type { WeightInfo } from '../types';
import { countInto, product, readAt, withFile } from './read';

/**
 * ggml_type numbers (ggml.h, enum ggml_type). A tensor of any other number is refused: gaps are types
 * removed from ggml (4, 5: Q4_2/Q4_3; 31-33 and 36-38: repacked layouts no GGUF file may hold).
 */
export const GGML_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  6: 'Q5_0',
  7: 'Q5_1',
  8: 'Q8_0',
  9: 'Q8_1',
  10: 'Q2_K',
  11: 'Q3_K',
  12: 'Q4_K',
  13: 'Q5_K',
  14: 'Q6_K',
  15: 'Q8_K',
  16: 'IQ2_XXS',
  17: 'IQ2_XS',
  18: 'IQ3_XXS',
  19: 'IQ1_S',
  20: 'IQ4_NL',
  21: 'IQ3_S',
  22: 'IQ2_S',
  23: 'IQ4_XS',
  24: 'I8',
  25: 'I16',
  26: 'I32',
  27: 'I64',
  28: 'F64',
  29: 'IQ1_M',
  30: 'BF16',
  34: 'TQ1_0',
  35: 'TQ2_0',
  39: 'MXFP4',
  40: 'NVFP4',
  41: 'Q1_0',
  42: 'Q2_0',
};

/** [elements per block, bytes per block] for the types whose layout we are sure of (used for the truncation check). */
export const GGML_BLOCKS: Record<string, [number, number]> = {
  F32: [1, 4],
  F16: [1, 2],
  BF16: [1, 2],
  F64: [1, 8],
  I8: [1, 1],
  I16: [1, 2],
  I32: [1, 4],
  I64: [1, 8],
  Q4_0: [32, 18],
  Q4_1: [32, 20],
  Q5_0: [32, 22],
  Q5_1: [32, 24],
  Q8_0: [32, 34],
  Q8_1: [32, 36],
  Q2_K: [256, 84],
  Q3_K: [256, 110],
  Q4_K: [256, 144],
  Q5_K: [256, 176],
  Q6_K: [256, 210],
  Q8_K: [256, 292],
};

/** GGUF metadata value types. */
const VT = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
};
const VT_NAMES = [
  'uint8',
  'int8',
  'uint16',
  'int16',
  'uint32',
  'int32',
  'float32',
  'bool',
  'string',
  'array',
  'uint64',
  'int64',
  'float64',
];
const VT_SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

const MAX_TENSORS = 10_000_000;
const MAX_KV = 1_000_000;
const MAX_DIMS = 16;
/** Arrays up to this length are kept in details; longer ones (vocabularies) only by type and length. */
const SMALL_ARRAY = 16;
const MAX_STRING_KEPT = 500;

/** Sequential little-endian reads from a file through a window buffer. */
class Cursor {
  private buf: Buffer = Buffer.alloc(0);
  private bufPos = 0; // file position of buf[0]
  pos = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly file: string,
  ) {}

  get remaining(): number {
    return this.size - this.pos;
  }

  async bytes(n: number, what: string): Promise<Buffer> {
    if (n > this.remaining) {
      throw new InputError(
        this.file,
        `truncated: ${what} at byte ${this.pos} needs ${n} bytes but the file has ${this.size}`,
      );
    }
    const off = this.pos - this.bufPos;
    if (off < 0 || off + n > this.buf.length) {
      this.buf = await readAt(this.fh, this.pos, Math.max(n, 1 << 20));
      this.bufPos = this.pos;
    }
    const start = this.pos - this.bufPos;
    this.pos += n;
    return this.buf.subarray(start, start + n);
  }

  async u8(what: string) {
    return (await this.bytes(1, what))[0];
  }
  async u32(what: string) {
    return (await this.bytes(4, what)).readUInt32LE(0);
  }
  async u64(what: string): Promise<bigint> {
    return (await this.bytes(8, what)).readBigUInt64LE(0);
  }

  async scalar(type: number, what: string): Promise<number | bigint | boolean> {
    const b = await this.bytes(VT_SIZES[type], what);
    switch (type) {
      case VT.UINT8:
        return b.readUInt8(0);
      case VT.INT8:
        return b.readInt8(0);
      case VT.UINT16:
        return b.readUInt16LE(0);
      case VT.INT16:
        return b.readInt16LE(0);
      case VT.UINT32:
        return b.readUInt32LE(0);
      case VT.INT32:
        return b.readInt32LE(0);
      case VT.FLOAT32:
        return Number(b.readFloatLE(0).toPrecision(7)); // drop float32 noise (1e-5, not 9.99999974e-6)
      case VT.BOOL:
        return b[0] !== 0;
      case VT.UINT64:
        return b.readBigUInt64LE(0);
      case VT.INT64:
        return b.readBigInt64LE(0);
      default:
        return b.readDoubleLE(0);
    }
  }

  /** Skips `n` length-prefixed strings (vocabularies), without an await per string when buffered. */
  async skipStrings(n: number, what: string): Promise<void> {
    for (let i = 0; i < n; i++) {
      const off = this.pos - this.bufPos;
      const buffered = off >= 0 && off + 8 <= this.buf.length;
      const len = buffered ? this.buf.readBigUInt64LE(off) : (await this.bytes(8, what)).readBigUInt64LE(0);
      if (buffered) this.pos += 8;
      if (len > BigInt(this.remaining)) {
        throw new InputError(
          this.file,
          `${what}: string ${i} at byte ${this.pos - 8} declares ${len} bytes but only ${this.remaining} remain in the file`,
        );
      }
      this.pos += Number(len);
    }
  }

  skip(n: number, what: string): void {
    if (n > this.remaining) {
      throw new InputError(
        this.file,
        `truncated: ${what} at byte ${this.pos} needs ${n} bytes but the file has ${this.size}`,
      );
    }
    this.pos += n;
  }
}

export async function readGguf(file: string): Promise<WeightInfo> {
  return withFile(file, async (fh, size) => {
    if (size === 0) throw new InputError(file, 'empty file');
    const c = new Cursor(fh, size, file);
    const bad = (problem: string) => new InputError(file, problem);

    const magic = size >= 4 ? (await readAt(fh, 0, 4)).toString('latin1') : '';
    if (magic !== 'GGUF') throw bad(`not a GGUF file (magic '${printable(magic)}')`);
    c.pos = 4;
    const version = await c.u32('the version');
    if (version === 0 || version > 0xffff) throw bad(`unsupported GGUF version ${version} (a big-endian file?)`);
    // Version 1 (2023, used 32-bit counts) was short-lived and is not read.
    if (version < 2 || version > 3) throw bad(`unsupported GGUF version ${version}`);

    const tensorCount = await c.u64('the tensor count');
    if (tensorCount > BigInt(MAX_TENSORS)) throw bad(`absurd tensor count ${tensorCount}`);
    const kvCount = await c.u64('the metadata count');
    if (kvCount > BigInt(MAX_KV)) throw bad(`absurd metadata count ${kvCount}`);

    const readString = async (what: string): Promise<string> => {
      const at = c.pos;
      const len = await c.u64(`the length of ${what}`);
      if (len > BigInt(c.remaining)) {
        throw bad(`${what} at byte ${at} declares ${len} bytes but only ${c.remaining} remain in the file`);
      }
      const n = Number(len);
      // Keep long strings (chat templates) short; skip the rest without reading it.
      const kept = Math.min(n, MAX_STRING_KEPT * 4);
      const s = (await c.bytes(kept, what)).toString('utf8');
      c.skip(n - kept, what);
      return n > kept || s.length > MAX_STRING_KEPT ? `${s.slice(0, MAX_STRING_KEPT)}…` : s;
    };

    const readValue = async (type: number, key: string): Promise<unknown> => {
      if (type === VT.STRING) return readString(`the value of '${key}'`);
      if (type === VT.ARRAY) {
        const elemType = await c.u32(`the array type of '${key}'`);
        if (elemType === VT.ARRAY || !(elemType in VT_NAMES))
          throw bad(`metadata '${key}' has an array of unsupported type ${elemType}`);
        const len = await c.u64(`the array length of '${key}'`);
        const minSize = elemType === VT.STRING ? 8 : VT_SIZES[elemType];
        if (len * BigInt(minSize) > BigInt(c.remaining)) {
          throw bad(
            `metadata '${key}' declares ${len} array elements but only ${c.remaining} bytes remain in the file`,
          );
        }
        const n = Number(len);
        if (n > SMALL_ARRAY) {
          if (elemType === VT.STRING) await c.skipStrings(n, `the array '${key}'`);
          else c.skip(n * minSize, `the array '${key}'`);
          return { type: VT_NAMES[elemType], length: n };
        }
        const items: unknown[] = [];
        for (let i = 0; i < n; i++) items.push(jsonable(await readValue(elemType, key)));
        return items;
      }
      if (!(type in VT_SIZES)) throw bad(`metadata '${key}' has unknown value type ${type}`);
      return c.scalar(type, `the value of '${key}'`);
    };

    const entries: [string, unknown][] = [];
    for (let i = 0; i < Number(kvCount); i++) {
      const key = await readString(`metadata key ${i}`);
      const type = await c.u32(`the type of '${key}'`);
      entries.push([key, jsonable(await readValue(type, key))]);
    }
    const metadata: Record<string, unknown> = Object.fromEntries(entries);

    const dtypes: Record<string, number> = {};
    let parameterCount = 0;
    const tensors: { name: string; type: string; count: number; offset: bigint }[] = [];
    for (let i = 0; i < Number(tensorCount); i++) {
      const name = await readString(`the name of tensor ${i}`);
      const nDims = await c.u32(`the dimension count of '${name}'`);
      if (nDims > MAX_DIMS) throw bad(`tensor '${name}' declares ${nDims} dimensions`);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) {
        const v = await c.u64(`a dimension of '${name}'`);
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`tensor '${name}' has an absurd dimension ${v}`);
        dims.push(Number(v));
      }
      const typeNum = await c.u32(`the type of '${name}'`);
      const type = GGML_TYPES[typeNum];
      if (type === undefined)
        throw bad(
          `tensor '${name}' has unknown ggml type ${typeNum} (not one of ggml's tensor types; a newer or corrupt file?)`,
        );
      const offset = await c.u64(`the data offset of '${name}'`);
      const n = product(dims);
      if (!Number.isSafeInteger(n)) throw bad(`tensor '${name}' has an absurd shape [${dims.join(', ')}]`);
      parameterCount += n;
      countInto(dtypes, type);
      tensors.push({ name, type, count: n, offset });
    }

    // Tensor data starts at the next multiple of general.alignment after the header.
    const alignment = metadata['general.alignment'] ?? 32;
    if (typeof alignment !== 'number' || !Number.isInteger(alignment) || alignment < 1 || alignment > 1 << 20) {
      throw bad(`invalid general.alignment ${JSON.stringify(alignment)}`);
    }
    const dataStart = Math.ceil(c.pos / alignment) * alignment;
    for (const t of tensors) {
      const block = GGML_BLOCKS[t.type];
      const bytes = block ? Math.ceil(t.count / block[0]) * block[1] : 1;
      const end = BigInt(dataStart) + t.offset + BigInt(bytes);
      if (end > BigInt(size))
        throw bad(`truncated: tensor '${t.name}' ends at byte ${end} but the file has ${size} bytes`);
    }

    const arch = typeof metadata['general.architecture'] === 'string' ? metadata['general.architecture'] : undefined;
    const details: Record<string, unknown> = { version, architecture: arch };
    const pick: [string, string][] = [
      ['name', 'general.name'],
      ['basename', 'general.basename'],
      ['sizeLabel', 'general.size_label'],
      ['fileType', 'general.file_type'],
      ['quantizationVersion', 'general.quantization_version'],
      ['license', 'general.license'],
      ['contextLength', `${arch}.context_length`],
      ['embeddingLength', `${arch}.embedding_length`],
      ['blockCount', `${arch}.block_count`],
      ['headCount', `${arch}.attention.head_count`],
      ['tokenizer', 'tokenizer.ggml.model'],
    ];
    for (const [name, key] of pick) if (metadata[key] !== undefined) details[name] = metadata[key];
    if (!arch) delete details.architecture;
    details.metadata = metadata;
    return { format: 'gguf', framework: 'gguf', parameterCount, tensorCount: tensors.length, dtypes, details };
  });
}

/** BigInts do not survive JSON; keep them as numbers when exact, as strings otherwise. */
function jsonable(v: unknown): unknown {
  if (typeof v === 'bigint')
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

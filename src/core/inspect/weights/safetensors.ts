/**
 * safetensors: an 8-byte little-endian header length, a JSON header, then the tensor bytes.
 * Only the header is read.
 */
import { InputError } from '../../errors';
import { parseJsonBounded } from '../../util/json';
import type { WeightInfo } from '../types';
import type { FileHandle } from 'fs/promises';
import { countInto, product, readAt, withFile } from './read';

const MAX_HEADER = 100 * 1024 * 1024;

/** Bits per element of the dtypes the format defines (sub-byte types are packed), as safetensors' Dtype::bitsize. */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E4M3: 8,
  F8_E5M2: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  I64: 64,
  U64: 64,
  F64: 64,
  C64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
};

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range within the data section (after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  headerBytes: number;
  /** File offset of the data section. */
  dataStart: number;
  dataBytes: number;
  /** In data order; they tile the data section exactly. */
  tensors: SafetensorsTensor[];
  metadata?: Record<string, unknown>;
}

export async function readSafetensors(file: string): Promise<WeightInfo> {
  return withFile(file, async (fh, size) => {
    const h = await readSafetensorsHeader(file, fh, size);
    const dtypes: Record<string, number> = {};
    let parameterCount = 0;
    for (const t of h.tensors) {
      parameterCount += product(t.shape);
      countInto(dtypes, t.dtype);
    }
    const details: Record<string, unknown> = { headerBytes: h.headerBytes, dataBytes: h.dataBytes };
    if (h.metadata) details.metadata = h.metadata;
    return {
      format: 'safetensors',
      framework: 'safetensors',
      parameterCount,
      tensorCount: h.tensors.length,
      dtypes,
      details,
    };
  });
}

/** Reads and checks the header: valid JSON, sizes that match dtypes and shapes, tensors that tile the data. */
export async function readSafetensorsHeader(file: string, fh: FileHandle, size: number): Promise<SafetensorsHeader> {
  if (size === 0) throw new InputError(file, 'empty file');
  if (size < 8) throw new InputError(file, `too small for a safetensors file (${size} bytes)`);
  const headerLen = (await readAt(fh, 0, 8)).readBigUInt64LE(0);
  if (headerLen > BigInt(size - 8)) {
    throw new InputError(file, `safetensors header length ${headerLen} exceeds the file size ${size}`);
  }
  if (headerLen > BigInt(MAX_HEADER)) {
    throw new InputError(file, `safetensors header length ${headerLen} is larger than ${MAX_HEADER} bytes`);
  }
  const hlen = Number(headerLen);
  const text = (await readAt(fh, 8, hlen)).toString('utf8');
  // Bounded depth (a deep __metadata__ would overflow the stack when stored) and no repeated keys
  // (JSON.parse would silently keep the last tensor of a name; the Rust reader refuses them).
  const header = parseJsonBounded(text, file, { what: 'safetensors header', uniqueKeys: true });
  if (!header || typeof header !== 'object' || Array.isArray(header)) {
    throw new InputError(file, 'safetensors header is not a JSON object');
  }

  const dataStart = 8 + hlen;
  const dataSize = size - dataStart;
  const tensors: SafetensorsTensor[] = [];
  let metadata: Record<string, unknown> | undefined;

  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = checkMetadata(file, raw);
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (
      !t ||
      typeof t !== 'object' ||
      typeof t.dtype !== 'string' ||
      !isIntArray(t.shape) ||
      !isIntArray(t.data_offsets) ||
      t.data_offsets.length !== 2
    ) {
      throw new InputError(file, `tensor '${name}' has no valid dtype, shape and data_offsets in the header`);
    }
    const [begin, end] = t.data_offsets;
    if (end < begin)
      throw new InputError(file, `tensor '${name}' has data_offsets [${begin}, ${end}] that end before they begin`);
    if (end > dataSize) {
      throw new InputError(
        file,
        `truncated: tensor '${name}' ends at byte ${dataStart + end} but the file has ${size} bytes`,
      );
    }
    const count = product(t.shape);
    if (!Number.isSafeInteger(count))
      throw new InputError(file, `tensor '${name}' has an absurd shape ${JSON.stringify(t.shape)}`);
    const bits = Object.prototype.hasOwnProperty.call(DTYPE_BITS, t.dtype) ? DTYPE_BITS[t.dtype] : undefined;
    if (bits === undefined) {
      throw new InputError(
        file,
        `tensor '${name}' has unknown dtype '${t.dtype}' (safetensors defines ${Object.keys(DTYPE_BITS).join(', ')})`,
      );
    }
    const shape = JSON.stringify(t.shape);
    // Sub-byte types are packed: the tensor must end on a byte boundary, as the Rust reader checks.
    if (!Number.isSafeInteger(count * bits))
      throw new InputError(file, `tensor '${name}' has an absurd shape ${shape}`);
    if ((count * bits) % 8 !== 0)
      throw new InputError(
        file,
        `tensor '${name}': ${t.dtype} ${shape} is ${count * bits} bits, not a whole number of bytes`,
      );
    if ((count * bits) / 8 !== end - begin) {
      throw new InputError(
        file,
        `tensor '${name}' has ${end - begin} bytes but ${t.dtype} ${shape} needs ${(count * bits) / 8}`,
      );
    }
    tensors.push({ name, dtype: t.dtype, shape: t.shape, begin, end });
  }

  // The format requires the tensors to tile the data section exactly.
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: SafetensorsTensor | undefined;
  for (const e of tensors) {
    if (e.begin < pos) throw new InputError(file, `tensors '${prev?.name}' and '${e.name}' overlap`);
    if (e.begin > pos)
      throw new InputError(file, `data bytes ${pos}..${e.begin} are not covered by any tensor (before '${e.name}')`);
    pos = e.end;
    prev = e;
  }
  if (pos !== dataSize) {
    throw new InputError(file, `the tensors cover ${pos} data bytes but the file has ${dataSize} after the header`);
  }
  return { headerBytes: hlen, dataStart, dataBytes: dataSize, tensors, metadata };
}

/** The format's __metadata__ is a map of strings to strings; anything else is refused, named. */
function checkMetadata(file: string, raw: unknown): Record<string, string> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new InputError(file, 'safetensors __metadata__ is not an object of strings');
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string')
      throw new InputError(
        file,
        `safetensors __metadata__ value ${JSON.stringify(k)} is not a string (the format allows only strings)`,
      );
  }
  return raw as Record<string, string>;
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0);
}

/**
 * Open Inference Protocol tensors (JSON, and Triton's binary tensor extension) ⇄ onnxruntime's
 * TensorData as OrtSession passes it. Everything a client sends is checked here against the model's
 * input metadata, and refused with a message that names the input, what the model expects and what
 * came — never the values themselves (they may be large or private).
 */
import { f16BitsToF32, f32BitsToF16 } from '../convert/safetensors';
import type { TensorData, ValueMeta } from '../onnxrt/protocol';

/** A request the client got wrong: the server answers 400 with its message. */
export class TensorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TensorError';
  }
}

/** An OIP tensor as it appears in a request's `inputs` or a response's `outputs`. */
export interface OipTensor {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, unknown>;
  data?: unknown;
}

/** OIP datatype → onnxruntime type, and the element size in the binary form (0: BYTES, length-prefixed). */
const DATATYPES: Record<string, { ort: string; size: number }> = {
  BOOL: { ort: 'bool', size: 1 },
  UINT8: { ort: 'uint8', size: 1 },
  UINT16: { ort: 'uint16', size: 2 },
  UINT32: { ort: 'uint32', size: 4 },
  UINT64: { ort: 'uint64', size: 8 },
  INT8: { ort: 'int8', size: 1 },
  INT16: { ort: 'int16', size: 2 },
  INT32: { ort: 'int32', size: 4 },
  INT64: { ort: 'int64', size: 8 },
  FP16: { ort: 'float16', size: 2 },
  FP32: { ort: 'float32', size: 4 },
  FP64: { ort: 'float64', size: 8 },
  BYTES: { ort: 'string', size: 0 },
};
const FROM_ORT = new Map(Object.entries(DATATYPES).map(([oip, { ort }]) => [ort, oip]));

export const OIP_DATATYPES = Object.keys(DATATYPES);

/** The OIP datatype of an onnxruntime element type; undefined for one OIP has no name for (bfloat16, int4…). */
export function oipDatatype(ortType: string | undefined): string | undefined {
  return ortType === undefined ? undefined : FROM_ORT.get(ortType);
}

/** Metadata shape for OIP: fixed dimensions as they are, symbolic or unknown ones −1. */
export function oipShape(shape: (number | string)[]): number[] {
  return shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
}

/** `[2, 3]`, for messages. */
const showShape = (s: readonly (number | string)[]) => `[${s.join(', ')}]`;

/** Element bounds of the integer types that fit a double exactly. */
const INT_RANGE: Record<string, [number, number]> = {
  uint8: [0, 0xff],
  uint16: [0, 0xffff],
  uint32: [0, 0xffffffff],
  int8: [-0x80, 0x7f],
  int16: [-0x8000, 0x7fff],
  int32: [-0x80000000, 0x7fffffff],
};

type Typed = Exclude<TensorData['data'], string[]>;

function allocate(ort: string, n: number): Typed {
  switch (ort) {
    case 'bool':
    case 'uint8':
      return new Uint8Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint16':
    case 'float16':
      return new Uint16Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint64':
      return new BigUint64Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
  }
  throw new Error(`no typed array for ${ort}`);
}

/** Zeros (empty strings for BYTES) of the model input's shape, dynamic dimensions 1: the warm-up feed. */
export function zerosFor(meta: ValueMeta): TensorData {
  const dims = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const n = dims.reduce((a, b) => a * b, 1);
  const type = meta.type ?? 'float32';
  return { type, dims, data: type === 'string' ? new Array<string>(n).fill('') : allocate(type, n) };
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Checks the request's name, datatype and shape against the model's input; returns the element count. */
function checkHeader(t: OipTensor, meta: ValueMeta, model: string): number {
  const what = `input '${meta.name}' of ${model}`;
  const expectedType = oipDatatype(meta.type);
  if (typeof t.datatype !== 'string' || !(t.datatype in DATATYPES))
    throw new TensorError(
      `${what}: datatype ${typeof t.datatype === 'string' ? `'${t.datatype.slice(0, 40)}'` : 'missing'} is not an OIP datatype (${OIP_DATATYPES.join(', ')}); the model expects ${expectedType ?? meta.type}`,
    );
  if (t.datatype !== expectedType)
    throw new TensorError(
      `${what}: the model expects datatype ${expectedType ?? meta.type}; the request has ${t.datatype}`,
    );
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new TensorError(`${what}: shape must be an array of non-negative integers`);
  const expected = meta.shape;
  // [] is also what onnxruntime reports for an unknown shape: then onnxruntime itself checks.
  if (expected.length > 0) {
    const fits =
      t.shape.length === expected.length &&
      expected.every((d, i) => typeof d !== 'number' || d < 0 || d === t.shape[i]);
    if (!fits)
      throw new TensorError(
        `${what}: the model expects shape ${showShape(oipShape(expected))}${oipShape(expected).includes(-1) ? ' (−1: any size)' : ''}; the request has ${showShape(t.shape)}`,
      );
  }
  return count(t.shape);
}

/** Flattens `data` row-major; a nested array must have exactly the tensor's shape. */
function flatten(data: unknown, shape: number[], what: string): unknown[] {
  if (!Array.isArray(data)) throw new TensorError(`${what}: data must be an array`);
  const nested = data.some((x) => Array.isArray(x));
  if (!nested) {
    if (data.length !== count(shape))
      throw new TensorError(
        `${what}: shape ${showShape(shape)} holds ${count(shape)} elements; data has ${data.length}`,
      );
    return data;
  }
  const out: unknown[] = [];
  const walk = (a: unknown, depth: number, at: number[]) => {
    if (depth === shape.length) {
      if (Array.isArray(a))
        throw new TensorError(`${what}: nested data is deeper than shape ${showShape(shape)} at [${at.join(', ')}]`);
      out.push(a);
      return;
    }
    if (!Array.isArray(a) || a.length !== shape[depth])
      throw new TensorError(
        `${what}: nested data does not match shape ${showShape(shape)}: at [${at.join(', ')}] expected ${shape[depth]} elements, found ${Array.isArray(a) ? a.length : 'a single value'}`,
      );
    a.forEach((x, i) => walk(x, depth + 1, [...at, i]));
  };
  walk(data, 0, []);
  return out;
}

function fill(ort: string, values: unknown[], what: string): TensorData['data'] {
  const bad = (i: number, expected: string) =>
    new TensorError(
      `${what}: element ${i} is not ${expected} (found a ${values[i] === null ? 'null' : typeof values[i]})`,
    );
  if (ort === 'string') {
    return values.map((v, i) => {
      if (typeof v !== 'string') throw bad(i, 'a string');
      return v;
    });
  }
  const out = allocate(ort, values.length);
  if (ort === 'bool') {
    const a = out as Uint8Array;
    values.forEach((v, i) => {
      if (typeof v === 'boolean') a[i] = v ? 1 : 0;
      else if (v === 0 || v === 1) a[i] = v;
      else throw bad(i, 'a boolean');
    });
  } else if (ort === 'int64' || ort === 'uint64') {
    const a = out as BigInt64Array | BigUint64Array;
    const [lo, hi] = ort === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
    values.forEach((v, i) => {
      let b: bigint;
      if (typeof v === 'number') {
        if (!Number.isInteger(v)) throw bad(i, 'an integer');
        // JSON.parse has already rounded a larger number: its exact value is lost.
        if (!Number.isSafeInteger(v))
          throw new TensorError(
            `${what}: element ${i} is beyond ±2^53, which a JSON number cannot carry exactly; send it as a decimal string or in binary (parameters.binary_data_size)`,
          );
        b = BigInt(v);
      } else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) b = BigInt(v);
      else throw bad(i, 'an integer');
      if (b < lo || b > hi) throw new TensorError(`${what}: element ${i} is out of range for ${ort}`);
      a[i] = b;
    });
  } else if (ort in INT_RANGE) {
    const [lo, hi] = INT_RANGE[ort];
    const a = out as Exclude<Typed, BigInt64Array | BigUint64Array>;
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(i, 'an integer');
      if (v < lo || v > hi) throw new TensorError(`${what}: element ${i} is out of range for ${ort} (${lo}…${hi})`);
      a[i] = v;
    });
  } else {
    const a = out as Float32Array | Float64Array | Uint16Array;
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    values.forEach((v, i) => {
      if (typeof v !== 'number') throw bad(i, 'a number');
      if (ort === 'float16') {
        // Through float32: rounding twice differs from rounding once only for values within 2^-24 of a half-way point.
        f32[0] = v;
        a[i] = f32BitsToF16(u32[0]);
      } else a[i] = v;
    });
  }
  return out;
}

/** The bytes of one binary tensor as a typed array of the element type (little-endian, as the extension says). */
function fromBytes(ort: string, size: number, bytes: Buffer, n: number, what: string): TensorData['data'] {
  if (ort === 'string') {
    const out: string[] = [];
    let at = 0;
    while (at < bytes.length) {
      if (at + 4 > bytes.length) throw new TensorError(`${what}: binary BYTES data ends inside a length prefix`);
      const len = bytes.readUInt32LE(at);
      if (at + 4 + len > bytes.length)
        throw new TensorError(`${what}: binary BYTES element ${out.length} is longer than the data left`);
      out.push(bytes.toString('utf8', at + 4, at + 4 + len));
      at += 4 + len;
    }
    if (out.length !== n)
      throw new TensorError(`${what}: the shape holds ${n} elements; the binary BYTES data has ${out.length}`);
    return out;
  }
  if (bytes.length !== n * size)
    throw new TensorError(
      `${what}: the shape holds ${n} elements of ${size} bytes (${n * size} bytes); binary_data_size is ${bytes.length}`,
    );
  const out = allocate(ort, n);
  // A copy: aligned for the typed array, and not a view into the request's buffer.
  new Uint8Array(out.buffer).set(bytes);
  if (ort === 'bool' && (out as Uint8Array).some((b) => b > 1))
    throw new TensorError(`${what}: binary BOOL data holds a byte other than 0 or 1`);
  return out;
}

/**
 * One request input as onnxruntime's feed. `binary` is the tensor's bytes when its
 * `parameters.binary_data_size` placed it after the JSON header.
 */
export function decodeInput(t: OipTensor, meta: ValueMeta, model: string, binary?: Buffer): TensorData {
  const n = checkHeader(t, meta, model);
  const { ort, size } = DATATYPES[t.datatype];
  const what = `input '${meta.name}' of ${model}`;
  const shape = [...t.shape];
  if (binary !== undefined) {
    if (t.data !== undefined) throw new TensorError(`${what}: has both data and parameters.binary_data_size`);
    return { type: ort, dims: shape, data: fromBytes(ort, size, binary, n, what) };
  }
  if (t.data === undefined) throw new TensorError(`${what}: no data (nor parameters.binary_data_size)`);
  return { type: ort, dims: shape, data: fill(ort, flatten(t.data, shape, what), what) };
}

/** A JSON array's text for a tensor's elements: int64 exact (JSON.stringify cannot write a BigInt), NaN/±Inf as null. */
function dataText(t: TensorData): string {
  const d = t.data;
  if (Array.isArray(d)) return JSON.stringify(d);
  if (t.type === 'bool') return `[${Array.from(d as Uint8Array, (b) => (b ? 'true' : 'false')).join(',')}]`;
  if (t.type === 'float16') {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    return JSON.stringify(
      Array.from(d as Uint16Array, (h) => {
        u32[0] = f16BitsToF32(h);
        return f32[0];
      }),
    );
  }
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return `[${Array.from(d, String).join(',')}]`;
  return JSON.stringify(Array.from(d as ArrayLike<number>));
}

/** The binary form of a tensor: raw little-endian elements, or length-prefixed strings for BYTES. */
export function tensorBytes(t: TensorData): Buffer {
  if (Array.isArray(t.data)) {
    const parts: Buffer[] = [];
    for (const s of t.data) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      parts.push(len, b);
    }
    return Buffer.concat(parts);
  }
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** One response output: its JSON text (without data when binary) and, when binary, its bytes. */
export function encodeOutput(name: string, t: TensorData, binary: boolean): { json: string; bytes?: Buffer } {
  const datatype = oipDatatype(t.type);
  if (!datatype) throw new Error(`output '${name}' has element type ${t.type}, which OIP cannot carry`);
  const head = { name, datatype, shape: t.dims };
  if (binary) {
    const bytes = tensorBytes(t);
    return { json: JSON.stringify({ ...head, parameters: { binary_data_size: bytes.length } }), bytes };
  }
  return { json: `${JSON.stringify(head).slice(0, -1)},"data":${dataText(t)}}` };
}

/**
 * Splits a binary-extension body: the JSON header (its length from the `Inference-Header-Content-Length`
 * request header) and the bytes after it.
 */
export function splitBinaryBody(body: Buffer, headerLength: string): { json: Buffer; rest: Buffer } {
  const n = Number(headerLength);
  if (!/^\d+$/.test(headerLength) || n > body.length)
    throw new TensorError(
      `Inference-Header-Content-Length must be a byte count no larger than the body (${body.length} bytes); it is '${headerLength.slice(0, 20)}'`,
    );
  return { json: body.subarray(0, n), rest: body.subarray(n) };
}

/**
 * The bytes each input's `parameters.binary_data_size` claims, taken in order from what follows the
 * JSON header; every byte must be claimed.
 */
export function binaryInputs(inputs: OipTensor[], rest: Buffer): Map<OipTensor, Buffer> {
  const out = new Map<OipTensor, Buffer>();
  let at = 0;
  for (const t of inputs) {
    const size = t.parameters?.binary_data_size;
    if (size === undefined) continue;
    if (!Number.isSafeInteger(size) || (size as number) < 0)
      throw new TensorError(`input '${String(t.name)}': parameters.binary_data_size must be a byte count`);
    if (at + (size as number) > rest.length)
      throw new TensorError(
        `input '${String(t.name)}': binary_data_size ${size as number} goes past the end of the body (${rest.length - at} bytes left after the JSON header and the inputs before it)`,
      );
    out.set(t, rest.subarray(at, at + (size as number)));
    at += size as number;
  }
  if (at !== rest.length)
    throw new TensorError(
      `the body has ${rest.length - at} bytes after the JSON header that no input's binary_data_size claims`,
    );
  return out;
}

/**
 * TensorFlow Lite: a FlatBuffer with file identifier "TFL3" (tensorflow/compiler/mlir/lite/schema/schema.fbs).
 * A tiny table reader follows offsets through file reads, so the weight buffers are never loaded,
 * and checks every offset against the file size.
 */
import type { FileHandle } from 'fs/promises';
import { InputError } from '../../errors';
import type { TensorSpec, WeightInfo } from '../types';
import { countInto, product, readAt, withFile } from './read';

/** tflite.TensorType */
export const TFLITE_TYPES: Record<number, string> = {
  0: 'float32',
  1: 'float16',
  2: 'int32',
  3: 'uint8',
  4: 'int64',
  5: 'string',
  6: 'bool',
  7: 'int16',
  8: 'complex64',
  9: 'int8',
  10: 'float64',
  11: 'complex128',
  12: 'uint64',
  13: 'resource',
  14: 'variant',
  15: 'uint32',
  16: 'uint16',
  17: 'int4',
  18: 'bfloat16',
};

// Field indices (order of declaration in schema.fbs).
const MODEL = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4, metadata: 6, signatureDefs: 7 };
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 };
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, shapeSignature: 7 };
const BUFFER = { data: 0, offset: 1 };
const METADATA = { name: 0, buffer: 1 };
const SIGNATURE = { key: 2 };

const PAGE = 64 * 1024;
const MAX_ITEMS = 10_000_000;

interface Table {
  pos: number;
  vtable: number;
  vtableSize: number;
}

/** Random-access little-endian reads through a page cache, each bounds-checked. */
class FlatFile {
  private pages = new Map<number, Buffer>();

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly file: string,
  ) {}

  async bytes(off: number, len: number, what: string): Promise<Buffer> {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > this.size) {
      throw new InputError(
        this.file,
        `corrupt TFLite model: ${what} at offset ${off} (+${len} bytes) is outside the file (${this.size} bytes)`,
      );
    }
    const first = Math.floor(off / PAGE);
    if (Math.floor((off + len - 1) / PAGE) !== first || len > PAGE) return readAt(this.fh, off, len);
    let page = this.pages.get(first);
    if (!page) {
      page = await readAt(this.fh, first * PAGE, PAGE);
      this.pages.set(first, page);
    }
    return page.subarray(off - first * PAGE, off - first * PAGE + len);
  }

  async u32(off: number, what: string) {
    return (await this.bytes(off, 4, what)).readUInt32LE(0);
  }

  async table(pos: number, what: string): Promise<Table> {
    const vtable = pos - (await this.bytes(pos, 4, what)).readInt32LE(0);
    const vtableSize = (await this.bytes(vtable, 2, `the vtable of ${what}`)).readUInt16LE(0);
    if (vtableSize < 4 || vtableSize % 2)
      throw new InputError(this.file, `corrupt TFLite model: bad vtable size ${vtableSize} for ${what}`);
    await this.bytes(vtable, vtableSize, `the vtable of ${what}`);
    return { pos, vtable, vtableSize };
  }

  /** Position of field `i` of table `t`, or undefined when absent. */
  async field(t: Table, i: number, what: string): Promise<number | undefined> {
    if (4 + 2 * i >= t.vtableSize) return undefined;
    const off = (await this.bytes(t.vtable + 4 + 2 * i, 2, what)).readUInt16LE(0);
    return off ? t.pos + off : undefined;
  }

  /** Target of an offset field (table, vector or string). */
  async ref(t: Table, i: number, what: string): Promise<number | undefined> {
    const at = await this.field(t, i, what);
    return at === undefined ? undefined : at + (await this.u32(at, what));
  }

  async uint(t: Table, i: number, what: string, def = 0): Promise<number> {
    const at = await this.field(t, i, what);
    return at === undefined ? def : this.u32(at, what);
  }

  async int8(t: Table, i: number, what: string, def = 0): Promise<number> {
    const at = await this.field(t, i, what);
    return at === undefined ? def : (await this.bytes(at, 1, what)).readInt8(0);
  }

  async u64(t: Table, i: number, what: string): Promise<bigint> {
    const at = await this.field(t, i, what);
    return at === undefined ? 0n : (await this.bytes(at, 8, what)).readBigUInt64LE(0);
  }

  /** A vector field: position of its first element and its length, checked to fit in the file. */
  async vector(t: Table, i: number, elemSize: number, what: string): Promise<{ start: number; length: number }> {
    const at = await this.ref(t, i, what);
    if (at === undefined) return { start: 0, length: 0 };
    const length = await this.u32(at, what);
    if (length > MAX_ITEMS)
      throw new InputError(this.file, `corrupt TFLite model: ${what} declares ${length} elements`);
    await this.bytes(at + 4, length * elemSize, what);
    return { start: at + 4, length };
  }

  async ints(t: Table, i: number, what: string): Promise<number[] | undefined> {
    const at = await this.ref(t, i, what);
    if (at === undefined) return undefined;
    const v = await this.vector(t, i, 4, what);
    const b = await this.bytes(v.start, v.length * 4, what);
    return Array.from({ length: v.length }, (_, k) => b.readInt32LE(4 * k));
  }

  async string(t: Table, i: number, what: string): Promise<string | undefined> {
    const v = await this.ref(t, i, what);
    if (v === undefined) return undefined;
    const { start, length } = await this.vector(t, i, 1, what);
    return (await this.bytes(start, length, what)).toString('utf8');
  }

  /** Element `k` of a vector of tables. */
  async element(vec: { start: number }, k: number, what: string): Promise<Table> {
    const at = vec.start + 4 * k;
    return this.table(at + (await this.u32(at, what)), what);
  }
}

export async function readTflite(file: string): Promise<WeightInfo> {
  return withFile(file, async (fh, size) => {
    if (size === 0) throw new InputError(file, 'empty file');
    if (size < 8) throw new InputError(file, `too small for a TFLite model (${size} bytes)`);
    const ident = (await readAt(fh, 4, 4)).toString('latin1');
    if (ident !== 'TFL3') {
      throw new InputError(
        file,
        `not a TFLite model (file identifier '${ident.replace(/[^\x20-\x7e]/g, '?')}', expected 'TFL3')`,
      );
    }
    const f = new FlatFile(fh, size, file);
    const model = await f.table(await f.u32(0, 'the root offset'), 'the Model table');

    const details: Record<string, unknown> = { schemaVersion: await f.uint(model, MODEL.version, 'Model.version') };
    const description = await f.string(model, MODEL.description, 'Model.description');
    if (description) details.description = description;
    const subgraphs = await f.vector(model, MODEL.subgraphs, 4, 'Model.subgraphs');
    details.subgraphCount = subgraphs.length;
    details.operatorCodeCount = (await f.vector(model, MODEL.operatorCodes, 4, 'Model.operator_codes')).length;
    const buffers = await f.vector(model, MODEL.buffers, 4, 'Model.buffers');

    // A buffer holds constant data when its vector is non-empty or (models > 2 GB) it points past the flatbuffer.
    const bufferHasData = async (index: number): Promise<boolean> => {
      if (index <= 0 || index >= buffers.length) return false;
      const b = await f.element(buffers, index, `buffer ${index}`);
      return (
        (await f.vector(b, BUFFER.data, 1, `buffer ${index} data`)).length > 0 ||
        (await f.u64(b, BUFFER.offset, `buffer ${index} offset`)) > 1n
      );
    };

    const signatureDefs = await f.vector(model, MODEL.signatureDefs, 4, 'Model.signature_defs');
    const keys: string[] = [];
    for (let k = 0; k < signatureDefs.length; k++) {
      const key = await f.string(
        await f.element(signatureDefs, k, `signature ${k}`),
        SIGNATURE.key,
        `signature ${k} key`,
      );
      if (key) keys.push(key);
    }
    if (keys.length) details.signatures = keys;

    const metadata = await f.vector(model, MODEL.metadata, 4, 'Model.metadata');
    const metaNames: string[] = [];
    for (let k = 0; k < metadata.length; k++) {
      const m = await f.element(metadata, k, `metadata ${k}`);
      const name = (await f.string(m, METADATA.name, `metadata ${k} name`)) ?? '';
      metaNames.push(name);
      const index = await f.uint(m, METADATA.buffer, `metadata ${k} buffer`);
      if (name === 'min_runtime_version' && index < buffers.length) {
        const b = await f.element(buffers, index, `buffer ${index}`);
        const v = await f.vector(b, BUFFER.data, 1, `buffer ${index} data`);
        details.minRuntimeVersion = (await f.bytes(v.start, Math.min(v.length, 64), 'min_runtime_version'))
          .toString('latin1')
          .replace(/\0.*$/s, '');
      }
    }
    if (metaNames.length) details.metadata = metaNames;

    const info: WeightInfo = { format: 'tflite', framework: 'tflite', details };
    if (subgraphs.length === 0) return info;

    const sg = await f.element(subgraphs, 0, 'subgraph 0');
    const sgName = await f.string(sg, SUBGRAPH.name, 'SubGraph.name');
    if (sgName) details.subgraphName = sgName;
    details.operatorCount = (await f.vector(sg, SUBGRAPH.operators, 4, 'SubGraph.operators')).length;
    const tensors = await f.vector(sg, SUBGRAPH.tensors, 4, 'SubGraph.tensors');
    details.tensorTotal = tensors.length;

    const spec = async (index: number): Promise<TensorSpec> => {
      if (index < 0 || index >= tensors.length) {
        throw new InputError(
          file,
          `corrupt TFLite model: tensor index ${index} is out of range (${tensors.length} tensors)`,
        );
      }
      const t = await f.element(tensors, index, `tensor ${index}`);
      const type = await f.int8(t, TENSOR.type, `tensor ${index} type`);
      // shape_signature has -1 for dynamic dimensions; shape has the placeholder size.
      const dims =
        (await f.ints(t, TENSOR.shapeSignature, `tensor ${index} shape_signature`)) ??
        (await f.ints(t, TENSOR.shape, `tensor ${index} shape`)) ??
        [];
      return {
        name: (await f.string(t, TENSOR.name, `tensor ${index} name`)) ?? `tensor${index}`,
        dtype: TFLITE_TYPES[type] ?? `type${type}`,
        shape: dims.map((d) => (d < 0 ? '?' : d)),
      };
    };
    info.inputs = [];
    for (const i of (await f.ints(sg, SUBGRAPH.inputs, 'SubGraph.inputs')) ?? []) info.inputs.push(await spec(i));
    info.outputs = [];
    for (const i of (await f.ints(sg, SUBGRAPH.outputs, 'SubGraph.outputs')) ?? []) info.outputs.push(await spec(i));

    // Parameters: the constant tensors of the main subgraph (those backed by a data buffer).
    const dtypes: Record<string, number> = {};
    let parameterCount = 0;
    let constants = 0;
    for (let k = 0; k < tensors.length; k++) {
      const t = await f.element(tensors, k, `tensor ${k}`);
      if (!(await bufferHasData(await f.uint(t, TENSOR.buffer, `tensor ${k} buffer`)))) continue;
      const shape = (await f.ints(t, TENSOR.shape, `tensor ${k} shape`)) ?? [];
      if (shape.every((d) => d >= 0)) parameterCount += product(shape);
      const type = await f.int8(t, TENSOR.type, `tensor ${k} type`);
      countInto(dtypes, TFLITE_TYPES[type] ?? `type${type}`);
      constants++;
    }
    return { ...info, parameterCount, tensorCount: constants, dtypes };
  });
}

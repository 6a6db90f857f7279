/**
 * Writers of small but real weight files, for tests (no Python needed): safetensors, ONNX, GGUF,
 * torch zip / legacy pickle, Keras archive and HDF5, TensorFlow SavedModel, TFLite.
 * Every writer has a `...Bytes` twin where corrupting the bytes is useful.
 */
import { PNG } from 'pngjs';
import { createWriteStream } from 'fs';
import { mkdir, writeFile } from 'fs/promises';
import * as path from 'path';
import * as yazl from 'yazl';
import { GGML_BLOCKS, GGML_TYPES } from '../../../src/core/inspect/weights/gguf';
import { ONNX_DTYPES, onnxModelType } from '../../../src/core/inspect/weights/onnxSchema';
import { savedModelProtoType, TF_DTYPES } from '../../../src/core/inspect/weights/savedmodel';
import { TFLITE_TYPES } from '../../../src/core/inspect/weights/tflite';

const reverse = (m: Record<number, string>): Record<string, number> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [v, Number(k)]));
const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------- safetensors

export interface SafetensorsTensor {
  name: string;
  /** safetensors dtype: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL... */
  dtype: string;
  shape: number[];
  /** Element values in row-major order; else every element is `fill` (default 0). */
  values?: ArrayLike<number>;
  fill?: number;
}

const ST_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  U64: 8,
  I32: 4,
  U32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

/** The bytes of a valid safetensors file (header padded to 8 bytes, tensors stored in order). */
export function safetensorsBytes(tensors: SafetensorsTensor[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const datas: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const size = ST_BYTES[t.dtype];
    if (!size) throw new Error(`safetensorsBytes: unsupported dtype ${t.dtype}`);
    const n = product(t.shape);
    const data = Buffer.alloc(n * size);
    for (let i = 0; i < n; i++) writeNumber(data, i * size, t.dtype, t.values ? t.values[i] : (t.fill ?? 0));
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + data.length] };
    datas.push(data);
    offset += data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...datas]);
}

export async function writeSafetensors(
  file: string,
  tensors: SafetensorsTensor[],
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFile(file, safetensorsBytes(tensors, metadata));
}

function writeNumber(buf: Buffer, at: number, dtype: string, v: number): void {
  switch (dtype) {
    case 'F64':
      buf.writeDoubleLE(v, at);
      break;
    case 'F32':
      buf.writeFloatLE(v, at);
      break;
    case 'F16':
      buf.writeUInt16LE(toHalf(v), at);
      break;
    case 'BF16': {
      const b = Buffer.alloc(4);
      b.writeFloatLE(v);
      buf.writeUInt16LE(b.readUInt16LE(2), at);
      break;
    }
    case 'I64':
      buf.writeBigInt64LE(BigInt(Math.trunc(v)), at);
      break;
    case 'U64':
      buf.writeBigUInt64LE(BigInt(Math.trunc(v)), at);
      break;
    case 'I32':
      buf.writeInt32LE(v, at);
      break;
    case 'U32':
      buf.writeUInt32LE(v, at);
      break;
    case 'I16':
      buf.writeInt16LE(v, at);
      break;
    case 'U16':
      buf.writeUInt16LE(v, at);
      break;
    case 'I8':
      buf.writeInt8(v, at);
      break;
    case 'BOOL':
      buf.writeUInt8(v ? 1 : 0, at);
      break;
    default:
      buf.writeUInt8(v & 0xff, at);
  }
}

/** float -> IEEE half bits (round toward zero; enough for test data). */
function toHalf(v: number): number {
  const f = Buffer.alloc(4);
  f.writeFloatLE(v);
  const x = f.readUInt32LE(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = (x >>> 13) & 0x3ff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | mant;
}

// ---------------------------------------------------------------- ONNX

export interface OnnxOptions {
  inputName?: string;
  outputName?: string;
  /** Input features and output classes of the MatMul+Add(+Softmax) classifier. */
  features?: number;
  classes?: number;
  /** First input/output dimension: a number, or a symbolic name (default "batch"). */
  batch?: number | string;
  /** W [features, classes] and B [classes] values, row-major; default small deterministic values. */
  weights?: number[];
  bias?: number[];
  softmax?: boolean;
  opset?: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  graphName?: string;
  metadata?: Record<string, string>;
}

/**
 * A tiny classifier Y = Softmax(X·W + B) that onnxruntime can run: input [batch, features] float32,
 * output [batch, classes] float32, initializers W and B stored as raw_data.
 */
export function onnxModelBytes(opts: OnnxOptions = {}): Buffer {
  const features = opts.features ?? 4;
  const classes = opts.classes ?? 3;
  const batch = opts.batch ?? 'batch';
  const inputName = opts.inputName ?? 'input';
  const outputName = opts.outputName ?? 'probabilities';
  const softmax = opts.softmax ?? true;
  const w = opts.weights ?? Array.from({ length: features * classes }, (_, i) => ((i % 7) - 3) / 10);
  const b = opts.bias ?? Array.from({ length: classes }, (_, i) => i / 10);
  const floats = (vals: number[]) => {
    const buf = Buffer.alloc(vals.length * 4);
    vals.forEach((v, i) => buf.writeFloatLE(v, i * 4));
    return buf;
  };
  const dim = (d: number | string) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d });
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: 1, shape: { dim: dims.map(dim) } } },
  });
  const addOut = softmax ? 'logits' : outputName;
  const nodes: Record<string, unknown>[] = [
    { op_type: 'MatMul', name: 'matmul', input: [inputName, 'W'], output: ['xw'] },
    { op_type: 'Add', name: 'add', input: ['xw', 'B'], output: [addOut] },
  ];
  if (softmax) {
    nodes.push({
      op_type: 'Softmax',
      name: 'softmax',
      input: ['logits'],
      output: [outputName],
      attribute: [{ name: 'axis', type: 2, i: -1 }],
    });
  }
  const model = {
    ir_version: opts.irVersion ?? 8,
    opset_import: [{ domain: '', version: opts.opset ?? 13 }],
    producer_name: opts.producerName ?? 'modelreg-tests',
    producer_version: opts.producerVersion ?? '1.0',
    graph: {
      name: opts.graphName ?? 'tiny_classifier',
      node: nodes,
      initializer: [
        { name: 'W', dims: [features, classes], data_type: 1, raw_data: floats(w) },
        { name: 'B', dims: [classes], data_type: 1, raw_data: floats(b) },
      ],
      input: [valueInfo(inputName, [batch, features])],
      output: [valueInfo(outputName, [batch, classes])],
    },
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const type = onnxModelType();
  const err = type.verify(model);
  if (err) throw new Error(`onnxModelBytes: ${err}`);
  return Buffer.from(type.encode(type.fromObject(model)).finish());
}

/**
 * An image classifier onnxruntime can run: input [batch, 3, size, size] → GlobalAveragePool → Flatten
 * → [batch, 3], the mean of each colour channel as the score of "red", "green", "blue".
 */
export function channelMeanModelBytes(size = 4): Buffer {
  const dim = (d: number | string) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d });
  const info = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: 1, shape: { dim: dims.map(dim) } } },
  });
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'modelreg-tests',
    graph: {
      name: 'channel_mean',
      node: [
        { op_type: 'GlobalAveragePool', name: 'pool', input: ['image'], output: ['pooled'] },
        { op_type: 'Flatten', name: 'flat', input: ['pooled'], output: ['scores'] },
      ],
      input: [info('image', ['batch', 3, size, size])],
      output: [info('scores', ['batch', 3])],
    },
  };
  const type = onnxModelType();
  return Buffer.from(type.encode(type.fromObject(model)).finish());
}

export async function writeOnnx(file: string, opts: OnnxOptions = {}): Promise<void> {
  await writeFile(file, onnxModelBytes(opts));
}

/** ONNX element type name (float32, int64...) -> TensorProto.DataType number. */
export const ONNX_TYPE_NUMBERS = reverse(ONNX_DTYPES);

// ---------------------------------------------------------------- GGUF

type GgufScalarType =
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'uint32'
  | 'int32'
  | 'float32'
  | 'bool'
  | 'string'
  | 'uint64'
  | 'int64'
  | 'float64';
const GGUF_VT: Record<GgufScalarType | 'array', number> = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
};

/**
 * A metadata value. Plain values get an inferred type: string, boolean, bigint -> uint64/int64,
 * integer -> uint32 (int32 if negative), other number -> float32, arrays by their first element.
 */
export type GgufValue =
  | string
  | boolean
  | number
  | bigint
  | (string | number | boolean)[]
  | { type: GgufScalarType; value: string | number | bigint | boolean }
  | { type: 'array'; itemType: GgufScalarType; value: (string | number | bigint | boolean)[] };

export interface GgufTensor {
  name: string;
  /** GGUF order (innermost first, as llama.cpp writes ne[]). */
  shape: number[];
  /** ggml type name; default F32. Data is zeros of the right size. */
  type?: string;
}

export interface GgufOptions {
  version?: 2 | 3;
  metadata?: Record<string, GgufValue>;
  tensors?: GgufTensor[];
  alignment?: number;
}

export function ggufBytes(opts: GgufOptions = {}): Buffer {
  const version = opts.version ?? 3;
  const alignment = opts.alignment ?? 32;
  const out: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    out.push(b);
  };
  const u64 = (v: number | bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    out.push(b);
  };
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    u64(b.length);
    out.push(b);
  };
  const scalar = (type: GgufScalarType, v: string | number | bigint | boolean) => {
    if (type === 'string') return str(String(v));
    const b = Buffer.alloc(
      {
        uint8: 1,
        int8: 1,
        bool: 1,
        uint16: 2,
        int16: 2,
        uint32: 4,
        int32: 4,
        float32: 4,
        uint64: 8,
        int64: 8,
        float64: 8,
      }[type],
    );
    switch (type) {
      case 'uint8':
        b.writeUInt8(Number(v));
        break;
      case 'int8':
        b.writeInt8(Number(v));
        break;
      case 'bool':
        b.writeUInt8(v ? 1 : 0);
        break;
      case 'uint16':
        b.writeUInt16LE(Number(v));
        break;
      case 'int16':
        b.writeInt16LE(Number(v));
        break;
      case 'uint32':
        b.writeUInt32LE(Number(v));
        break;
      case 'int32':
        b.writeInt32LE(Number(v));
        break;
      case 'float32':
        b.writeFloatLE(Number(v));
        break;
      case 'uint64':
        b.writeBigUInt64LE(BigInt(v));
        break;
      case 'int64':
        b.writeBigInt64LE(BigInt(v));
        break;
      case 'float64':
        b.writeDoubleLE(Number(v));
        break;
    }
    out.push(b);
  };
  const infer = (v: string | number | bigint | boolean): GgufScalarType =>
    typeof v === 'string'
      ? 'string'
      : typeof v === 'boolean'
        ? 'bool'
        : typeof v === 'bigint'
          ? v < 0n
            ? 'int64'
            : 'uint64'
          : Number.isInteger(v)
            ? v < 0
              ? 'int32'
              : 'uint32'
            : 'float32';

  const metadata: Record<string, GgufValue> = { ...(opts.metadata ?? {}) };
  if (opts.alignment !== undefined) metadata['general.alignment'] = { type: 'uint32', value: alignment };
  const tensors = opts.tensors ?? [];
  out.push(Buffer.from('GGUF', 'latin1'));
  u32(version);
  u64(tensors.length);
  u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    str(key);
    if (Array.isArray(value) || (typeof value === 'object' && value.type === 'array')) {
      const items = Array.isArray(value) ? value : (value.value as (string | number | bigint | boolean)[]);
      const itemType = Array.isArray(value)
        ? items.length
          ? infer(items[0])
          : 'uint32'
        : (value as { itemType: GgufScalarType }).itemType;
      u32(GGUF_VT.array);
      u32(GGUF_VT[itemType]);
      u64(items.length);
      for (const it of items) scalar(itemType, it);
    } else if (typeof value === 'object') {
      u32(GGUF_VT[value.type]);
      scalar(value.type as GgufScalarType, value.value as string | number | bigint | boolean);
    } else {
      const t = infer(value);
      u32(GGUF_VT[t]);
      scalar(t, value);
    }
  }
  const typeNumbers = reverse(GGML_TYPES);
  let offset = 0;
  const datas: { offset: number; size: number }[] = [];
  for (const t of tensors) {
    const type = t.type ?? 'F32';
    const block = GGML_BLOCKS[type];
    if (!block || typeNumbers[type] === undefined) throw new Error(`ggufBytes: unsupported tensor type ${type}`);
    if (t.shape.length && t.shape[0] % block[0])
      throw new Error(`ggufBytes: ${type} needs a first dimension multiple of ${block[0]}`);
    const size = Math.ceil(product(t.shape) / block[0]) * block[1];
    str(t.name);
    u32(t.shape.length);
    for (const d of t.shape) u64(d);
    u32(typeNumbers[type]);
    u64(offset);
    datas.push({ offset, size });
    offset = Math.ceil((offset + size) / alignment) * alignment;
  }
  const header = Buffer.concat(out);
  const dataStart = Math.ceil(header.length / alignment) * alignment;
  const end = datas.length ? dataStart + datas[datas.length - 1].offset + datas[datas.length - 1].size : header.length;
  const file = Buffer.alloc(end);
  header.copy(file, 0);
  return file;
}

export async function writeGguf(file: string, opts: GgufOptions = {}): Promise<void> {
  await writeFile(file, ggufBytes(opts));
}

// ---------------------------------------------------------------- PyTorch

export interface TorchZipOptions {
  /** Folder inside the zip; torch uses the file's stem or "archive". */
  prefix?: string;
  /** One member data/<i> per storage: a size in bytes (zeros) or the bytes themselves. */
  storages?: (number | Buffer)[];
  /** Content of <prefix>/version; null to leave it out. */
  version?: string | null;
  byteorder?: string | null;
  /** Content of data.pkl; default a protocol-2 pickle of an empty dict. */
  pickle?: Buffer;
  /** Extra members (path inside the prefix -> bytes), e.g. TorchScript's constants.pkl. */
  extra?: Record<string, Buffer>;
}

/** A zip laid out like torch.save's (stored, not compressed). Nothing in it is ever unpickled. */
export async function writeTorchZip(file: string, opts: TorchZipOptions = {}): Promise<void> {
  const prefix = opts.prefix ?? 'archive';
  const members: [string, Buffer][] = [[`${prefix}/data.pkl`, opts.pickle ?? Buffer.from('80027d71002e', 'hex')]];
  const byteorder = opts.byteorder === undefined ? 'little' : opts.byteorder;
  if (byteorder !== null) members.push([`${prefix}/byteorder`, Buffer.from(byteorder)]);
  (opts.storages ?? [16, 8]).forEach((s, i) =>
    members.push([`${prefix}/data/${i}`, typeof s === 'number' ? Buffer.alloc(s) : s]),
  );
  const version = opts.version === undefined ? '3' : opts.version;
  if (version !== null) members.push([`${prefix}/version`, Buffer.from(`${version}\n`)]);
  for (const [name, bytes] of Object.entries(opts.extra ?? {})) members.push([`${prefix}/${name}`, bytes]);
  await writeZip(file, members);
}

/** A pre-1.6 torch.save stream: the magic-number pickle, then protocol and sys_info pickles. */
export async function writeLegacyTorch(file: string): Promise<void> {
  const magic = Buffer.from('8002' + '8a0a6cfc9c46f9206aa85019' + '2e', 'hex');
  const protocolVersion = Buffer.from('80024de9032e', 'hex'); // 1001
  const sysInfo = Buffer.from('80027d71002e', 'hex');
  await writeFile(file, Buffer.concat([magic, protocolVersion, sysInfo, Buffer.from('80027d71002e', 'hex')]));
}

/** Writes a zip with its members in order, stored (uncompressed) unless `compress`. */
export function writeZip(file: string, members: [string, Buffer][], opts: { compress?: boolean } = {}): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, bytes] of members)
    zip.addBuffer(bytes, name, { compress: opts.compress ?? false, mtime: new Date(0) });
  zip.end();
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('close', () => resolve());
    out.on('error', reject);
    zip.outputStream.pipe(out);
  });
}

// ---------------------------------------------------------------- Keras

export interface KerasLayer {
  className: string;
  name?: string;
  config?: Record<string, unknown>;
}

export interface KerasOptions {
  kerasVersion?: string;
  className?: string;
  name?: string;
  /** Batch shape of the InputLayer; null for the batch dimension. */
  inputShape?: (number | null)[];
  dtype?: string;
  /** Layers after the InputLayer; default Dense(8, relu), Dense(3, softmax). */
  layers?: KerasLayer[];
}

/** A Keras 3 style model config (what model.get_config() + class name serialise to). */
export function kerasModelConfig(opts: KerasOptions = {}): Record<string, unknown> {
  const layers = opts.layers ?? [
    { className: 'Dense', name: 'dense', config: { units: 8, activation: 'relu' } },
    { className: 'Dense', name: 'dense_1', config: { units: 3, activation: 'softmax' } },
  ];
  return {
    module: 'keras',
    class_name: opts.className ?? 'Sequential',
    config: {
      name: opts.name ?? 'sequential',
      trainable: true,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: {
            batch_shape: opts.inputShape ?? [null, 4],
            dtype: opts.dtype ?? 'float32',
            sparse: false,
            name: 'input_layer',
          },
        },
        ...layers.map((l, i) => ({
          module: 'keras.layers',
          class_name: l.className,
          config: { name: l.name ?? `layer_${i}`, trainable: true, ...(l.config ?? {}) },
        })),
      ],
    },
    registered_name: null,
    compile_config: {
      optimizer: { module: 'keras.optimizers', class_name: 'Adam', config: { learning_rate: 0.001 } },
      loss: 'sparse_categorical_crossentropy',
    },
  };
}

export interface KerasArchiveOptions extends KerasOptions {
  /** Size of model.weights.h5 (an HDF5 signature followed by zeros); null leaves it out. */
  weightsBytes?: number | null;
  /** Raw config.json text instead of the generated config (e.g. invalid JSON). */
  rawConfig?: string;
  dateSaved?: string;
}

/** A `.keras` zip: metadata.json, config.json, model.weights.h5. */
export async function writeKerasArchive(file: string, opts: KerasArchiveOptions = {}): Promise<void> {
  const metadata = { keras_version: opts.kerasVersion ?? '3.3.3', date_saved: opts.dateSaved ?? '2024-05-01@12:00:00' };
  const members: [string, Buffer][] = [
    ['metadata.json', Buffer.from(JSON.stringify(metadata))],
    ['config.json', Buffer.from(opts.rawConfig ?? JSON.stringify(kerasModelConfig(opts)))],
  ];
  const weightsBytes = opts.weightsBytes === undefined ? 96 : opts.weightsBytes;
  if (weightsBytes !== null) members.push(['model.weights.h5', hdf5Stub(weightsBytes)]);
  await writeZip(file, members);
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

function hdf5Stub(size: number): Buffer {
  const b = Buffer.alloc(Math.max(size, 8));
  HDF5_SIGNATURE.copy(b, 0);
  return b;
}

/** A global heap collection ("GCOL", HDF5 spec III.E) holding the given strings as objects 1..n. */
function globalHeap(strings: string[]): Buffer {
  const objects = strings.map((s, i) => {
    const data = Buffer.from(s, 'utf8');
    const obj = Buffer.alloc(16 + Math.ceil(data.length / 8) * 8);
    obj.writeUInt16LE(i + 1, 0);
    obj.writeUInt16LE(1, 2);
    obj.writeBigUInt64LE(BigInt(data.length), 8);
    data.copy(obj, 16);
    return obj;
  });
  const body = Buffer.concat(objects);
  const size = Math.max(4096, 16 + body.length + 16);
  const heap = Buffer.alloc(size);
  heap.write('GCOL', 0, 'latin1');
  heap[4] = 1;
  heap.writeBigUInt64LE(BigInt(size), 8);
  body.copy(heap, 16);
  // Free-space object (index 0) for the rest.
  heap.writeBigUInt64LE(BigInt(size - 16 - body.length), 16 + body.length + 8);
  return heap;
}

export interface KerasH5Options extends KerasOptions {
  backend?: string;
  /** false: a weights-only file (model.save_weights), no model_config attribute. */
  withModelConfig?: boolean;
  /** Bytes of user block before the HDF5 signature (0, 512, 1024...). */
  userBlock?: number;
}

/**
 * An HDF5-signature file shaped like Keras 2's model.save('x.h5') as far as our reader looks: the
 * root attribute names and a global heap with the keras_version, backend and model_config strings.
 * It is not a complete HDF5 file (h5py cannot open it).
 */
export async function writeKerasH5(file: string, opts: KerasH5Options = {}): Promise<void> {
  const withConfig = opts.withModelConfig ?? true;
  const names = ['keras_version', 'backend', ...(withConfig ? ['model_config'] : ['layer_names'])];
  const attrs = Buffer.concat(
    names.map((n) => {
      const b = Buffer.alloc(Math.ceil((n.length + 1) / 8) * 8 + 24);
      b.write(n, 0, 'latin1');
      return b;
    }),
  );
  const strings = [opts.kerasVersion ?? '2.15.0', opts.backend ?? 'tensorflow'];
  if (withConfig)
    strings.push(
      JSON.stringify(kerasModelConfig({ ...opts, inputShape: opts.inputShape ?? [null, 4] })).replace(
        '"batch_shape"',
        '"batch_input_shape"',
      ),
    );
  await writeFile(
    file,
    Buffer.concat([Buffer.alloc(opts.userBlock ?? 0), hdf5Stub(96), attrs, Buffer.alloc(64), globalHeap(strings)]),
  );
}

/** An HDF5-signature file with no Keras attributes (a plain h5py dataset file, as far as we look). */
export async function writePlainH5(file: string, opts: { userBlock?: number } = {}): Promise<void> {
  const body = Buffer.alloc(512);
  body.write('dataset_x', 128, 'latin1');
  await writeFile(file, Buffer.concat([Buffer.alloc(opts.userBlock ?? 0), hdf5Stub(96), body]));
}

// ---------------------------------------------------------------- TensorFlow SavedModel

export interface TfTensor {
  name: string;
  /** numpy-style dtype name: float32, int64, string... */
  dtype: string;
  /** -1 or "?" for an unknown dimension. */
  shape: (number | string)[];
  /** Graph tensor name; default "<name>:0". */
  tensorName?: string;
}

export interface SavedModelOptions {
  tags?: string[];
  tensorflowVersion?: string;
  signatureName?: string;
  methodName?: string;
  inputs?: TfTensor[];
  outputs?: TfTensor[];
  /** More signature names with the same inputs/outputs. */
  extraSignatures?: string[];
  /** Write variables/variables.index and this many bytes of variables.data-00000-of-00001; false: none. */
  variablesBytes?: number | false;
}

export function savedModelBytes(opts: SavedModelOptions = {}): Buffer {
  const dtypes = reverse(TF_DTYPES);
  const infos = (ts: TfTensor[]) =>
    Object.fromEntries(
      ts.map((t) => [
        t.name,
        {
          name: t.tensorName ?? `${t.name}:0`,
          dtype: dtypes[t.dtype] ?? 0,
          tensor_shape: { dim: t.shape.map((d) => ({ size: typeof d === 'number' ? d : -1 })) },
        },
      ]),
    );
  const signature = {
    inputs: infos(opts.inputs ?? [{ name: 'input_1', dtype: 'float32', shape: [-1, 4] }]),
    outputs: infos(opts.outputs ?? [{ name: 'output_0', dtype: 'float32', shape: [-1, 3] }]),
    method_name: opts.methodName ?? 'tensorflow/serving/predict',
  };
  const names = [opts.signatureName ?? 'serving_default', ...(opts.extraSignatures ?? []), '__saved_model_init_op'];
  const model = {
    saved_model_schema_version: 1,
    meta_graphs: [
      {
        meta_info_def: {
          tags: opts.tags ?? ['serve'],
          tensorflow_version: opts.tensorflowVersion ?? '2.15.0',
          tensorflow_git_version: 'v2.15.0-0-g6887368d6d4',
        },
        signature_def: Object.fromEntries(
          names.map((n) => [n, n === '__saved_model_init_op' ? { outputs: {} } : signature]),
        ),
      },
    ],
  };
  const type = savedModelProtoType();
  return Buffer.from(type.encode(type.fromObject(model)).finish());
}

/** Writes `dir`/saved_model.pb (+ variables/) and returns the path of saved_model.pb. */
export async function writeSavedModel(dir: string, opts: SavedModelOptions = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  const pb = path.join(dir, 'saved_model.pb');
  await writeFile(pb, savedModelBytes(opts));
  const vars = opts.variablesBytes === undefined ? 64 : opts.variablesBytes;
  if (vars !== false) {
    await mkdir(path.join(dir, 'variables'), { recursive: true });
    await writeFile(path.join(dir, 'variables', 'variables.index'), Buffer.alloc(32));
    await writeFile(path.join(dir, 'variables', 'variables.data-00000-of-00001'), Buffer.alloc(vars));
  }
  return pb;
}

// ---------------------------------------------------------------- TFLite

/** A FlatBuffer table: field i is fields[i] (undefined = absent). */
type FbField =
  | { t: 'u8' | 'i8' | 'i32' | 'u32'; v: number }
  | { t: 'str'; v: string }
  | { t: 'i32s'; v: number[] }
  | { t: 'bytes'; v: Buffer }
  | { t: 'table'; v: FbTable }
  | { t: 'tables'; v: FbTable[] };
type FbTable = (FbField | undefined)[];

/** Serialises a FlatBuffer front to back (every offset points forward, vtables precede their tables). */
function buildFlatbuffer(root: FbTable, ident: string): Buffer {
  let buf = Buffer.alloc(1024);
  let pos = 0;
  const ensure = (n: number) => {
    if (pos + n <= buf.length) return;
    const bigger = Buffer.alloc(Math.max(buf.length * 2, pos + n));
    buf.copy(bigger);
    buf = bigger;
  };
  const align = (a: number, extra = 0) => {
    while ((pos + extra) % a) {
      ensure(1);
      buf[pos++] = 0;
    }
  };
  const u32At = (at: number, v: number) => buf.writeUInt32LE(v, at);

  const writeTable = (fields: FbTable): number => {
    align(4);
    const vtable = pos;
    const vtSize = 4 + 2 * fields.length;
    const present = fields.map((f) => f !== undefined);
    const tableSize = 4 + 4 * present.filter(Boolean).length;
    ensure(vtSize + 2);
    buf.writeUInt16LE(vtSize, pos);
    buf.writeUInt16LE(tableSize, pos + 2);
    let slot = 4;
    fields.forEach((f, i) => {
      buf.writeUInt16LE(f ? slot : 0, pos + 4 + 2 * i);
      if (f) slot += 4;
    });
    pos += vtSize;
    align(4);
    const table = pos;
    ensure(tableSize);
    buf.writeInt32LE(table - vtable, table);
    pos += tableSize;
    const pending: [number, FbField][] = [];
    let at = table + 4;
    for (const f of fields) {
      if (!f) continue;
      if (f.t === 'u8') buf.writeUInt8(f.v, at);
      else if (f.t === 'i8') buf.writeInt8(f.v, at);
      else if (f.t === 'i32') buf.writeInt32LE(f.v, at);
      else if (f.t === 'u32') buf.writeUInt32LE(f.v, at);
      else pending.push([at, f]);
      at += 4;
    }
    for (const [slotAt, f] of pending) {
      const target = writeChild(f);
      u32At(slotAt, target - slotAt);
    }
    return table;
  };

  const writeChild = (f: FbField): number => {
    switch (f.t) {
      case 'str': {
        align(4);
        const s = Buffer.from(f.v, 'utf8');
        ensure(4 + s.length + 1);
        const at = pos;
        u32At(at, s.length);
        s.copy(buf, at + 4);
        buf[at + 4 + s.length] = 0;
        pos += 4 + s.length + 1;
        return at;
      }
      case 'i32s': {
        align(4);
        ensure(4 + 4 * f.v.length);
        const at = pos;
        u32At(at, f.v.length);
        f.v.forEach((v, i) => buf.writeInt32LE(v, at + 4 + 4 * i));
        pos += 4 + 4 * f.v.length;
        return at;
      }
      case 'bytes': {
        align(16, 4); // force_align: 16 on the data
        ensure(4 + f.v.length);
        const at = pos;
        u32At(at, f.v.length);
        f.v.copy(buf, at + 4);
        pos += 4 + f.v.length;
        return at;
      }
      case 'table':
        return writeTable(f.v);
      case 'tables': {
        align(4);
        ensure(4 + 4 * f.v.length);
        const at = pos;
        u32At(at, f.v.length);
        pos += 4 + 4 * f.v.length;
        f.v.forEach((t, i) => {
          const target = writeTable(t);
          u32At(at + 4 + 4 * i, target - (at + 4 + 4 * i));
        });
        return at;
      }
      default:
        throw new Error(`buildFlatbuffer: ${f.t} is not an offset field`);
    }
  };

  ensure(8);
  buf.write(ident, 4, 'latin1');
  pos = 8;
  const rootAt = writeTable(root);
  u32At(0, rootAt);
  return buf.subarray(0, pos);
}

export interface TfliteTensor {
  name: string;
  /** float32, int8, uint8, int64... */
  dtype: string;
  shape: number[];
  /** Dimensions with -1 for dynamic ones (Tensor.shape_signature). */
  shapeSignature?: number[];
}

export interface TfliteOptions {
  version?: number;
  description?: string;
  inputs?: TfliteTensor[];
  outputs?: TfliteTensor[];
  /** Constant tensors, each backed by a zero-filled data buffer. */
  constants?: TfliteTensor[];
  signatureKey?: string | null;
  minRuntimeVersion?: string | null;
}

/**
 * A TFLite model with one FULLY_CONNECTED operator: input -> output using the constants.
 * Tensors are ordered inputs, outputs, constants.
 */
export function tfliteBytes(opts: TfliteOptions = {}): Buffer {
  const types = reverse(TFLITE_TYPES);
  const inputs = opts.inputs ?? [
    { name: 'serving_default_x:0', dtype: 'float32', shape: [1, 4], shapeSignature: [-1, 4] },
  ];
  const outputs = opts.outputs ?? [
    { name: 'StatefulPartitionedCall:0', dtype: 'float32', shape: [1, 3], shapeSignature: [-1, 3] },
  ];
  const constants = opts.constants ?? [
    { name: 'dense/kernel', dtype: 'float32', shape: [3, 4] },
    { name: 'dense/bias', dtype: 'float32', shape: [3] },
  ];
  const buffers: FbTable[] = [[]]; // buffer 0: the empty sentinel
  const bytesPer: Record<string, number> = {
    float32: 4,
    float16: 2,
    int32: 4,
    uint8: 1,
    int64: 8,
    bool: 1,
    int16: 2,
    int8: 1,
    float64: 8,
  };
  const tensor = (t: TfliteTensor, buffer: number): FbTable => [
    { t: 'i32s', v: t.shape },
    { t: 'i8', v: types[t.dtype] ?? 0 },
    { t: 'u32', v: buffer },
    { t: 'str', v: t.name },
    undefined,
    undefined,
    undefined,
    t.shapeSignature ? { t: 'i32s', v: t.shapeSignature } : undefined,
  ];
  const tensors: FbTable[] = [...inputs, ...outputs].map((t) => tensor(t, 0));
  for (const c of constants) {
    buffers.push([{ t: 'bytes', v: Buffer.alloc(product(c.shape) * (bytesPer[c.dtype] ?? 4)) }]);
    tensors.push(tensor(c, buffers.length - 1));
  }
  const idx = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i);
  const inIdx = idx(inputs.length, 0);
  const outIdx = idx(outputs.length, inputs.length);
  const constIdx = idx(constants.length, inputs.length + outputs.length);
  const metadata: FbTable[] = [];
  const minRuntime = opts.minRuntimeVersion === undefined ? '1.5.0' : opts.minRuntimeVersion;
  if (minRuntime !== null) {
    const b = Buffer.alloc(16);
    b.write(minRuntime, 'latin1');
    buffers.push([{ t: 'bytes', v: b }]);
    metadata.push([
      { t: 'str', v: 'min_runtime_version' },
      { t: 'u32', v: buffers.length - 1 },
    ]);
  }
  const tensorMap = (names: TfliteTensor[], indices: number[]): FbTable[] =>
    names.map((t, i) => [
      { t: 'str', v: t.name.replace(/:\d+$/, '') },
      { t: 'u32', v: indices[i] },
    ]);
  const signatureKey = opts.signatureKey === undefined ? 'serving_default' : opts.signatureKey;
  const model: FbTable = [
    { t: 'u32', v: opts.version ?? 3 },
    { t: 'tables', v: [[{ t: 'i8', v: 9 }, undefined, { t: 'i32', v: 1 }, { t: 'i32', v: 9 }]] }, // FULLY_CONNECTED
    {
      t: 'tables',
      v: [
        [
          { t: 'tables', v: tensors },
          { t: 'i32s', v: inIdx },
          { t: 'i32s', v: outIdx },
          {
            t: 'tables',
            v: [
              [
                { t: 'u32', v: 0 },
                { t: 'i32s', v: [...inIdx, ...constIdx] },
                { t: 'i32s', v: outIdx },
              ],
            ],
          },
          { t: 'str', v: 'main' },
        ],
      ],
    },
    { t: 'str', v: opts.description ?? 'MLIR Converted.' },
    { t: 'tables', v: buffers },
    undefined,
    metadata.length ? { t: 'tables', v: metadata } : undefined,
    signatureKey !== null
      ? {
          t: 'tables',
          v: [
            [
              { t: 'tables', v: tensorMap(inputs, inIdx) },
              { t: 'tables', v: tensorMap(outputs, outIdx) },
              { t: 'str', v: signatureKey },
              undefined,
              { t: 'u32', v: 0 },
            ],
          ],
        }
      : undefined,
  ];
  return buildFlatbuffer(model, 'TFL3');
}

export async function writeTflite(file: string, opts: TfliteOptions = {}): Promise<void> {
  await writeFile(file, tfliteBytes(opts));
}

/** A solid-colour PNG (RGB), w×h. */
export function solidPng(rgb: [number, number, number], w = 4, h = 4): Buffer {
  const img = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) img.data.set([...rgb, 255], 4 * i);
  return PNG.sync.write(img);
}

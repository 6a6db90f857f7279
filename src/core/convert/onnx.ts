/**
 * Built-in ONNX converters: fp32 → fp16 (onnx-fp16) and int8 weight-only quantisation of MatMul/Gemm
 * weights (onnx-int8). The model is decoded whole with protobufjs, edited and re-encoded; every
 * result is run against the original in onnxruntime (onnxVerify.ts) before it is accepted, unless verify=skip.
 *
 * Limits, on purpose:
 * - Models with tensors in external data files are refused (we would have to rewrite those files).
 * - fp16 converts every float32 tensor and value type, in subgraphs too; only the inputs that ONNX
 *   types as float32 whatever the data (Resize roi/scales, Upsample scales) stay float32. Ops that
 *   onnxruntime's CPU provider has no fp16 kernel for (FP32_OPS: GRU, LSTM, RNN, NonMaxSuppression…)
 *   stay float32 between Casts we write, rather than leaving that to onnxruntime's optimiser.
 *   Model-local functions are kept as they are. Already quantised models (Q/DQ ops) are refused.
 * - int8 quantises the main graph's MatMul/Gemm B initializers only (not subgraphs, not Conv).
 * - Per-channel int8 needs opset 13; older models fall back to per tensor (raising the opset could change
 *   other ops' meaning). Models below opset 10 have no DequantizeLinear and are refused.
 * Checks: the inputs fed are given (`inputs`, example_inputs.npz/.json in the version) or derived
 * (checkInputs.ts); `verify=skip` writes the result unchecked and says so (verified: false).
 * Reports: bytesBefore/bytesAfter are file sizes; maxAbsError is over all float outputs (Infinity when a
 * value overflowed fp16 to Inf where the original was finite).
 */
import * as protobuf from 'protobufjs';
import { promises as fsp } from 'fs';
import { CancelledError, InputError } from '../errors';
import { FileEntry } from '../registry/types';
import * as path from 'path';
import { OrtCrashError } from '../onnxrt/session';
import { GivenInputs, parseInputsParam, readInputsFile } from './checkInputs';
import { compareOnnx, CompareResult, OrtCheckError } from './onnxVerify';
import { f32BitsToF16 } from './safetensors';
import { ConvertOptions, FileConverter, ParamSpec } from './types';

/**
 * onnx/onnx.proto3 (ONNX 1.17, IR 10) with every message and field, because protobufjs drops fields it
 * does not know and a converter must not lose any. Fields newer than this are detected and refused
 * (see unknownField). Enums are written as int32: the same wire format.
 */
export const ONNX_FULL_PROTO = `
syntax = "proto3";
package onnx;
message AttributeProto {
  string name = 1; string ref_attr_name = 21; string doc_string = 13; int32 type = 20;
  float f = 2; int64 i = 3; bytes s = 4; TensorProto t = 5; GraphProto g = 6;
  SparseTensorProto sparse_tensor = 22; TypeProto tp = 14;
  repeated float floats = 7; repeated int64 ints = 8; repeated bytes strings = 9;
  repeated TensorProto tensors = 10; repeated GraphProto graphs = 11;
  repeated SparseTensorProto sparse_tensors = 23; repeated TypeProto type_protos = 15;
}
message ValueInfoProto {
  string name = 1; TypeProto type = 2; string doc_string = 3; repeated StringStringEntryProto metadata_props = 4;
}
message NodeProto {
  repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4;
  string domain = 7; string overload = 8; repeated AttributeProto attribute = 5; string doc_string = 6;
  repeated StringStringEntryProto metadata_props = 9;
  repeated NodeDeviceConfigurationProto device_configurations = 10;
}
message IntIntListEntryProto { int64 key = 1; repeated int64 value = 2; }
message NodeDeviceConfigurationProto {
  string configuration_id = 1; repeated ShardingSpecProto sharding_spec = 2; int32 pipeline_stage = 3;
}
message ShardingSpecProto {
  string tensor_name = 1; repeated int64 device = 2;
  repeated IntIntListEntryProto index_to_device_group_map = 3; repeated ShardedDimProto sharded_dim = 4;
}
message ShardedDimProto { int64 axis = 1; repeated SimpleShardedDimProto simple_sharding = 2; }
message SimpleShardedDimProto {
  oneof dim { int64 dim_value = 1; string dim_param = 2; }
  int64 num_shards = 3;
}
message TrainingInfoProto {
  GraphProto initialization = 1; GraphProto algorithm = 2;
  repeated StringStringEntryProto initialization_binding = 3; repeated StringStringEntryProto update_binding = 4;
}
message ModelProto {
  int64 ir_version = 1; repeated OperatorSetIdProto opset_import = 8; string producer_name = 2;
  string producer_version = 3; string domain = 4; int64 model_version = 5; string doc_string = 6;
  GraphProto graph = 7; repeated StringStringEntryProto metadata_props = 14;
  repeated TrainingInfoProto training_info = 20; repeated FunctionProto functions = 25;
  repeated DeviceConfigurationProto configuration = 26;
}
message DeviceConfigurationProto { string name = 1; int32 num_devices = 2; repeated string device = 3; }
message StringStringEntryProto { string key = 1; string value = 2; }
message TensorAnnotation { string tensor_name = 1; repeated StringStringEntryProto quant_parameter_tensor_names = 2; }
message GraphProto {
  repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5;
  repeated SparseTensorProto sparse_initializer = 15; string doc_string = 10;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; repeated ValueInfoProto value_info = 13;
  repeated TensorAnnotation quantization_annotation = 14; repeated StringStringEntryProto metadata_props = 16;
}
message TensorProto {
  repeated int64 dims = 1; int32 data_type = 2;
  message Segment { int64 begin = 1; int64 end = 2; }
  Segment segment = 3;
  repeated float float_data = 4; repeated int32 int32_data = 5; repeated bytes string_data = 6;
  repeated int64 int64_data = 7; string name = 8; string doc_string = 12; bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13; int32 data_location = 14;
  repeated double double_data = 10; repeated uint64 uint64_data = 11;
  repeated StringStringEntryProto metadata_props = 16;
}
message SparseTensorProto { TensorProto values = 1; TensorProto indices = 2; repeated int64 dims = 3; }
message TensorShapeProto {
  message Dimension {
    oneof value { int64 dim_value = 1; string dim_param = 2; }
    string denotation = 3;
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  message Sequence { TypeProto elem_type = 1; }
  message Map { int32 key_type = 1; TypeProto value_type = 2; }
  message Optional { TypeProto elem_type = 1; }
  message SparseTensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  message Opaque { string domain = 1; string name = 2; }
  oneof value {
    Tensor tensor_type = 1; Sequence sequence_type = 4; Map map_type = 5; Optional optional_type = 9;
    SparseTensor sparse_tensor_type = 8; Opaque opaque_type = 7;
  }
  string denotation = 6;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message FunctionProto {
  string name = 1; repeated string input = 4; repeated string output = 5; repeated string attribute = 6;
  repeated AttributeProto attribute_proto = 11; repeated NodeProto node = 7; string doc_string = 8;
  repeated OperatorSetIdProto opset_import = 9; string domain = 10; string overload = 13;
  repeated ValueInfoProto value_info = 12; repeated StringStringEntryProto metadata_props = 14;
}
`;

// TensorProto.DataType and AttributeProto.AttributeType values used here.
const FLOAT = 1;
const INT8 = 3;
const FLOAT16 = 10;
const ATTR_INT = 2;
const ATTR_TENSOR = 4;

type Int64 = number | { toNumber(): number };
const num = (v: Int64 | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

// The decoded messages, typed loosely: only the fields the converters read or write.
interface Tensor {
  name: string;
  dims: Int64[];
  data_type: number;
  raw_data?: Uint8Array;
  float_data: number[];
  int32_data: number[];
  external_data: unknown[];
  data_location?: number;
}
interface Attribute {
  name: string;
  type?: number;
  f?: number;
  i?: Int64;
  t?: Tensor | null;
  g?: Graph | null;
  floats?: number[];
  tensors?: Tensor[];
  graphs?: Graph[];
}
interface Node {
  input: string[];
  output: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute: Attribute[];
}
interface TypeProto {
  tensor_type?: { elem_type?: number } | null;
  sparse_tensor_type?: { elem_type?: number } | null;
  sequence_type?: { elem_type?: TypeProto | null } | null;
  optional_type?: { elem_type?: TypeProto | null } | null;
  map_type?: { value_type?: TypeProto | null } | null;
}
interface ValueInfo {
  name: string;
  type?: TypeProto | null;
}
interface SparseTensor {
  values?: Tensor | null;
  indices?: Tensor | null;
}
interface Graph {
  node: Node[];
  initializer: Tensor[];
  sparse_initializer: SparseTensor[];
  input: ValueInfo[];
  output: ValueInfo[];
  value_info: ValueInfo[];
}
interface Model {
  ir_version?: Int64;
  opset_import: { domain?: string; version?: Int64 }[];
  graph?: Graph | null;
  functions: { node: Node[] }[];
  training_info: { initialization?: Graph | null; algorithm?: Graph | null }[];
}

let root: protobuf.Root | undefined;
function modelType(): protobuf.Type {
  if (!root) {
    root = protobuf.parse(ONNX_FULL_PROTO, { keepCase: true }).root;
    root.resolveAll(); // unknownField needs every field's resolvedType
  }
  return root.lookupType('onnx.ModelProto');
}

const MAX_DEPTH = 64;

/**
 * The first field in [reader.pos, end) that `type` does not declare ("GraphProto.99"), walking nested
 * messages; protobufjs would silently drop it on decode. Throws on malformed wire data.
 */
function unknownField(reader: protobuf.Reader, end: number, type: protobuf.Type, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) throw new Error('messages nested too deeply');
  while (reader.pos < end) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    const field = type.fieldsById[id];
    if (!field) return `${type.name}.${id}`;
    if (wire === 2 && field.resolvedType instanceof protobuf.Type) {
      const len = reader.uint32();
      const sub = reader.pos + len;
      if (sub > end) throw new Error(`${type.name}.${field.name} runs past the end of its message (truncated?)`);
      const found = unknownField(reader, sub, field.resolvedType, depth + 1);
      if (found) return found;
    } else {
      reader.skipType(wire);
    }
  }
  if (reader.pos > end) throw new Error(`${type.name} runs past its end (truncated?)`);
  return undefined;
}

/** Reads the whole file (reporting bytes, honouring cancel) and decodes it, refusing what we cannot round-trip. */
async function readModel(src: string, opts: ConvertOptions): Promise<{ model: Model; size: number }> {
  const fh = await fsp.open(src, 'r');
  let buf: Buffer;
  try {
    const { size } = await fh.stat();
    if (size >= 2 ** 31)
      throw new InputError(
        src,
        `${size} bytes is past protobuf's 2 GB limit; such models keep their weights in external data, which is not supported`,
      );
    buf = Buffer.allocUnsafe(size);
    for (let pos = 0; pos < size;) {
      if (opts.signal?.aborted) throw new CancelledError();
      const { bytesRead } = await fh.read(buf, pos, Math.min(1 << 24, size - pos), pos);
      if (bytesRead === 0) throw new InputError(src, 'the file shrank while it was being read');
      pos += bytesRead;
      opts.onBytes?.(bytesRead);
    }
  } finally {
    await fh.close();
  }
  if (buf.length === 0) throw new InputError(src, 'empty file, not an ONNX model');
  const type = modelType();
  let unknown: string | undefined;
  let model: Model;
  try {
    unknown = unknownField(protobuf.Reader.create(buf), buf.length, type);
    model = type.decode(buf) as unknown as Model;
  } catch (e) {
    throw new InputError(src, `not an ONNX model, or truncated (${(e as Error).message})`);
  }
  if (unknown?.startsWith('ModelProto.'))
    throw new InputError(src, `not an ONNX model (field ${unknown} is not part of ONNX)`);
  if (unknown)
    throw new InputError(
      src,
      `has ONNX field ${unknown}, newer than this converter knows; refusing rather than dropping it`,
    );
  if (!model.graph || !num(model.ir_version))
    throw new InputError(src, 'not an ONNX model (no ir_version or no graph)');
  for (const t of allTensors(model)) {
    if (t.external_data.length || t.data_location === 1) {
      throw new InputError(src, `external data is not supported (tensor '${t.name}' is stored outside the .onnx file)`);
    }
  }
  return { model, size: buf.length };
}

/** The graph and its subgraphs (If/Loop/Scan bodies), depth first. */
function* graphs(g: Graph): Generator<Graph> {
  yield g;
  for (const n of g.node) {
    for (const a of n.attribute) {
      if (a.g) yield* graphs(a.g);
      for (const sub of a.graphs ?? []) yield* graphs(sub);
    }
  }
}

/** Every tensor the model stores: initializers, sparse initializers and tensor attributes, in every graph and function. */
function* allTensors(m: Model): Generator<Tensor> {
  const asGraph = (node: Node[]): Graph => ({
    node,
    initializer: [],
    sparse_initializer: [],
    input: [],
    output: [],
    value_info: [],
  });
  const roots = [
    m.graph,
    ...m.training_info.flatMap((t) => [t.initialization, t.algorithm]),
    ...m.functions.map((f) => asGraph(f.node)),
  ];
  for (const r of roots) {
    if (!r) continue;
    for (const g of graphs(r)) {
      yield* g.initializer;
      for (const s of g.sparse_initializer) {
        if (s.values) yield s.values;
        if (s.indices) yield s.indices;
      }
      for (const n of g.node) {
        for (const a of n.attribute) {
          if (a.t) yield a.t;
          yield* a.tensors ?? [];
        }
      }
    }
  }
}

function elements(t: Tensor): number {
  return t.dims.reduce((p: number, d) => p * num(d), 1);
}

/** A FLOAT tensor's values, from raw_data (little-endian) or float_data; checks the count against dims. */
function floatValues(src: string, t: Tensor): Float32Array {
  let vals: Float32Array;
  if (t.raw_data && t.raw_data.length) {
    if (t.raw_data.length % 4)
      throw new InputError(src, `tensor '${t.name}' has ${t.raw_data.length} raw bytes, not a multiple of 4`);
    vals = new Float32Array(new Uint8Array(t.raw_data).buffer); // copy: raw_data may be an unaligned view
  } else {
    vals = Float32Array.from(t.float_data);
  }
  if (vals.length !== elements(t))
    throw new InputError(
      src,
      `tensor '${t.name}' has ${vals.length} values but its dims [${t.dims.map(num)}] need ${elements(t)}`,
    );
  return vals;
}

/** Rewrites a FLOAT tensor as FLOAT16 in raw_data. */
function toHalf(src: string, t: Tensor): void {
  const bits = new Uint32Array(floatValues(src, t).buffer);
  const out = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToF16(bits[i]);
  t.data_type = FLOAT16;
  t.raw_data = Buffer.from(out.buffer);
  t.float_data = [];
}

function retype(t: TypeProto | null | undefined): void {
  if (!t) return;
  for (const tt of [t.tensor_type, t.sparse_tensor_type]) if (tt?.elem_type === FLOAT) tt.elem_type = FLOAT16;
  retype(t.sequence_type?.elem_type);
  retype(t.optional_type?.elem_type);
  retype(t.map_type?.value_type);
}

const isFloatTensor = (v: ValueInfo) => v.type?.tensor_type?.elem_type === FLOAT;
const isDefaultDomain = (n: Node) => !n.domain || n.domain === 'ai.onnx';
const attr = (n: Node, name: string) => n.attribute.find((a) => a.name === name);
const intAttr = (name: string, i: number): Attribute => ({ name, type: ATTR_INT, i });

/** Names no value, node or initializer uses yet: base, base_1, base_2... */
function namer(model: Model): (base: string) => string {
  const used = new Set<string>();
  for (const g of graphs(model.graph!)) {
    for (const n of g.node) [...n.input, ...n.output, n.name ?? ''].forEach((s) => used.add(s));
    for (const v of [...g.input, ...g.output, ...g.value_info, ...g.initializer]) used.add(v.name);
  }
  return (base) => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
}

/** Renames value `from` to `to` in the main graph, and where subgraphs read it from the outer scope. */
function renameValue(g: Graph, from: string, to: string): void {
  const swap = (list: string[]) =>
    list.forEach((s, i) => {
      if (s === from) list[i] = to;
    });
  for (const sub of graphs(g)) for (const n of sub.node) swap(n.input);
  for (const n of g.node) swap(n.output);
  for (const v of [...g.initializer, ...g.value_info, ...g.input]) if (v.name === from) v.name = to;
}

// Ops that mean the model is already quantised; converting those to fp16 would mix in float32 scales.
const QUANTISED_OPS = new Set([
  'QuantizeLinear',
  'DequantizeLinear',
  'DynamicQuantizeLinear',
  'QLinearConv',
  'QLinearMatMul',
  'MatMulInteger',
  'ConvInteger',
]);
// Inputs ONNX types as float32 (or a separate type variable) whatever the data type: keep them float32.
const FLOAT32_INPUTS: Record<string, number[]> = { Resize: [1, 2], Upsample: [1] };

/**
 * Ops kept in float32, with Casts around them: onnxruntime's CPU provider has no float16 kernel for
 * them, and leaving the fix-up to onnxruntime (it inserts Casts itself while optimising the graph) is
 * fragile: the probe saw fp16 GRUs crash its full optimisation. The idea follows onnxconverter-common's
 * op block list, plus the recurrent ops. `t` lists the inputs of the op's float type T ('all' for
 * variadic ops), `out` its outputs of type T; `floatOnly` says the schema allows only float T, so
 * those inputs are float whatever we know of their types (otherwise only inputs known to be float32
 * are cast: Range or Max can run on integers).
 */
const FP32_OPS: Record<string, { t: number[] | 'all'; out: number[]; floatOnly: boolean }> = {
  GRU: { t: [0, 1, 2, 3, 5], out: [0, 1], floatOnly: true },
  RNN: { t: [0, 1, 2, 3, 5], out: [0, 1], floatOnly: true },
  LSTM: { t: [0, 1, 2, 3, 5, 6, 7], out: [0, 1, 2], floatOnly: true },
  NonMaxSuppression: { t: [0, 1, 3, 4], out: [], floatOnly: true },
  RoiAlign: { t: [0, 1], out: [0], floatOnly: true },
  TopK: { t: [0], out: [0], floatOnly: false },
  Range: { t: [0, 1, 2], out: [0], floatOnly: false },
  CumSum: { t: [0], out: [0], floatOnly: false },
  Min: { t: 'all', out: [0], floatOnly: false },
  Max: { t: 'all', out: [0], floatOnly: false },
};

/** Ops whose first output has the type of their first input: enough to follow float32 through most graphs. */
const SAME_TYPE_OPS = new Set([
  'Abs',
  'Add',
  'AveragePool',
  'BatchNormalization',
  'Ceil',
  'Clip',
  'Concat',
  'Conv',
  'ConvTranspose',
  'Cos',
  'Div',
  'Dropout',
  'Elu',
  'Erf',
  'Exp',
  'Expand',
  'Flatten',
  'Floor',
  'Gather',
  'GatherElements',
  'GatherND',
  'Gelu',
  'Gemm',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'HardSigmoid',
  'HardSwish',
  'Identity',
  'InstanceNormalization',
  'LayerNormalization',
  'LeakyRelu',
  'Log',
  'LogSoftmax',
  'MatMul',
  'MaxPool',
  'Mul',
  'Neg',
  'Pad',
  'Pow',
  'PRelu',
  'Reciprocal',
  'ReduceMax',
  'ReduceMean',
  'ReduceMin',
  'ReduceSum',
  'Relu',
  'Reshape',
  'Resize',
  'Round',
  'Selu',
  'Sigmoid',
  'Sign',
  'Sin',
  'Slice',
  'Softmax',
  'Softplus',
  'Split',
  'Sqrt',
  'Squeeze',
  'Sub',
  'Sum',
  'Tanh',
  'Tile',
  'Transpose',
  'Unsqueeze',
  'Upsample',
  'Where',
  ...Object.keys(FP32_OPS),
]);

/** Names of values that are float32 in the (unconverted) model, from declared types, tensors and a forward pass over SAME_TYPE_OPS and Casts. */
function float32Values(main: Graph): Set<string> {
  const f = new Set<string>();
  for (const g of graphs(main)) {
    for (const v of [...g.input, ...g.output, ...g.value_info]) if (isFloatTensor(v)) f.add(v.name);
    for (const t of g.initializer) if (t.data_type === FLOAT) f.add(t.name);
  }
  for (const g of graphs(main)) {
    for (const n of g.node) {
      if (!isDefaultDomain(n)) continue;
      const isFloat =
        n.op_type === 'Constant'
          ? attr(n, 'value')?.t?.data_type === FLOAT || !!attr(n, 'value_float') || !!attr(n, 'value_floats')
          : n.op_type === 'Cast'
            ? num(attr(n, 'to')?.i) === FLOAT
            : n.op_type === 'Where'
              ? f.has(n.input[1])
              : SAME_TYPE_OPS.has(n.op_type) && f.has(n.input[0]);
      if (isFloat && n.output[0]) f.add(n.output[0]);
      // Recurrent ops: every output has type T.
      if (isFloat && (n.op_type === 'GRU' || n.op_type === 'RNN' || n.op_type === 'LSTM'))
        n.output.forEach((o) => o && f.add(o));
    }
  }
  return f;
}

/**
 * Wraps every FP32_OPS node in Casts: float16 → float32 before its float inputs, float32 → float16
 * after its float outputs, so the rest of the graph converts as usual. Runs before any retyping.
 * Returns the Cast nodes it made (the fp16 pass must not turn their `to=FLOAT` into FLOAT16) and the
 * op types it kept in float32.
 */
function wrapFp32Ops(model: Model, keep: Set<string>): { casts: Set<Node>; wrapped: string[] } {
  const floats = float32Values(model.graph!);
  const fresh = namer(model);
  const made = new Set<Node>();
  const wrapped: string[] = [];
  const cast = (from: string, to: string, type: number): Node => {
    const c: Node = {
      op_type: 'Cast',
      name: fresh(`${to}_cast`),
      input: [from],
      output: [to],
      attribute: [intAttr('to', type)],
    };
    made.add(c);
    return c;
  };
  for (const g of graphs(model.graph!)) {
    const nodes: Node[] = [];
    const toFloat32 = new Map<string, string>(); // one Cast per value and graph
    for (const n of g.node) {
      const spec = isDefaultDomain(n) ? FP32_OPS[n.op_type] : undefined;
      if (!spec) {
        nodes.push(n);
        continue;
      }
      const tInputs = spec.t === 'all' ? n.input.map((_, i) => i) : spec.t;
      const isFloat = (name: string) => name !== '' && (spec.floatOnly || floats.has(name));
      let anyFloat = false;
      for (const i of tInputs) {
        const name = n.input[i];
        if (!name || !isFloat(name)) continue;
        anyFloat = true;
        if (keep.has(name)) continue; // stays float32 already (Resize scales and the like)
        let f32 = toFloat32.get(name);
        if (!f32) {
          f32 = fresh(`${name}_fp32`);
          toFloat32.set(name, f32);
          nodes.push(cast(name, f32, FLOAT));
        }
        n.input[i] = f32;
      }
      nodes.push(n);
      if (!anyFloat) continue;
      wrapped.push(n.op_type);
      for (const i of spec.out) {
        const name = n.output[i];
        if (!name) continue;
        const f32 = fresh(`${name}_fp32`);
        n.output[i] = f32;
        nodes.push(cast(f32, name, FLOAT16));
      }
    }
    g.node = nodes;
  }
  return { casts: made, wrapped };
}

interface Fp16Result {
  tensorsConverted: number;
  castsInserted: number;
  keptFloat32: string[];
}

/** Converts the decoded model in place. */
function convertFp16(src: string, model: Model, keepIo: boolean): Fp16Result {
  const main = model.graph!;
  const keep = new Set<string>();
  for (const g of graphs(main)) {
    for (const n of g.node) {
      if (!isDefaultDomain(n)) continue;
      if (QUANTISED_OPS.has(n.op_type))
        throw new InputError(src, `is already quantised (it has ${n.op_type} nodes); convert the float model instead`);
      for (const i of FLOAT32_INPUTS[n.op_type] ?? []) if (n.input[i]) keep.add(n.input[i]);
    }
  }
  const { casts: ownCasts, wrapped } = wrapFp32Ops(model, keep);
  const keptFloat32 = [...new Set(wrapped)].sort();
  // The graph's real inputs (not initializers, not node outputs as in some IR 3 models) and outputs that keep_io_types leaves float32.
  const produced = new Set(main.node.flatMap((n) => n.output));
  const inits = new Set(main.initializer.map((t) => t.name));
  const ioInputs = keepIo
    ? main.input.filter((v) => isFloatTensor(v) && !keep.has(v.name) && !inits.has(v.name) && !produced.has(v.name))
    : [];
  const ioOutputs = keepIo ? main.output.filter((v) => isFloatTensor(v) && !keep.has(v.name)) : [];

  let tensorsConverted = 0;
  const half = (t: Tensor) => {
    toHalf(src, t);
    tensorsConverted++;
  };
  for (const g of graphs(main)) {
    for (const t of g.initializer) if (t.data_type === FLOAT && !keep.has(t.name)) half(t);
    for (const s of g.sparse_initializer) if (s.values?.data_type === FLOAT && !keep.has(s.values.name)) half(s.values);
    for (const v of [...g.input, ...g.output, ...g.value_info]) if (!keep.has(v.name)) retype(v.type);
    for (const n of g.node) {
      if (!isDefaultDomain(n) || ownCasts.has(n) || n.output.some((o) => keep.has(o))) continue;
      // Ops whose output type comes from an attribute rather than from their inputs.
      if (n.op_type === 'Constant' || n.op_type === 'ConstantOfShape') {
        const value = attr(n, 'value');
        if (value?.t?.data_type === FLOAT) half(value.t);
        const vf = attr(n, 'value_float') ?? attr(n, 'value_floats');
        if (vf) {
          // Constant(value_float[s]) always makes float32: restate it as a float16 `value` tensor.
          const vals = vf.name === 'value_float' ? [vf.f ?? 0] : (vf.floats ?? []);
          const t: Tensor = {
            name: '',
            dims: vf.name === 'value_float' ? [] : [vals.length],
            data_type: FLOAT,
            raw_data: Buffer.from(Float32Array.from(vals).buffer),
            float_data: [],
            int32_data: [],
            external_data: [],
          };
          half(t);
          n.attribute = n.attribute.filter((a) => a !== vf).concat({ name: 'value', type: ATTR_TENSOR, t });
        }
        if (n.op_type === 'ConstantOfShape' && !value) {
          // No value means float32 zeros; say float16 zeros instead.
          n.attribute.push({
            name: 'value',
            type: ATTR_TENSOR,
            t: {
              name: '',
              dims: [1],
              data_type: FLOAT16,
              raw_data: Buffer.alloc(2),
              float_data: [],
              int32_data: [],
              external_data: [],
            },
          });
        }
      } else if (n.op_type === 'Cast') {
        const to = attr(n, 'to');
        if (to && num(to.i) === FLOAT) to.i = FLOAT16;
      } else if (n.op_type === 'RandomNormal' || n.op_type === 'RandomUniform') {
        const dtype = attr(n, 'dtype');
        if (!dtype) n.attribute.push(intAttr('dtype', FLOAT16));
        else if (num(dtype.i) === FLOAT) dtype.i = FLOAT16;
      }
    }
  }
  if (tensorsConverted === 0)
    throw new InputError(src, 'has no float32 initializers or constants to convert to float16');

  // keep_io_types: float32 in, Cast to float16, ..., Cast back to float32 out, under the original names.
  const fresh = namer(model);
  const before: Node[] = [];
  const after: Node[] = [];
  const cast = (from: string, to: string, type: number): Node => ({
    op_type: 'Cast',
    name: fresh(`${to}_cast`),
    input: [from],
    output: [to],
    attribute: [intAttr('to', type)],
  });
  const asFloat = (v: ValueInfo) => {
    v.type!.tensor_type!.elem_type = FLOAT;
  };
  const kept = new Set<string>();
  for (const v of ioInputs) {
    const name = v.name;
    const inner = fresh(`${name}_fp16`);
    renameValue(main, name, inner);
    v.name = name; // renameValue renamed the graph input too; it keeps its name and type
    asFloat(v);
    before.push(cast(name, inner, FLOAT16));
    kept.add(name);
  }
  for (const v of ioOutputs) {
    asFloat(v);
    if (kept.has(v.name)) continue; // a float32 input passed straight through, or an output listed twice
    const inner = fresh(`${v.name}_fp16`);
    renameValue(main, v.name, inner);
    after.push(cast(inner, v.name, FLOAT));
    kept.add(v.name);
  }
  main.node = [...before, ...main.node, ...after];
  return { tensorsConverted, castsInserted: before.length + after.length + ownCasts.size, keptFloat32 };
}

interface Int8Result {
  weightsQuantized: number;
  perChannel: boolean;
  weightBytesBefore: number;
  weightBytesAfter: number;
}

/** The default-domain opset the model imports. */
function opset(model: Model): number {
  const o = model.opset_import.find((x) => !x.domain || x.domain === 'ai.onnx');
  return o ? num(o.version) : 1;
}

/**
 * Replaces each big enough float32 weight W (MatMul input B, Gemm input B) by int8 W_quantized, a float32
 * scale and a zero zero-point, plus DequantizeLinear → W, so every consumer still reads float W.
 */
function quantizeInt8(
  src: string,
  model: Model,
  perChannel: boolean,
  minElements: number,
  log: (line: string) => void,
): Int8Result {
  const g = model.graph!;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  // weight name → quantisation axis its consumers want (null: they disagree, so per-tensor)
  const axes = new Map<string, number | null>();
  let small = 0;
  let computed = 0;
  for (const n of g.node) {
    if (!isDefaultDomain(n) || (n.op_type !== 'MatMul' && n.op_type !== 'Gemm') || !n.input[1]) continue;
    const w = inits.get(n.input[1]);
    if (!w) {
      computed++;
      continue;
    }
    const rank = w.dims.length;
    if (w.data_type !== FLOAT || rank < 2 || (n.op_type === 'Gemm' && rank !== 2)) continue;
    if (elements(w) < minElements) {
      small++;
      continue;
    }
    // The output-channel axis: N of MatMul's [..., K, N]; Gemm's B is [K, N], or [N, K] when transB=1.
    const transB = n.op_type === 'Gemm' && num(attr(n, 'transB')?.i) === 1;
    const axis = n.op_type === 'Gemm' ? (transB ? 0 : 1) : rank - 1;
    const prev = axes.get(w.name);
    axes.set(w.name, prev === undefined || prev === axis ? axis : null);
  }
  if (axes.size === 0) {
    const why = [
      small && `${small} smaller than min_elements=${minElements}`,
      computed && `${computed} computed by nodes (e.g. ConstantOfShape) rather than stored`,
    ].filter(Boolean);
    throw new InputError(
      src,
      `nothing to quantize: no float32 MatMul/Gemm weight initializer with at least ${minElements} elements${why.length ? ` (${why.join('; ')})` : ''}`,
    );
  }
  const version = opset(model);
  if (version < 10)
    throw new InputError(
      src,
      `uses opset ${version}, which has no DequantizeLinear (opset 10+); upgrade the model's opset first`,
    );
  if (perChannel && version < 13) {
    // Raising the opset could change the meaning of other ops (Softmax, Slice...), so stay per-tensor.
    log(
      `per_channel needs DequantizeLinear from opset 13; the model uses opset ${version}, so weights are quantized per tensor`,
    );
    perChannel = false;
  }

  const fresh = namer(model);
  const dq: Node[] = [];
  let weightBytesBefore = 0;
  let weightBytesAfter = 0;
  for (const [name, axisWanted] of axes) {
    const w = inits.get(name)!;
    const dims = w.dims.map(num);
    const vals = floatValues(src, w);
    const axis = perChannel && axisWanted !== null ? axisWanted : undefined;
    const channels = axis === undefined ? 1 : dims[axis];
    const inner = axis === undefined ? vals.length : dims.slice(axis + 1).reduce((p, d) => p * d, 1);
    const channelOf = (i: number) => Math.floor(i / inner) % channels;
    const maxAbs = new Float32Array(channels);
    for (let i = 0; i < vals.length; i++) maxAbs[channelOf(i)] = Math.max(maxAbs[channelOf(i)], Math.abs(vals[i]));
    if (maxAbs.some((m) => !Number.isFinite(m))) {
      log(`${name}: not quantized, it holds NaN or Inf`);
      continue;
    }
    // Symmetric: [-max, max] → [-127, 127]; an all-zero channel gets scale 1 so nothing divides by 0.
    const scale = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
    const q = new Int8Array(vals.length);
    for (let i = 0; i < vals.length; i++)
      q[i] = Math.max(-127, Math.min(127, Math.round(vals[i] / scale[channelOf(i)])));

    const qName = fresh(`${name}_quantized`);
    const sName = fresh(`${name}_scale`);
    const zName = fresh(`${name}_zero_point`);
    const cdims = axis === undefined ? [] : [channels];
    const tensor = (tname: string, tdims: number[], type: number, raw: Uint8Array): Tensor => ({
      name: tname,
      dims: tdims,
      data_type: type,
      raw_data: raw,
      float_data: [],
      int32_data: [],
      external_data: [],
    });
    const added = [
      tensor(qName, dims, INT8, Buffer.from(q.buffer)),
      tensor(sName, cdims, FLOAT, Buffer.from(scale.buffer)),
      tensor(zName, cdims, INT8, Buffer.alloc(channels)),
    ];
    g.initializer.splice(g.initializer.indexOf(w), 1, ...added);
    // W is now a node output; in IR < 4 models it was also listed as a graph input.
    g.input = g.input.filter((v) => v.name !== name);
    dq.push({
      op_type: 'DequantizeLinear',
      name: fresh(`${name}_dequantize`),
      input: [qName, sName, zName],
      output: [name],
      attribute: axis === undefined ? [] : [intAttr('axis', axis)],
    });
    weightBytesBefore += vals.length * 4;
    weightBytesAfter += added.reduce((p, t) => p + t.raw_data!.length, 0);
  }
  if (dq.length === 0) throw new InputError(src, 'nothing to quantize: every MatMul/Gemm weight holds NaN or Inf');
  g.node = [...dq, ...g.node];
  return { weightsQuantized: dq.length, perChannel, weightBytesBefore, weightBytesAfter };
}

const isOnnx = (file: FileEntry) => file.path.toLowerCase().endsWith('.onnx');
const bool = (v: string | undefined, dflt: boolean) => (v === undefined ? dflt : v === 'true');
const kb = (n: number) => `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;

/** Parameters both converters take: what the check feeds, and whether it runs at all. */
const CHECK_PARAMS: ParamSpec[] = [
  {
    name: 'inputs',
    description:
      'Inputs for the onnxruntime check: name=[1,512]; sr=16000; state=[2,1,128]:0 (a shape is random values, :v fills it), JSON, or the path of an .npz/.json of example inputs in the version. Default: example_inputs.npz/.json beside the model if the version has one, else derived from the graph',
    default: '',
  },
  {
    name: 'verify',
    description:
      'check: run the original and the converted model in onnxruntime and compare; skip: do not (the version is recorded as unverified)',
    default: 'check',
    choices: ['check', 'skip'],
  },
];

const EXAMPLE_INPUTS = ['example_inputs.npz', 'example_inputs.json'];

/** The inputs the check feeds, from the `inputs` parameter or an example-inputs file of the version. */
async function givenInputs(src: string, opts: ConvertOptions): Promise<{ inputs: GivenInputs; from?: string }> {
  const text = (opts.params.inputs ?? '').trim();
  const asFile = /\.(npz|json)$/i.test(text) && !/[={;]/.test(text);
  if (text && !asFile) return { inputs: parseInputsParam(text, src) };
  const dir = opts.path ? path.posix.dirname(opts.path) : '.';
  const candidates = asFile ? [text] : [...EXAMPLE_INPUTS.map((n) => path.posix.join(dir, n)), ...EXAMPLE_INPUTS];
  for (const c of candidates) {
    const file = opts.versionFile?.(c);
    if (file) return { inputs: await readInputsFile(file, c), from: c };
  }
  if (asFile)
    throw new InputError(
      src,
      `inputs=${text}: the version has no file ${text}${opts.versionFile ? '' : ' (example-input files are read from the version being converted)'}`,
    );
  return { inputs: {} };
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toPrecision(3) : String(x));

/** What the check says, for the log: error, inputs, warnings. */
function describeCheck(c: CompareResult | undefined): string {
  if (!c) return 'NOT verified (verify=skip)';
  const inputs = Object.entries(c.inputs)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `max abs error ${fmt(c.maxAbsError)} (relative ${fmt(c.maxRelError)}) over ${c.inputsTried} input set${c.inputsTried === 1 ? '' : 's'} (${inputs})`;
}

interface Rewritten {
  bytesBefore: number;
  bytesAfter: number;
  check?: CompareResult;
  checkReport: Record<string, unknown>;
}

/**
 * Shared tail of both converters: read, edit, write `dest`, then run both models in onnxruntime
 * (unless verify=skip). `edit` changes the model in place and returns its part of the report.
 */
async function rewrite(src: string, dest: string, opts: ConvertOptions, edit: (m: Model) => void): Promise<Rewritten> {
  const verify = opts.params.verify ?? 'check';
  if (verify !== 'check' && verify !== 'skip')
    throw new InputError(src, `verify must be check or skip, not '${verify}'`);
  const given = verify === 'check' ? await givenInputs(src, opts) : { inputs: {} };
  const { model, size } = await readModel(src, opts);
  edit(model);
  if (opts.signal?.aborted) throw new CancelledError();
  const bytes = modelType()
    .encode(model as unknown as protobuf.Message)
    .finish();
  await fsp.writeFile(dest, bytes, { flag: 'wx' });
  if (opts.signal?.aborted) throw new CancelledError();
  if (verify === 'skip') return { bytesBefore: size, bytesAfter: bytes.length, checkReport: { verified: false } };
  if (given.from) opts.log?.(`checking with the example inputs in ${given.from}`);
  let check: CompareResult;
  try {
    check = await compareOnnx(src, dest, {
      runs: 3,
      seed: 1,
      inputs: given.inputs,
      signal: opts.signal,
      log: opts.log,
    });
  } catch (e) {
    if (e instanceof OrtCheckError) {
      const which = e.file === dest ? 'the converted model' : 'the original model';
      const what =
        e.cause instanceof OrtCrashError
          ? `onnxruntime crashed (${e.cause.how}) ${e.cause.phase} ${which}`
          : `${e.cause.message.replace('the model', which)}`;
      throw new InputError(src, `${what}; nothing was registered`);
    }
    if (e instanceof InputError && e.file === dest)
      throw new InputError(src, `the converted model fails in onnxruntime: ${e.problem}`);
    if (e instanceof InputError)
      throw new InputError(
        src,
        `cannot check the conversion, onnxruntime fails on the original: ${e.problem}. Give the check example inputs (inputs=name=[shape];name=value, or an example_inputs.npz in the version), or convert with verify=skip`,
      );
    throw e;
  }
  if (opts.signal?.aborted) throw new CancelledError();
  if (check.constantOutputs.length) {
    opts.log?.(
      `warning: output${check.constantOutputs.length > 1 ? 's' : ''} ${check.constantOutputs.join(', ')} of the original did not change over the inputs tried (a saturated model?); the check compares little there — give real example inputs`,
    );
  }
  return {
    bytesBefore: size,
    bytesAfter: bytes.length,
    check,
    checkReport: {
      verified: true,
      maxAbsError: check.maxAbsError,
      maxRelError: check.maxRelError,
      inputsTried: check.inputsTried,
      checkInputs: check.inputs,
      ...(given.from ? { exampleInputs: given.from } : {}),
      ...(check.constantOutputs.length ? { constantOutputs: check.constantOutputs } : {}),
    },
  };
}

export const onnxFp16: FileConverter = {
  id: 'onnx-fp16',
  title: 'ONNX to float16',
  targetDtype: 'fp16',
  description:
    'Stores float32 weights, constants and activations of an ONNX model as float16 (half the size); ops onnxruntime cannot run in float16 (GRU, LSTM, NonMaxSuppression…) stay float32 between Casts; checked against the original in onnxruntime.',
  targetFormat: 'onnx',
  params: [
    {
      name: 'keep_io_types',
      description: 'Keep graph inputs and outputs float32, with Cast nodes around the float16 graph',
      default: 'true',
      choices: ['true', 'false'],
    },
    ...CHECK_PARAMS,
  ],
  accepts: isOnnx,
  outputPath: (path) => path,
  async convert(src, dest, opts) {
    const keepIo = bool(opts.params.keep_io_types, true);
    let f: Fp16Result | undefined;
    const r = await rewrite(src, dest, opts, (m) => {
      f = convertFp16(src, m, keepIo);
    });
    const kept = f!.keptFloat32.length ? `, kept float32: ${f!.keptFloat32.join(', ')}` : '';
    opts.log?.(
      `onnx-fp16 ${src}: ${f!.tensorsConverted} tensors to float16, ${f!.castsInserted} Cast nodes${kept}, ${kb(r.bytesBefore)} → ${kb(r.bytesAfter)}, ${describeCheck(r.check)}`,
    );
    return {
      tensorsConverted: f!.tensorsConverted,
      ...(f!.keptFloat32.length ? { keptFloat32: f!.keptFloat32 } : {}),
      bytesBefore: r.bytesBefore,
      bytesAfter: r.bytesAfter,
      ...r.checkReport,
    };
  },
};

export const onnxInt8: FileConverter = {
  id: 'onnx-int8',
  title: 'ONNX int8 weights',
  targetDtype: 'int8',
  description:
    'Quantizes the float32 weights of MatMul and Gemm to int8 (symmetric, a DequantizeLinear before each use); checked against the original in onnxruntime.',
  targetFormat: 'onnx',
  params: [
    {
      name: 'per_channel',
      description:
        'One scale per output channel instead of one per weight (needs opset 13; older models stay per tensor)',
      default: 'false',
      choices: ['true', 'false'],
    },
    { name: 'min_elements', description: 'Leave weights with fewer elements than this in float32', default: '64' },
    ...CHECK_PARAMS,
  ],
  accepts: isOnnx,
  outputPath: (path) => path,
  async convert(src, dest, opts) {
    const minElements = Number(opts.params.min_elements ?? '64');
    if (!Number.isInteger(minElements) || minElements < 0)
      throw new Error(`onnx-int8: min_elements must be a whole number, not '${opts.params.min_elements}'`);
    let q: Int8Result | undefined;
    const r = await rewrite(src, dest, opts, (m) => {
      q = quantizeInt8(src, m, bool(opts.params.per_channel, false), minElements, (line) =>
        opts.log?.(`onnx-int8 ${src}: ${line}`),
      );
    });
    opts.log?.(
      `onnx-int8 ${src}: ${q!.weightsQuantized} weights to int8 ${q!.perChannel ? 'per channel' : 'per tensor'} (${kb(q!.weightBytesBefore)} → ${kb(q!.weightBytesAfter)}), file ${kb(r.bytesBefore)} → ${kb(r.bytesAfter)}, ${describeCheck(r.check)}`,
    );
    return {
      weightsQuantized: q!.weightsQuantized,
      bytesBefore: r.bytesBefore,
      bytesAfter: r.bytesAfter,
      perChannel: q!.perChannel,
      ...r.checkReport,
    };
  },
};

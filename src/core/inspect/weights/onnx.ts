/**
 * ONNX models: a single ModelProto protobuf (up to 2 GiB; bigger weights live in external data
 * files). Tensor contents are skipped while scanning the file, so only the structure is read.
 */
import { InputError } from '../../errors';
import type { TensorSpec, WeightInfo } from '../types';
import { ONNX_DTYPES, onnxModelType } from './onnxSchema';
import { pruneProtobufFile, WireError, type Prune } from './protoScan';
import { countInto, elementCount, errText, toNum, topEntries } from './read';

/**
 * Field numbers from onnx.proto3 of what is never needed: tensor data, training info. Node
 * attributes are kept (a Constant node holds a weight tensor, If/Loop/Scan hold whole subgraphs
 * with initializers of their own), with their tensors' data dropped the same way.
 */
const TENSOR: Prune = { skip: [4, 5, 6, 7, 9, 10, 11] }; // TensorProto *_data and raw_data
const GRAPH: Prune = { skip: [13, 14, 15] }; // GraphProto.value_info, quantization_annotation, sparse_initializer
const NODE: Prune = {};
const ATTRIBUTE: Prune = { nested: { 5: TENSOR, 6: GRAPH, 10: TENSOR, 11: GRAPH } }; // t, g, tensors, graphs
GRAPH.nested = { 1: NODE, 5: TENSOR };
NODE.nested = { 5: ATTRIBUTE };
const PLAN: Prune = { skip: [20, 25], nested: { 7: GRAPH } }; // ModelProto.training_info, functions

interface Dim {
  dim_value?: unknown;
  dim_param?: string;
}
interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim?: Dim[] } };
  sparse_tensor_type?: { elem_type?: number; shape?: { dim?: Dim[] } };
  sequence_type?: { elem_type?: TypeProto };
  map_type?: { key_type?: number; value_type?: TypeProto };
  optional_type?: { elem_type?: TypeProto };
}
interface ValueInfo {
  name?: string;
  type?: TypeProto;
}
interface Tensor {
  name?: string;
  dims?: unknown[];
  data_type?: number;
  data_location?: number;
}
interface Attribute {
  name?: string;
  t?: Tensor;
  g?: Graph;
  tensors?: Tensor[];
  graphs?: Graph[];
  floats?: number[];
  ints?: unknown[];
  f?: number;
  i?: unknown;
}
interface Node {
  op_type?: string;
  domain?: string;
  name?: string;
  output?: string[];
  attribute?: Attribute[];
}
interface Graph {
  name?: string;
  node?: Node[];
  initializer?: Tensor[];
  input?: ValueInfo[];
  output?: ValueInfo[];
}
interface Model {
  ir_version?: unknown;
  opset_import?: { domain?: string; version?: unknown }[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: unknown;
  doc_string?: string;
  metadata_props?: { key?: string; value?: string }[];
  graph?: Graph;
}

/** What the weights of a graph and of its subgraphs add up to. */
interface Tally {
  parameterCount: number;
  tensorCount: number;
  constantTensors: number;
  subgraphs: number;
  external: number;
  dtypes: Record<string, number>;
}

/**
 * Counts the initializers and Constant nodes of `graph` and of every subgraph (If branches, Loop
 * and Scan bodies), which is where exporters put the weights of control-flow models.
 */
function tally(file: string, graph: Graph, t: Tally): void {
  const add = (name: string, dims: unknown[] | undefined, dtype: number | undefined) => {
    t.parameterCount += elementCount(file, name, (dims ?? []).map(toNum));
    if (!Number.isSafeInteger(t.parameterCount))
      throw new InputError(file, `the tensors declare more than 2^53 elements in all (at "${name}")`);
    t.tensorCount++;
    countInto(t.dtypes, dtypeName(dtype));
  };
  for (const init of graph.initializer ?? []) {
    add(init.name ?? '', init.dims, init.data_type);
    if (init.data_location === 1) t.external++;
  }
  for (const node of graph.node ?? []) {
    const isConstant = node.op_type === 'Constant' && (!node.domain || node.domain === 'ai.onnx');
    const constName = node.output?.[0] || node.name || 'Constant';
    for (const a of node.attribute ?? []) {
      if (isConstant) {
        if (a.t) add(constName, a.t.dims, a.t.data_type);
        else if (a.name === 'value_floats') add(constName, [a.floats?.length ?? 0], 1);
        else if (a.name === 'value_ints') add(constName, [a.ints?.length ?? 0], 7);
        else if (a.name === 'value_float') add(constName, [], 1);
        else if (a.name === 'value_int') add(constName, [], 7);
        if (a.t || a.name?.startsWith('value_')) t.constantTensors++;
      }
      for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) {
        t.subgraphs++;
        tally(file, g, t); // nesting is bounded by the wire scan (MAX_DEPTH)
      }
    }
  }
}

export async function readOnnx(file: string): Promise<WeightInfo> {
  let pruned: { bytes: Buffer; size: number };
  try {
    pruned = await pruneProtobufFile(file, PLAN);
  } catch (e) {
    if (e instanceof WireError) throw new InputError(file, `not a valid ONNX model: ${e.message}`);
    throw e;
  }
  if (pruned.size === 0) throw new InputError(file, 'empty file');
  let model: Model;
  try {
    const type = onnxModelType();
    // toObject keeps only the fields present in the file and turns int64 into numbers.
    model = type.toObject(type.decode(pruned.bytes), { longs: Number, defaults: false }) as Model;
  } catch (e) {
    throw new InputError(file, `not a valid ONNX model: ${errText(e)}`);
  }
  // Random bytes sometimes decode without error; a real model has an IR version and a graph.
  const irVersion = toNum(model.ir_version);
  const graph = model.graph;
  if (!graph || !(irVersion >= 1 && irVersion < 100)) {
    throw new InputError(file, `not a valid ONNX model: ${graph ? `implausible ir_version ${irVersion}` : 'no graph'}`);
  }

  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const t: Tally = { parameterCount: 0, tensorCount: 0, constantTensors: 0, subgraphs: 0, external: 0, dtypes: {} };
  tally(file, graph, t);

  const opTypes: Record<string, number> = {};
  for (const n of graph.node ?? []) countInto(opTypes, n.domain ? `${n.domain}.${n.op_type ?? ''}` : (n.op_type ?? ''));

  const opsetImports = (model.opset_import ?? []).map((o) => ({
    domain: o.domain || 'ai.onnx',
    version: toNum(o.version),
  }));
  const details: Record<string, unknown> = {
    irVersion,
    opset: opsetImports.find((o) => o.domain === 'ai.onnx')?.version,
    opsetImports,
    producerName: model.producer_name || undefined,
    producerVersion: model.producer_version || undefined,
    domain: model.domain || undefined,
    modelVersion: model.model_version !== undefined ? toNum(model.model_version) : undefined,
    graphName: graph.name || undefined,
    nodeCount: graph.node?.length ?? 0,
    opTypes: topEntries(opTypes, 20),
  };
  if (t.external) details.externalDataTensors = t.external;
  if (t.constantTensors) details.constantTensors = t.constantTensors;
  if (t.subgraphs) details.subgraphs = t.subgraphs;
  if (model.doc_string) details.docString = model.doc_string.slice(0, 500);
  if (model.metadata_props?.length) {
    details.metadata = Object.fromEntries(model.metadata_props.map((p) => [p.key ?? '', p.value ?? '']));
  }
  for (const k of Object.keys(details)) if (details[k] === undefined) delete details[k];

  return {
    format: 'onnx',
    framework: 'onnx',
    parameterCount: t.parameterCount,
    tensorCount: t.tensorCount,
    dtypes: t.dtypes,
    // Old exporters list initializers among the inputs; they are not real inputs.
    inputs: (graph.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(spec),
    outputs: (graph.output ?? []).map(spec),
    details,
  };
}

function dtypeName(t: number | undefined): string {
  return (t !== undefined && ONNX_DTYPES[t]) || `type${t ?? 0}`;
}

function spec(v: ValueInfo): TensorSpec {
  const { dtype, shape } = describeType(v.type);
  return { name: v.name ?? '', dtype, shape };
}

function describeType(t: TypeProto | undefined): { dtype: string; shape: (number | string)[] } {
  const tensor = t?.tensor_type ?? t?.sparse_tensor_type;
  if (tensor) {
    const shape = (tensor.shape?.dim ?? []).map((d) =>
      d.dim_value !== undefined && d.dim_value !== null ? toNum(d.dim_value) : d.dim_param || '?',
    );
    return { dtype: (t?.sparse_tensor_type ? 'sparse ' : '') + dtypeName(tensor.elem_type), shape };
  }
  if (t?.sequence_type) return { dtype: `sequence<${describeType(t.sequence_type.elem_type).dtype}>`, shape: [] };
  if (t?.optional_type) return { dtype: `optional<${describeType(t.optional_type.elem_type).dtype}>`, shape: [] };
  if (t?.map_type)
    return { dtype: `map<${dtypeName(t.map_type.key_type)},${describeType(t.map_type.value_type).dtype}>`, shape: [] };
  return { dtype: 'unknown', shape: [] };
}

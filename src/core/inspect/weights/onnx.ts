/**
 * ONNX models: a single ModelProto protobuf (up to 2 GiB; bigger weights live in external data
 * files). Tensor contents are skipped while scanning the file, so only the structure is read.
 */
import { InputError } from '../../errors';
import type { TensorSpec, WeightInfo } from '../types';
import { ONNX_DTYPES, onnxModelType } from './onnxSchema';
import { pruneProtobufFile, WireError, type Prune } from './protoScan';
import { countInto, errText, product, toNum, topEntries } from './read';

/** Field numbers from onnx.proto3 of what is never needed: tensor data, node attributes, training info. */
const PLAN: Prune = {
  skip: [20, 25], // ModelProto.training_info, functions
  nested: {
    7: {
      skip: [13, 14, 15], // GraphProto.value_info, quantization_annotation, sparse_initializer
      nested: {
        1: { skip: [5] }, // NodeProto.attribute (Constant nodes hold tensors)
        5: { skip: [4, 5, 6, 7, 9, 10, 11] }, // TensorProto *_data and raw_data
      },
    },
  },
};

interface Dim { dim_value?: unknown; dim_param?: string }
interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim?: Dim[] } };
  sparse_tensor_type?: { elem_type?: number; shape?: { dim?: Dim[] } };
  sequence_type?: { elem_type?: TypeProto };
  map_type?: { key_type?: number; value_type?: TypeProto };
  optional_type?: { elem_type?: TypeProto };
}
interface ValueInfo { name?: string; type?: TypeProto }
interface Model {
  ir_version?: unknown;
  opset_import?: { domain?: string; version?: unknown }[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: unknown;
  doc_string?: string;
  metadata_props?: { key?: string; value?: string }[];
  graph?: {
    name?: string;
    node?: { op_type?: string; domain?: string }[];
    initializer?: { name?: string; dims?: unknown[]; data_type?: number; data_location?: number }[];
    input?: ValueInfo[];
    output?: ValueInfo[];
  };
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

  const initializers = graph.initializer ?? [];
  const initNames = new Set(initializers.map((t) => t.name ?? ''));
  const dtypes: Record<string, number> = {};
  let parameterCount = 0;
  let external = 0;
  for (const t of initializers) {
    parameterCount += product((t.dims ?? []).map(toNum));
    countInto(dtypes, dtypeName(t.data_type));
    if (t.data_location === 1) external++;
  }

  const opTypes: Record<string, number> = {};
  for (const n of graph.node ?? []) countInto(opTypes, n.domain ? `${n.domain}.${n.op_type ?? ''}` : n.op_type ?? '');

  const opsetImports = (model.opset_import ?? []).map((o) => ({ domain: o.domain || 'ai.onnx', version: toNum(o.version) }));
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
  if (external) details.externalDataTensors = external;
  if (model.doc_string) details.docString = model.doc_string.slice(0, 500);
  if (model.metadata_props?.length) {
    details.metadata = Object.fromEntries(model.metadata_props.map((p) => [p.key ?? '', p.value ?? '']));
  }
  for (const k of Object.keys(details)) if (details[k] === undefined) delete details[k];

  return {
    format: 'onnx',
    framework: 'onnx',
    parameterCount,
    tensorCount: initializers.length,
    dtypes,
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
    const shape = (tensor.shape?.dim ?? []).map((d) => (d.dim_value !== undefined && d.dim_value !== null ? toNum(d.dim_value) : d.dim_param || '?'));
    return { dtype: (t?.sparse_tensor_type ? 'sparse ' : '') + dtypeName(tensor.elem_type), shape };
  }
  if (t?.sequence_type) return { dtype: `sequence<${describeType(t.sequence_type.elem_type).dtype}>`, shape: [] };
  if (t?.optional_type) return { dtype: `optional<${describeType(t.optional_type.elem_type).dtype}>`, shape: [] };
  if (t?.map_type) return { dtype: `map<${dtypeName(t.map_type.key_type)},${describeType(t.map_type.value_type).dtype}>`, shape: [] };
  return { dtype: 'unknown', shape: [] };
}

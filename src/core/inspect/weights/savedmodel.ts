/**
 * TensorFlow SavedModel: `saved_model.pb` (a SavedModel protobuf) beside `variables/`. We decode
 * the meta graphs' tags, versions and signatures; the GraphDef is skipped while scanning the file.
 */
import { readdir, stat } from 'fs/promises';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import { InputError } from '../../errors';
import type { TensorSpec, WeightInfo } from '../types';
import { pruneProtobufFile, WireError, type Prune } from './protoScan';
import { errText } from './read';
import { TF_TENSOR_SHAPE_PROTO } from '../tfShapeProto';

/**
 * Subset of tensorflow/core/protobuf/saved_model.proto, meta_graph.proto and
 * framework/tensor_shape.proto with their real field numbers. DataType is read as a plain int.
 */
export const SAVED_MODEL_PROTO = `
syntax = "proto3";
package tensorflow;

message SavedModel {
  int64 saved_model_schema_version = 1;
  repeated MetaGraphDef meta_graphs = 2;
}

message MetaGraphDef {
  message MetaInfoDef {
    string meta_graph_version = 1;
    repeated string tags = 4;
    string tensorflow_version = 5;
    string tensorflow_git_version = 6;
    bool stripped_default_attrs = 7;
  }
  MetaInfoDef meta_info_def = 1;
  map<string, SignatureDef> signature_def = 5;
}

message SignatureDef {
  map<string, TensorInfo> inputs = 1;
  map<string, TensorInfo> outputs = 2;
  string method_name = 3;
}

message TensorInfo {
  string name = 1;
  int32 dtype = 2;
  TensorShapeProto tensor_shape = 3;
}

${TF_TENSOR_SHAPE_PROTO}
`;

/** tensorflow.DataType values (framework/types.proto), named like numpy. */
export const TF_DTYPES: Record<number, string> = {
  1: 'float32',
  2: 'float64',
  3: 'int32',
  4: 'uint8',
  5: 'int16',
  6: 'int8',
  7: 'string',
  8: 'complex64',
  9: 'int64',
  10: 'bool',
  11: 'qint8',
  12: 'quint8',
  13: 'qint32',
  14: 'bfloat16',
  15: 'qint16',
  16: 'quint16',
  17: 'uint16',
  18: 'complex128',
  19: 'float16',
  20: 'resource',
  21: 'variant',
  22: 'uint32',
  23: 'uint64',
};

/** Dropped while scanning: MetaGraphDef.graph_def, saver_def, collection_def, asset_file_def, object_graph_def, MetaInfoDef.stripped_op_list, any_info. */
const PLAN: Prune = { nested: { 2: { skip: [2, 3, 4, 6, 7], nested: { 1: { skip: [2, 3] } } } } };

let savedModelType: protobuf.Type | undefined;
export function savedModelProtoType(): protobuf.Type {
  return (savedModelType ??= protobuf
    .parse(SAVED_MODEL_PROTO, { keepCase: true })
    .root.lookupType('tensorflow.SavedModel'));
}

interface TensorInfo {
  name?: string;
  dtype?: number;
  tensor_shape?: { dim?: { size?: number }[]; unknown_rank?: boolean };
}
interface Signature {
  inputs?: Record<string, TensorInfo>;
  outputs?: Record<string, TensorInfo>;
  method_name?: string;
}
interface SavedModel {
  saved_model_schema_version?: number;
  meta_graphs?: {
    meta_info_def?: { tags?: string[]; tensorflow_version?: string; tensorflow_git_version?: string };
    signature_def?: Record<string, Signature>;
  }[];
}

/** `file` is the path of saved_model.pb. */
export async function readSavedModel(file: string): Promise<WeightInfo> {
  let pruned: { bytes: Buffer; size: number };
  try {
    pruned = await pruneProtobufFile(file, PLAN);
  } catch (e) {
    if (e instanceof WireError) throw new InputError(file, `not a valid SavedModel protobuf: ${e.message}`);
    throw e;
  }
  if (pruned.size === 0) throw new InputError(file, 'empty file');
  let model: SavedModel;
  try {
    const type = savedModelProtoType();
    model = type.toObject(type.decode(pruned.bytes), { longs: Number, defaults: false }) as SavedModel;
  } catch (e) {
    throw new InputError(file, `not a valid SavedModel protobuf: ${errText(e)}`);
  }
  const graphs = model.meta_graphs ?? [];
  if (!graphs.length) throw new InputError(file, 'not a valid SavedModel protobuf: no meta graph');

  // Serving tools load the "serve" graph and its serving_default signature.
  const graph = graphs.find((g) => g.meta_info_def?.tags?.includes('serve')) ?? graphs[0];
  const signatures = graph.signature_def ?? {};
  const names = Object.keys(signatures).filter((k) => !k.startsWith('__'));
  const chosen = names.includes('serving_default') ? 'serving_default' : names[0];
  const sig = chosen !== undefined ? signatures[chosen] : undefined;

  const details: Record<string, unknown> = {
    schemaVersion: model.saved_model_schema_version ?? 0,
    metaGraphs: graphs.map((g) => ({ tags: g.meta_info_def?.tags ?? [] })),
    tags: graph.meta_info_def?.tags ?? [],
    signatures: names,
  };
  if (graph.meta_info_def?.tensorflow_version) details.tensorflowVersion = graph.meta_info_def.tensorflow_version;
  if (graph.meta_info_def?.tensorflow_git_version)
    details.tensorflowGitVersion = graph.meta_info_def.tensorflow_git_version;
  if (chosen !== undefined) details.signature = chosen;
  if (sig?.method_name) details.methodName = sig.method_name;
  Object.assign(details, await siblings(path.dirname(file)));

  const specs = (m: Record<string, TensorInfo> | undefined): TensorSpec[] =>
    Object.entries(m ?? {})
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([name, t]) => ({
        name,
        dtype:
          TF_DTYPES[t.dtype ?? 0] ??
          (t.dtype && t.dtype > 100 ? `${TF_DTYPES[t.dtype - 100] ?? t.dtype - 100}_ref` : `dtype${t.dtype ?? 0}`),
        // proto3 omits a size of 0; -1 means unknown.
        shape: (t.tensor_shape?.dim ?? []).map((d) => ((d.size ?? 0) < 0 ? '?' : (d.size ?? 0))),
      }));
  const info: WeightInfo = { format: 'savedmodel', framework: 'tensorflow', details };
  if (sig) {
    info.inputs = specs(sig.inputs);
    info.outputs = specs(sig.outputs);
  }
  return info;
}

/** What the SavedModel folder holds besides the graph: variable shards, Keras metadata, assets. */
async function siblings(dir: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const size = async (p: string) => (await stat(p).catch(() => undefined))?.size;
  const varsDir = path.join(dir, 'variables');
  const index = await size(path.join(varsDir, 'variables.index'));
  if (index !== undefined) {
    const shards = (await readdir(varsDir).catch(() => [] as string[])).filter((n) => n.startsWith('variables.data-'));
    let bytes = 0;
    for (const s of shards) bytes += (await size(path.join(varsDir, s))) ?? 0;
    out.variables = { indexBytes: index, shards: shards.length, dataBytes: bytes };
  } else {
    out.variables = null;
  }
  if ((await size(path.join(dir, 'keras_metadata.pb'))) !== undefined) out.kerasMetadata = true;
  if ((await size(path.join(dir, 'fingerprint.pb'))) !== undefined) out.fingerprint = true;
  return out;
}

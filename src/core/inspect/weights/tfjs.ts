/**
 * TensorFlow.js models: a `model.json` (tfjs-core io ModelJSON: format, modelTopology and a
 * weightsManifest of shard groups, each `{paths, weights: [{name, shape, dtype, quantization?}]}`)
 * beside its `.bin` shards. Layers models carry a Keras model config as their topology; graph
 * models a GraphDef, and a signature when converted from a SavedModel. Only model.json is parsed;
 * the shards are checked for presence and total size against the shapes, never read.
 */
import { stat } from 'fs/promises';
import * as path from 'path';
import { InputError } from '../../errors';
import { checkJsonText } from '../../util/json';
import type { TensorSpec, WeightInfo } from '../types';
import { describeModel, modelInputs } from './keras';
import { countInto, elementCount, errText, readAt, withFile } from './read';

/** model.json holds topology and manifest only; the weights are in the shards. */
const MODEL_JSON_LIMIT = 64 * 1024 * 1024;
/** Bytes per element of tfjs dtypes (tfjs-core DTYPE_VALUE_SIZE_MAP) and of quantized storage. */
const BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
  int8: 1,
  int16: 2,
};
/** TensorFlow DataType names in a graph model's signature → tfjs dtype names. */
const TF_DTYPES: Record<string, string> = {
  DT_FLOAT: 'float32',
  DT_INT32: 'int32',
  DT_BOOL: 'bool',
  DT_STRING: 'string',
  DT_INT64: 'int64',
  DT_HALF: 'float16',
  DT_UINT8: 'uint8',
  DT_COMPLEX64: 'complex64',
};

interface WeightEntry {
  name?: unknown;
  shape?: unknown;
  dtype?: unknown;
  quantization?: { dtype?: unknown };
}
interface TensorInfo {
  name?: unknown;
  dtype?: unknown;
  tensorShape?: { dim?: { size?: unknown }[]; unknownRank?: boolean };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Undefined when the JSON is no TF.js model (some other model.json); InputError when it is one but broken. */
export async function readTfjs(file: string): Promise<WeightInfo | undefined> {
  const text = await withFile(file, async (fh, size) => {
    if (size > MODEL_JSON_LIMIT)
      throw new InputError(file, `${size} bytes, too big for a TF.js model.json (at most ${MODEL_JSON_LIMIT})`);
    return (await readAt(fh, 0, size)).toString('utf8');
  });
  // What is stored of it is flat, but refuse hostile nesting as every input JSON is refused.
  checkJsonText(text, file, 'model.json');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // A model.json that is not JSON at all is not ours to judge (it may be any tool's file).
    if (e instanceof SyntaxError) return undefined;
    throw new InputError(file, `cannot parse: ${errText(e)}`);
  }
  if (!isObject(json) || !('weightsManifest' in json) || !('modelTopology' in json || 'format' in json))
    return undefined;
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest))
    throw new InputError(file, 'not a valid TF.js model: weightsManifest is not a list of shard groups');

  const dir = path.dirname(file);
  const dtypes: Record<string, number> = {};
  const shards: string[] = [];
  let parameterCount = 0;
  let tensorCount = 0;
  for (const [g, group] of manifest.entries()) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new InputError(file, `not a valid TF.js model: weightsManifest[${g}] needs "paths" and "weights" lists`);
    }
    let expected = 0;
    let sized = true; // string tensors have no fixed size
    for (const w of group.weights as WeightEntry[]) {
      const name = isObject(w) && typeof w.name === 'string' ? w.name : `weightsManifest[${g}] entry ${tensorCount}`;
      if (!isObject(w) || !Array.isArray(w.shape) || typeof w.dtype !== 'string')
        throw new InputError(file, `not a valid TF.js model: weight "${name}" needs a shape list and a dtype`);
      const n = elementCount(
        file,
        name,
        w.shape.map((d) => (typeof d === 'number' ? d : NaN)),
      );
      parameterCount += n;
      tensorCount++;
      countInto(dtypes, w.dtype);
      const quantized = (w as WeightEntry).quantization?.dtype;
      const stored = typeof quantized === 'string' ? quantized : w.dtype;
      if (BYTES[stored] === undefined) sized = false;
      else expected += n * BYTES[stored];
    }
    let actual = 0;
    for (const p of group.paths) {
      // Shards live beside model.json: a path that leaves the folder is no shard of this model.
      if (typeof p !== 'string' || !p || path.isAbsolute(p) || p.split(/[\\/]/).includes('..')) {
        throw new InputError(
          file,
          `weightsManifest[${g}] names a shard outside the model's folder: ${JSON.stringify(p)}`,
        );
      }
      const st = await stat(path.join(dir, p)).catch(() => undefined);
      if (!st?.isFile())
        throw new InputError(
          file,
          `the weight shard ${p} it names is missing (import the folder that holds model.json and its shards)`,
        );
      actual += st.size;
      shards.push(path.posix.normalize(p.replace(/\\/g, '/')));
    }
    if (sized && actual !== expected)
      throw new InputError(
        file,
        `weightsManifest[${g}] declares ${expected} bytes of weights, but its shards hold ${actual}`,
      );
  }
  if (!Number.isSafeInteger(parameterCount))
    throw new InputError(file, 'the weights declare more than 2^53 elements in all');

  const format =
    typeof json.format === 'string'
      ? json.format
      : isObject(json.modelTopology) && 'class_name' in json.modelTopology
        ? 'layers-model'
        : 'graph-model';
  const details: Record<string, unknown> = { tfjsFormat: format, shards };
  if (typeof json.generatedBy === 'string') details.generatedBy = json.generatedBy;
  if (typeof json.convertedBy === 'string') details.convertedBy = json.convertedBy;
  let inputs: TensorSpec[] = [];
  let outputs: TensorSpec[] = [];
  const topology = isObject(json.modelTopology) ? json.modelTopology : undefined;
  if (topology && format === 'layers-model') {
    // A Keras model config, possibly wrapped as {model_config, training_config} by the converter.
    const config = (isObject(topology.model_config) ? topology.model_config : topology) as Parameters<
      typeof describeModel
    >[0];
    Object.assign(details, describeModel(config));
    inputs = modelInputs(config);
  } else if (topology && Array.isArray(topology.node)) {
    details.nodeCount = topology.node.length;
  }
  if (isObject(json.signature)) {
    inputs = signatureSpecs(json.signature.inputs);
    outputs = signatureSpecs(json.signature.outputs);
  }
  return {
    format: 'tfjs',
    framework: 'tfjs',
    parameterCount,
    tensorCount,
    dtypes,
    ...(inputs.length ? { inputs } : {}),
    ...(outputs.length ? { outputs } : {}),
    details,
  };
}

/** A graph model's signature: name → TensorInfo, sizes as strings, -1 for an unknown dimension. */
function signatureSpecs(v: unknown): TensorSpec[] {
  if (!isObject(v)) return [];
  return Object.entries(v).map(([key, info]) => {
    const t = (isObject(info) ? info : {}) as TensorInfo;
    const dims = Array.isArray(t.tensorShape?.dim) ? t.tensorShape.dim : [];
    return {
      name: key,
      dtype:
        typeof t.dtype === 'string' ? (TF_DTYPES[t.dtype] ?? t.dtype.toLowerCase().replace(/^dt_/, '')) : 'unknown',
      shape: dims.map((d) => {
        const n = Number(d?.size);
        return Number.isSafeInteger(n) && n >= 0 ? n : '?';
      }),
    };
  });
}

/**
 * Keras: `.keras` archives (a zip of config.json, metadata.json and model.weights.h5) and HDF5
 * files (`.h5`/`.hdf5`, Keras 2's format). The HDF5 structure is read with jsfive (pure JS, from
 * memory): parameters are the element counts of the weight datasets, attributes are read as
 * stored. Files too big to hold in memory fall back to looking for Keras' root attributes among
 * the first MBs, which is where h5py writes them, and get no parameter count.
 */
import * as hdf5 from 'jsfive';
import * as path from 'path';
import { InputError } from '../../errors';
import type { TensorSpec, WeightInfo } from '../types';
import { countInto, elementCount, errText, readAt, withFile } from './read';
import { openZip } from './zip';
import { parseJsonBounded } from '../../util/json';

/** HDF5 files (and .keras weight members) up to this size are read into memory to be parsed. */
export const HDF5_PARSE_LIMIT = 512 * 1024 * 1024;
/** Groups nested deeper, or more datasets, than any Keras file has: a hostile file, not counted. */
const MAX_GROUP_DEPTH = 32;
const MAX_DATASETS = 200_000;
/** Top-level groups of optimizer state (Keras 2 and 3), which are not model parameters. */
const OPTIMIZER_GROUPS = new Set(['optimizer_weights', 'optimizer']);

interface Hdf5Facts {
  parameterCount: number;
  tensorCount: number;
  dtypes: Record<string, number>;
  attrs: Record<string, unknown>;
}

/**
 * Parses an HDF5 file held in `bytes` and counts the elements of its weight datasets (all of them
 * but the optimizer's). Absurd shapes are refused naming the dataset; a structure jsfive cannot
 * follow is returned as a problem (the file may still be valid: jsfive does not do all of HDF5).
 */
function hdf5Facts(file: string, bytes: Buffer): Hdf5Facts | { problem: string } {
  let root: hdf5.File;
  const facts: Hdf5Facts = { parameterCount: 0, tensorCount: 0, dtypes: {}, attrs: {} };
  try {
    root = new hdf5.File(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
      path.basename(file),
    );
    facts.attrs = root.attrs;
  } catch (e) {
    return { problem: errText(e) };
  }
  const walk = (g: hdf5.Group, at: string, depth: number): string | undefined => {
    if (depth > MAX_GROUP_DEPTH) return `groups nested more than ${MAX_GROUP_DEPTH} deep at ${at}`;
    for (const key of g.keys) {
      if (depth === 0 && OPTIMIZER_GROUPS.has(key)) continue;
      const where = `${at}/${key}`;
      let child: hdf5.Group | hdf5.Dataset;
      try {
        child = g.get(key);
      } catch (e) {
        return `${where}: ${errText(e)}`;
      }
      if (child instanceof hdf5.Group) {
        const problem = walk(child, where, depth + 1);
        if (problem) return problem;
      } else if (child instanceof hdf5.Dataset) {
        if (++facts.tensorCount > MAX_DATASETS) return `more than ${MAX_DATASETS} datasets`;
        facts.parameterCount += elementCount(file, where, datasetShape(bytes, child));
        countInto(facts.dtypes, String(child.dtype));
      }
    }
    return undefined;
  };
  let problem: string | undefined;
  try {
    problem = walk(root, '', 0);
  } catch (e) {
    if (e instanceof InputError) throw e;
    problem = errText(e);
  }
  if (problem) return { problem };
  if (!Number.isSafeInteger(facts.parameterCount))
    throw new InputError(file, 'the datasets declare more than 2^53 elements in all');
  return facts;
}

/**
 * A dataset's dimensions as stored: jsfive reads each 64-bit size as its low 32 bits, which turns
 * a declared 2^40 into 0. Read the Dataspace message (HDF5 spec IV.A.2.b) at the offset jsfive
 * found it, 8-byte sizes as h5py writes them.
 */
function datasetShape(bytes: Buffer, ds: hdf5.Dataset): number[] {
  const objects = (ds as unknown as { _dataobjects?: { find_msg_type(t: number): Map<string, unknown>[] } })
    ._dataobjects;
  const at = objects?.find_msg_type(1)[0]?.get('offset_to_message');
  if (typeof at !== 'number' || at < 0 || at + 8 > bytes.length) return [...(ds.shape ?? [])];
  const version = bytes[at];
  const rank = bytes[at + 1];
  const start = at + (version === 1 ? 8 : 4);
  if ((version !== 1 && version !== 2) || start + rank * 8 > bytes.length) return [...(ds.shape ?? [])];
  return Array.from({ length: rank }, (_, i) => Number(bytes.readBigUInt64LE(start + i * 8)));
}

/** jsfive gives string attributes as strings (variable-length) or arrays of one. */
function attrText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  return undefined;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const SCAN_BYTES = 8 * 1024 * 1024;
const BACKENDS = ['tensorflow', 'theano', 'cntk', 'jax', 'torch', 'numpy'];

interface LayerConfig {
  class_name?: string;
  name?: string;
  config?: { name?: string; batch_shape?: unknown; batch_input_shape?: unknown; dtype?: unknown };
}
export interface ModelConfig {
  class_name?: string;
  config?: { name?: string; layers?: LayerConfig[]; build_input_shape?: unknown };
  compile_config?: { optimizer?: unknown; loss?: unknown };
}

export async function readKerasArchive(file: string): Promise<WeightInfo> {
  const zip = await openZip(file);
  try {
    const json = async (name: string, limit: number): Promise<Record<string, unknown> | undefined> => {
      const bytes = await zip.read(name, limit);
      if (!bytes) return undefined;
      try {
        const v = parseJsonBounded(bytes.toString('utf8'), file, { what: `${name} in the Keras archive` });
        if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
      } catch (e) {
        if (e instanceof InputError) throw e; // names the member, the line and column, or the depth
        throw new InputError(file, `${name} in the Keras archive is not valid JSON: ${errText(e)}`);
      }
      throw new InputError(file, `${name} in the Keras archive is not a JSON object`);
    };
    const config = await json('config.json', 256 * 1024 * 1024);
    if (!config) throw new InputError(file, 'not a Keras archive: config.json is missing');
    const metadata = (await json('metadata.json', 1024 * 1024)) ?? {};
    const weights = zip.entries.find((e) => e.fileName === 'model.weights.h5' || e.fileName === 'model.weights.npz');

    const details: Record<string, unknown> = {};
    if (typeof metadata.keras_version === 'string') details.kerasVersion = metadata.keras_version;
    if (typeof metadata.date_saved === 'string') details.dateSaved = metadata.date_saved;
    Object.assign(details, describeModel(config as ModelConfig));
    const counts: Partial<WeightInfo> = {};
    if (weights) {
      details.weightsBytes = weights.uncompressedSize;
      if (weights.fileName.endsWith('.h5') && weights.uncompressedSize <= HDF5_PARSE_LIMIT) {
        const facts = hdf5Facts(file, (await zip.read(weights.fileName, HDF5_PARSE_LIMIT))!);
        if ('problem' in facts) details.weightsProblem = facts.problem;
        else
          Object.assign(counts, {
            parameterCount: facts.parameterCount,
            tensorCount: facts.tensorCount,
            dtypes: facts.dtypes,
          });
      }
    } else details.weightsMissing = true;
    const inputs = modelInputs(config as ModelConfig);
    return { format: 'keras', framework: 'keras', ...counts, ...(inputs.length ? { inputs } : {}), details };
  } finally {
    zip.close();
  }
}

/** Offset of the HDF5 signature (0, or after a user block of 512, 1024, 2048... bytes), or -1. */
export function hdf5SignatureOffset(buf: Buffer): number {
  for (let off = 0; off + 8 <= buf.length; off = off === 0 ? 512 : off * 2) {
    if (buf.subarray(off, off + 8).equals(HDF5_SIGNATURE)) return off;
  }
  return -1;
}

export async function readHdf5(file: string): Promise<WeightInfo> {
  return withFile(file, async (fh, size) => {
    if (size === 0) throw new InputError(file, 'empty file');
    const buf = await readAt(fh, 0, Math.min(size, SCAN_BYTES));
    const sigAt = hdf5SignatureOffset(buf);
    if (sigAt < 0) throw new InputError(file, 'not an HDF5 file (no HDF5 signature at offset 0, 512, 1024, 2048...)');

    const details: Record<string, unknown> = {};
    if (sigAt > 0) details.userBlockBytes = sigAt;
    const text = buf.toString('latin1');
    const hasKerasAttrs = text.includes('keras_version') || text.includes('model_config');
    if (!hasKerasAttrs && !path.basename(file).toLowerCase().endsWith('.weights.h5')) {
      return { format: 'h5', framework: 'hdf5', details };
    }

    // The whole structure when the file fits in memory (jsfive parses from a buffer).
    let facts: Hdf5Facts | undefined;
    if (size <= HDF5_PARSE_LIMIT) {
      const parsed = hdf5Facts(file, size <= buf.length ? buf : await readAt(fh, 0, size));
      if ('problem' in parsed) details.hdf5Problem = parsed.problem;
      else facts = parsed;
    } else details.parameterCountSkipped = `larger than the ${HDF5_PARSE_LIMIT} bytes parsed in memory`;

    // Otherwise (and for what jsfive does not give) h5py's variable-length strings in the global heap ("GCOL").
    const heap = globalHeapStrings(buf);
    const version =
      attrText(facts?.attrs.keras_version) ??
      heap.find((s) => /^\d+\.\d+(\.\d+)?[\w.+-]*$/.test(s)) ??
      inlineAfter(text, 'keras_version', /(\d+\.\d+(?:\.\d+)?[\w.+-]*)/);
    if (version) details.kerasVersion = version;
    const backend =
      attrText(facts?.attrs.backend) ??
      heap.find((s) => BACKENDS.includes(s)) ??
      inlineAfter(text, 'backend', new RegExp(`(${BACKENDS.join('|')})`));
    if (backend) details.backend = backend;

    const stored = attrText(facts?.attrs.model_config);
    const config =
      (stored !== undefined ? parseModelConfig(stored) : undefined) ??
      heap.map(parseModelConfig).find((c) => c) ??
      findInlineModelConfig(text);
    let inputs: TensorSpec[] = [];
    if (config) {
      Object.assign(details, describeModel(config));
      inputs = modelInputs(config);
    } else {
      details.weightsOnly = true;
    }
    const counts = facts
      ? { parameterCount: facts.parameterCount, tensorCount: facts.tensorCount, dtypes: facts.dtypes }
      : {};
    return { format: 'h5', framework: 'keras', ...counts, ...(inputs.length ? { inputs } : {}), details };
  });
}

export function describeModel(config: ModelConfig): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  if (typeof config.class_name === 'string') d.className = config.class_name;
  if (typeof config.config?.name === 'string') d.modelName = config.config.name;
  const layers = Array.isArray(config.config?.layers) ? config.config.layers : undefined;
  if (layers) {
    // InputLayer entries are placeholders, not part of model.layers.
    const real = layers.filter((l) => l?.class_name !== 'InputLayer');
    const types: Record<string, number> = {};
    for (const l of real) countInto(types, String(l?.class_name ?? 'unknown'));
    d.layerCount = real.length;
    d.layerTypes = types;
  }
  const name = (v: unknown) => (typeof v === 'string' ? v : (v as { class_name?: unknown } | null)?.class_name);
  const optimizer = name(config.compile_config?.optimizer);
  if (typeof optimizer === 'string') d.optimizer = optimizer;
  const loss = name(config.compile_config?.loss);
  if (typeof loss === 'string') d.loss = loss;
  return d;
}

export function modelInputs(config: ModelConfig): TensorSpec[] {
  const layers = Array.isArray(config.config?.layers) ? config.config.layers : [];
  const inputs: TensorSpec[] = [];
  for (const l of layers) {
    if (l?.class_name !== 'InputLayer') continue;
    const shape = l.config?.batch_shape ?? l.config?.batch_input_shape;
    inputs.push({
      name: String(l.config?.name ?? l.name ?? 'input'),
      dtype: typeof l.config?.dtype === 'string' ? l.config.dtype : 'float32',
      shape: Array.isArray(shape) ? shape.map((d) => (typeof d === 'number' ? d : '?')) : [],
    });
  }
  // A Sequential model built from its first layer's input shape (Keras 2, TF.js) has no InputLayer.
  const first = layers[0]?.config?.batch_shape ?? layers[0]?.config?.batch_input_shape;
  if (!inputs.length && Array.isArray(first)) {
    inputs.push({
      name: 'input',
      dtype: typeof layers[0]?.config?.dtype === 'string' ? layers[0].config.dtype : 'float32',
      shape: first.map((d) => (typeof d === 'number' ? d : '?')),
    });
  }
  const build = config.config?.build_input_shape;
  if (!inputs.length && Array.isArray(build) && build.every((d) => d === null || typeof d === 'number')) {
    inputs.push({ name: 'input', dtype: 'float32', shape: build.map((d) => (typeof d === 'number' ? d : '?')) });
  }
  return inputs;
}

/** The strings held in the global heap collections found in `buf` (HDF5 spec III.E). */
function globalHeapStrings(buf: Buffer): string[] {
  const out: string[] = [];
  for (let at = buf.indexOf('GCOL'); at >= 0; at = buf.indexOf('GCOL', at + 4)) {
    if (buf[at + 4] !== 1 || at + 16 > buf.length) continue;
    const end = Math.min(buf.length, at + Number(buf.readBigUInt64LE(at + 8)));
    let p = at + 16;
    while (p + 16 <= end) {
      const index = buf.readUInt16LE(p);
      const size = Number(buf.readBigUInt64LE(p + 8));
      if (index === 0 || p + 16 + size > end) break; // free space, or not a heap after all
      out.push(buf.toString('utf8', p + 16, p + 16 + size).replace(/\0+$/, ''));
      p += 16 + Math.ceil(size / 8) * 8;
    }
  }
  return out;
}

/** A value stored inline (fixed-length string attribute) shortly after the attribute's name. */
function inlineAfter(text: string, name: string, re: RegExp): string | undefined {
  for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + 1)) {
    const m = re.exec(text.slice(at + name.length, at + name.length + 256));
    if (m) return m[1];
  }
  return undefined;
}

function parseModelConfig(s: string): ModelConfig | undefined {
  if (!s.startsWith('{')) return undefined;
  try {
    const v = parseJsonBounded(s, 'model_config') as ModelConfig; // too deep: not a config we can read
    return v && typeof v.class_name === 'string' && v.config ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A model_config JSON written as a fixed-length string: find `{"class_name"` and match braces. */
function findInlineModelConfig(text: string): ModelConfig | undefined {
  let at = text.indexOf('{"class_name"');
  while (at >= 0) {
    const end = matchingBrace(text, at);
    if (end < 0) return undefined; // cut off by the scan window; its nested layers are no model
    const config = parseModelConfig(Buffer.from(text.slice(at, end + 1), 'latin1').toString('utf8'));
    if (config) return config;
    at = text.indexOf('{"class_name"', end + 1);
  }
  return undefined;
}

function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return i;
  }
  return -1;
}

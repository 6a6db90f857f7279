/**
 * Checks a converted ONNX model against its original: both run in onnxruntime on the same seeded
 * random inputs and the float outputs are compared. onnxruntime-node is loaded on first use only,
 * so code that imports this module without verifying never loads the native library.
 */
import type * as Ort from 'onnxruntime-node';
import { InputError } from '../errors';
import { f16BitsToF32, f32BitsToF16 } from './safetensors';
import { mulberry32 } from '../util/random';

export interface CompareResult {
  /** Largest |original − converted| over every element of every float output and run. */
  maxAbsError: number;
  inputsTried: number;
  /** The float outputs compared. */
  outputs: string[];
}

const FLOAT_TYPES = new Set(['float32', 'float16', 'float64']);
const FEEDABLE = new Set([...FLOAT_TYPES, 'int64', 'uint64', 'int32', 'uint32', 'int16', 'uint16', 'int8', 'uint8', 'bool']);
const u32 = new Uint32Array(1);
const f32 = new Float32Array(u32.buffer);

/** Values (as plain numbers) into the typed array onnxruntime wants for `type`. */
function typedData(type: string, vals: number[]): Ort.Tensor.DataType {
  switch (type) {
    case 'float32': return Float32Array.from(vals);
    case 'float64': return Float64Array.from(vals);
    case 'float16': return Uint16Array.from(vals, (v) => { f32[0] = v; return f32BitsToF16(u32[0]); });
    case 'int64': return BigInt64Array.from(vals, (v) => BigInt(Math.round(v)));
    case 'uint64': return BigUint64Array.from(vals, (v) => BigInt(Math.round(v)));
    case 'int32': return Int32Array.from(vals);
    case 'uint32': return Uint32Array.from(vals);
    case 'int16': return Int16Array.from(vals);
    case 'uint16': return Uint16Array.from(vals);
    case 'int8': return Int8Array.from(vals);
    case 'uint8': return Uint8Array.from(vals);
    case 'bool': return Uint8Array.from(vals, (v) => (v ? 1 : 0));
    default: throw new Error(`cannot feed ${type}`); // callers check FEEDABLE first
  }
}

/** A float output as numbers (float16 arrives as raw bits in a Uint16Array on Node without Float16Array). */
function floats(t: Ort.Tensor): ArrayLike<number> {
  if (t.type === 'float16' && t.data instanceof Uint16Array) {
    const bits = t.data;
    return Float32Array.from(bits, (h) => { u32[0] = f16BitsToF32(h); return f32[0]; });
  }
  return t.data as ArrayLike<number>;
}

function diff(a: number, b: number): number {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return 0; // same Inf or both NaN count as equal
  const d = Math.abs(a - b);
  return Number.isNaN(d) ? Infinity : d;
}

async function load(ort: typeof Ort, file: string): Promise<Ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  } catch (e) {
    throw new InputError(file, `onnxruntime cannot load it: ${(e as Error).message}`);
  }
}

async function run(s: Ort.InferenceSession, file: string, feeds: Record<string, Ort.Tensor>): Promise<Record<string, Ort.Tensor>> {
  try {
    return (await s.run(feeds)) as Record<string, Ort.Tensor>;
  } catch (e) {
    throw new InputError(file, `onnxruntime cannot run it: ${(e as Error).message}`);
  }
}

/**
 * Runs `original` and `converted` on `runs` (default 3) sets of random inputs made from the original's
 * input metadata (symbolic or unknown dims → 1; floats uniform in [-1, 1); integers 0..3) and returns
 * the largest difference of their float outputs. Throws InputError naming the file that onnxruntime
 * cannot load or run.
 */
export async function compareOnnx(original: string, converted: string, opts: { runs?: number; seed?: number } = {}): Promise<CompareResult> {
  // Loaded here, not at the top: importing this module must not load the native library.
  const ort = require('onnxruntime-node') as typeof Ort;
  const runs = opts.runs ?? 3;
  const rand = mulberry32(opts.seed ?? 1);
  const a = await load(ort, original);
  let b: Ort.InferenceSession | undefined;
  try {
    b = await load(ort, converted);
    const bInputs = new Map(b.inputMetadata.map((m) => [m.name, m]));
    const bOutputs = new Set(b.outputNames);
    const outputs = a.outputMetadata.filter((m) => m.isTensor && FLOAT_TYPES.has(m.type)).map((m) => m.name);
    let maxAbsError = 0;
    for (let r = 0; r < runs; r++) {
      const feedsA: Record<string, Ort.Tensor> = {};
      const feedsB: Record<string, Ort.Tensor> = {};
      for (const m of a.inputMetadata) {
        if (!m.isTensor || !FEEDABLE.has(m.type)) {
          throw new InputError(original, `input ${m.name} is ${m.isTensor ? m.type : 'not a tensor'}; the check only feeds numeric tensors`);
        }
        const dims = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
        const n = dims.reduce((x, y) => x * y, 1);
        const isFloat = FLOAT_TYPES.has(m.type);
        const vals = Array.from({ length: n }, () => (isFloat ? rand() * 2 - 1 : Math.floor(rand() * 4)));
        const bm = bInputs.get(m.name);
        if (!bm || !bm.isTensor) throw new InputError(converted, `input ${m.name} of the original model is missing`);
        feedsA[m.name] = new ort.Tensor(m.type, typedData(m.type, vals), dims);
        feedsB[m.name] = new ort.Tensor(bm.type, typedData(bm.type, vals), dims);
      }
      const outA = await run(a, original, feedsA);
      const outB = await run(b, converted, feedsB);
      for (const name of outputs) {
        if (!bOutputs.has(name)) throw new InputError(converted, `output ${name} of the original model is missing`);
        const x = floats(outA[name]);
        const y = floats(outB[name]);
        if (x.length !== y.length) throw new InputError(converted, `output ${name} has ${y.length} values, the original has ${x.length}`);
        for (let i = 0; i < x.length; i++) maxAbsError = Math.max(maxAbsError, diff(x[i], y[i]));
      }
    }
    return { maxAbsError, inputsTried: runs, outputs };
  } finally {
    await a.release();
    await b?.release();
  }
}

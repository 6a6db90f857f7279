/**
 * Checks a converted ONNX model against its original: both run in onnxruntime on the same inputs
 * (given by the user, else derived from the graph: see checkInputs.ts) and the float outputs are
 * compared. onnxruntime runs in child processes (OrtSession), so a native crash in it is an error here.
 */
import { CancelledError, InputError } from '../errors';
import { OrtCrashError, OrtError, OrtSession, OrtTimeoutError, TensorData, ValueMeta } from '../onnxrt/session';
import { f16BitsToF32, f32BitsToF16 } from './safetensors';
import { mulberry32 } from '../util/random';
import { DEFAULT_RATE, GivenInputs, RATE_NAME, STATE_NAME } from './checkInputs';

export interface CompareResult {
  /** Largest |original − converted| over every element of every float output and run. */
  maxAbsError: number;
  /** maxAbsError over the largest |original output| (0 when both are 0, Infinity when only the error is). */
  maxRelError: number;
  inputsTried: number;
  /** The float outputs compared. */
  outputs: string[];
  /** Float outputs whose every value, over every run, was the same: they check nothing (a saturated model?). */
  constantOutputs: string[];
  /** What each input was fed: "[1, 512] random", "16000 (rate)", "[2, 1, 128] zeros (state)", "[1, 256] given". */
  inputs: Record<string, string>;
}

/** An InputError that came from onnxruntime crashing or hanging (its cause says which). */
export class OrtCheckError extends InputError {
  constructor(
    file: string,
    problem: string,
    readonly cause: Error,
  ) {
    super(file, problem);
  }
}

const FLOAT_TYPES = new Set(['float32', 'float16', 'float64']);
const FEEDABLE = new Set([
  ...FLOAT_TYPES,
  'int64',
  'uint64',
  'int32',
  'uint32',
  'int16',
  'uint16',
  'int8',
  'uint8',
  'bool',
]);
const u32 = new Uint32Array(1);
const f32 = new Float32Array(u32.buffer);

/** Values (as plain numbers) into the typed array onnxruntime wants for `type`. */
function typedData(type: string, vals: number[]): TensorData['data'] {
  switch (type) {
    case 'float32':
      return Float32Array.from(vals);
    case 'float64':
      return Float64Array.from(vals);
    case 'float16':
      return Uint16Array.from(vals, (v) => {
        f32[0] = v;
        return f32BitsToF16(u32[0]);
      });
    case 'int64':
      return BigInt64Array.from(vals, (v) => BigInt(Math.round(v)));
    case 'uint64':
      return BigUint64Array.from(vals, (v) => BigInt(Math.round(v)));
    case 'int32':
      return Int32Array.from(vals);
    case 'uint32':
      return Uint32Array.from(vals);
    case 'int16':
      return Int16Array.from(vals);
    case 'uint16':
      return Uint16Array.from(vals);
    case 'int8':
      return Int8Array.from(vals);
    case 'uint8':
      return Uint8Array.from(vals);
    case 'bool':
      return Uint8Array.from(vals, (v) => (v ? 1 : 0));
    default:
      throw new Error(`cannot feed ${type}`); // callers check FEEDABLE first
  }
}

/** A float output as numbers (float16 arrives as raw bits in a Uint16Array on Node without Float16Array). */
function floats(t: TensorData): ArrayLike<number> {
  if (t.type === 'float16' && t.data instanceof Uint16Array) {
    const bits = t.data;
    return Float32Array.from(bits, (h) => {
      u32[0] = f16BitsToF32(h);
      return f32[0];
    });
  }
  return t.data as ArrayLike<number>;
}

function diff(a: number, b: number): number {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return 0; // same Inf or both NaN count as equal
  const d = Math.abs(a - b);
  return Number.isNaN(d) ? Infinity : d;
}

/** Turns a session error into an InputError naming `file`; `doing` is "load" or "run". */
function explain(e: unknown, file: string, doing: 'load' | 'run'): Error {
  if (e instanceof CancelledError) return e;
  if (e instanceof OrtCrashError)
    return new OrtCheckError(file, `onnxruntime crashed (${e.how}) ${doing === 'load' ? 'loading' : 'running'} it`, e);
  if (e instanceof OrtTimeoutError) return new OrtCheckError(file, e.message, e);
  if (e instanceof OrtError) return new InputError(file, `onnxruntime cannot ${doing} it: ${e.message.trim()}`);
  return e as Error;
}

async function load(file: string, signal: AbortSignal | undefined): Promise<OrtSession> {
  try {
    return await OrtSession.create(file, { signal });
  } catch (e) {
    throw explain(e, file, 'load');
  }
}

async function run(
  s: OrtSession,
  file: string,
  feeds: Record<string, TensorData>,
): Promise<Record<string, TensorData>> {
  try {
    return await s.run(feeds);
  } catch (e) {
    throw explain(e, file, 'run');
  }
}

/** How one input is fed: its dims and where its values come from. */
interface Feed {
  meta: ValueMeta;
  dims: number[];
  /** Fixed values (given, a rate, zeros), else random each run. */
  values?: number[];
  how: string;
}

const product = (dims: number[]) => dims.reduce((x, y) => x * y, 1);

/**
 * The feeds for every input of the original: given ones as given, else derived. `symbolic` is the size
 * fed for a symbolic dimension after the first (the first, usually the batch, is always 1).
 */
function planFeeds(file: string, meta: readonly ValueMeta[], given: GivenInputs, symbolic: number): Feed[] {
  const names = new Set(meta.map((m) => m.name));
  for (const name of Object.keys(given)) {
    if (!names.has(name))
      throw new InputError(
        file,
        `example input '${name}' is not an input of the model (its inputs: ${[...names].join(', ')})`,
      );
  }
  return meta.map((m): Feed => {
    if (!m.isTensor || !m.type || !FEEDABLE.has(m.type)) {
      throw new InputError(
        file,
        `input ${m.name} is ${m.isTensor ? m.type : 'not a tensor'}; the check only feeds numeric tensors`,
      );
    }
    const g = given[m.name];
    const isFloat = FLOAT_TYPES.has(m.type);
    const derived = m.shape.map((d, i) => (typeof d === 'number' && d >= 0 ? d : i === 0 ? 1 : symbolic));
    if (g) {
      let dims = g.shape;
      if (!dims && g.values) {
        // Values without a shape: the model's shape when it is fixed and fits, a scalar, or a flat list.
        const fixed = m.shape.every((d) => typeof d === 'number' && d >= 0) ? (m.shape as number[]) : undefined;
        dims =
          fixed && product(fixed) === g.values.length
            ? fixed
            : g.values.length === 1
              ? derived.map(() => 1)
              : [g.values.length];
      }
      dims ??= derived;
      if (g.values && g.values.length !== product(dims))
        throw new InputError(
          file,
          `example input ${m.name}: ${g.values.length} values do not fill shape [${dims.join(', ')}]`,
        );
      const values = g.values ?? (g.fill !== undefined ? new Array(product(dims)).fill(g.fill) : undefined);
      const how = values?.length === 1 ? `${values[0]} given` : `[${dims.join(', ')}] ${values ? 'given' : 'random'}`;
      return { meta: m, dims, values, how };
    }
    const n = product(derived);
    if (!isFloat && n === 1 && RATE_NAME.test(m.name))
      return { meta: m, dims: derived, values: [DEFAULT_RATE], how: `${DEFAULT_RATE} (rate)` };
    if (isFloat && STATE_NAME.test(m.name))
      return { meta: m, dims: derived, values: new Array(n).fill(0), how: `[${derived.join(', ')}] zeros (state)` };
    return { meta: m, dims: derived, how: `[${derived.join(', ')}] random` };
  });
}

/** Symbolic sizes tried in turn when the original refuses the first guess (an audio frame needs far more than 1 sample). */
const SYMBOLIC_SIZES = [1, 512];

export interface CompareOptions {
  /** Runs with random inputs (default 3); 1 when every input is fixed (given or derived). */
  runs?: number;
  seed?: number;
  /** Inputs the user gave (shapes and/or values); the others are derived from the graph. */
  inputs?: GivenInputs;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/**
 * Runs `original` and `converted` on the same inputs and returns the largest difference of their float
 * outputs. Inputs the user did not give: symbolic dims 1 (the first) or 1, then 512 (the others, when
 * the original refuses 1), a scalar integer named like a rate 16000, a float named like a state zeros,
 * else floats uniform in [-1, 1) and integers 0..3. Throws InputError naming the file that
 * onnxruntime cannot load or run, OrtCheckError when it crashed or hung on it.
 */
export async function compareOnnx(
  original: string,
  converted: string,
  opts: CompareOptions = {},
): Promise<CompareResult> {
  const given = opts.inputs ?? {};
  const a = await load(original, opts.signal);
  let b: OrtSession | undefined;
  try {
    b = await load(converted, opts.signal);
    const bInputs = new Map(b.inputs.map((m) => [m.name, m]));
    const bOutputs = new Set(b.outputNames);
    const outputs = a.outputs.filter((m) => m.isTensor && m.type && FLOAT_TYPES.has(m.type)).map((m) => m.name);
    for (const m of a.inputs)
      if (!bInputs.get(m.name)?.isTensor)
        throw new InputError(converted, `input ${m.name} of the original model is missing`);

    // The first run on the original picks the symbolic size: the first one it accepts.
    let plan: Feed[] = [];
    let first: { feeds: Record<string, number[]>; out: Record<string, TensorData> } | undefined;
    let firstError: Error | undefined;
    const rand = mulberry32(opts.seed ?? 1);
    const valuesFor = (p: Feed[]) =>
      Object.fromEntries(
        p.map((f) => [
          f.meta.name,
          f.values ??
            Array.from({ length: product(f.dims) }, () =>
              FLOAT_TYPES.has(f.meta.type!) ? rand() * 2 - 1 : Math.floor(rand() * 4),
            ),
        ]),
      );
    const tensors = (p: Feed[], vals: Record<string, number[]>, types: (m: ValueMeta) => string) =>
      Object.fromEntries(
        p.map((f) => [
          f.meta.name,
          { type: types(f.meta), dims: f.dims, data: typedData(types(f.meta), vals[f.meta.name]) },
        ]),
      );
    const hasSymbolic = a.inputs.some(
      (m) => !given[m.name]?.shape && m.shape.some((d, i) => i > 0 && !(typeof d === 'number' && d >= 0)),
    );
    for (const size of hasSymbolic ? SYMBOLIC_SIZES : [1]) {
      plan = planFeeds(original, a.inputs, given, size);
      const feeds = valuesFor(plan);
      try {
        first = {
          feeds,
          out: await run(
            a,
            original,
            tensors(plan, feeds, (m) => m.type!),
          ),
        };
        if (size !== SYMBOLIC_SIZES[0])
          opts.log?.(`the original refused symbolic dimensions of 1; checked with ${size}`);
        break;
      } catch (e) {
        if (e instanceof OrtCheckError || !(e instanceof InputError)) throw e;
        firstError ??= e;
      }
    }
    if (!first) throw firstError!;
    const fixed = plan.every((f) => f.values);
    const runs = fixed ? 1 : (opts.runs ?? 3);

    let maxAbsError = 0;
    let maxAbsRef = 0;
    const seen = new Map<string, { value: number; count: number; varies: boolean }>();
    for (let r = 0; r < runs; r++) {
      const feeds = r === 0 ? first.feeds : valuesFor(plan);
      const outA =
        r === 0
          ? first.out
          : await run(
              a,
              original,
              tensors(plan, feeds, (m) => m.type!),
            );
      const outB = await run(
        b,
        converted,
        tensors(plan, feeds, (m) => bInputs.get(m.name)!.type!),
      );
      for (const name of outputs) {
        if (!bOutputs.has(name)) throw new InputError(converted, `output ${name} of the original model is missing`);
        const x = floats(outA[name]);
        const y = floats(outB[name]);
        if (x.length !== y.length)
          throw new InputError(converted, `output ${name} has ${y.length} values, the original has ${x.length}`);
        const s = seen.get(name) ?? { value: x[0], count: 0, varies: false };
        for (let i = 0; i < x.length; i++) {
          maxAbsError = Math.max(maxAbsError, diff(x[i], y[i]));
          if (Number.isFinite(x[i])) maxAbsRef = Math.max(maxAbsRef, Math.abs(x[i]));
          if (!s.varies && !Object.is(x[i], s.value)) s.varies = true;
        }
        s.count += x.length;
        seen.set(name, s);
      }
    }
    const constantOutputs = outputs.filter((n) => {
      const s = seen.get(n)!;
      return !s.varies && s.count > 1;
    });
    const maxRelError = maxAbsRef > 0 ? maxAbsError / maxAbsRef : maxAbsError === 0 ? 0 : Infinity;
    return {
      maxAbsError,
      maxRelError,
      inputsTried: runs,
      outputs,
      constantOutputs,
      inputs: Object.fromEntries(plan.map((f) => [f.meta.name, f.how])),
    };
  } finally {
    await a.release();
    await b?.release();
  }
}

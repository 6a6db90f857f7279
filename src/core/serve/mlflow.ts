/**
 * MLflow's scoring-server formats for `POST /invocations`, so MLflow clients and scripts work
 * unchanged against `modelreg serve` (after mlflow/pyfunc/scoring_server and utils/proto_json_utils).
 *
 *   const feeds = parseInvocation(body, req.headers['content-type'] ?? '', session.inputs); // throws InvocationError
 *   res.end(JSON.stringify(formatPredictions(outputs)));                                     // { predictions: … }
 *
 * Content types: `application/json` and `text/csv`, with at most a `charset=utf-8` parameter. As in
 * MLflow 2, any other parameter (the 1.x `format=pandas-split` / `pandas-records`) is refused with 415.
 *
 * A JSON body is an object with exactly one of these keys (`params`, and keys MLflow ignores, are ignored):
 * - `inputs`: for a single-input model a nested list (the tensor), else an object input name → nested list;
 * - `instances` (TF-serving rows): a nested list as for `inputs`, or a list of objects input name → that
 *   instance's value, stacked along a new axis 0;
 * - `dataframe_split`: `{ columns?, data: [[…], …], index? }`; `dataframe_records`: `[{ column: value }, …]`.
 *   A dataframe whose columns are the model's input names (in any order) gives one tensor per column,
 *   its cells stacked along axis 0; any other dataframe feeds a single-input model as a [rows, columns]
 *   matrix. Either way, when the input's non-batch dims are all fixed and hold as many elements as a
 *   row, the rows are reshaped to them (so a CSV of 784 pixels feeds a [N, 1, 28, 28] input).
 * `text/csv` is a header row and then data rows, read like `dataframe_split`.
 *
 * Elements take the model input's type (ValueMeta.type): floats from numbers (float16 rounded to the
 * nearest, stored as bits in a Uint16Array), integers from integral numbers in range (int64 as
 * BigInt64Array; JSON numbers are exact only to 2^53, so larger ones are refused), bool from
 * true/false (or 0/1), string from strings. Shapes are checked against the input's: fixed dims must
 * match, −1 and named dims take any size; an input with no known shape ([]) takes any shape.
 *
 * Errors (InvocationError, with the HTTP status to answer) say which key or input was expected and
 * what kind of thing came, but never repeat the payload's values.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { f32BitsToF16 } from '../convert/safetensors';
import type { TensorData, ValueMeta } from '../onnxrt/protocol';
import { halfToNumber } from '../util/float16';

export class InvocationError extends Error {
  constructor(
    message: string,
    /** 400 for a bad body, 415 for a content type the server does not read. */
    readonly status: 400 | 415 = 400,
  ) {
    super(message);
    this.name = 'InvocationError';
  }
}

const FORMATS = ['inputs', 'instances', 'dataframe_split', 'dataframe_records'] as const;
type Json = unknown;

/** Parses an /invocations body into one feed per model input. */
export function parseInvocation(body: Buffer, contentType: string, inputs: ValueMeta[]): Record<string, TensorData> {
  const [mime, ...params] = contentType.split(';').map((s) => s.trim());
  for (const p of params) {
    const [key, value = ''] = p.split('=').map((s) => s.trim());
    if (key.toLowerCase() !== 'charset')
      throw new InvocationError(
        `unsupported content type parameter ${quote(key)}: MLflow 2 reads only charset; instead of format=pandas-split or pandas-records, send application/json with a dataframe_split or dataframe_records key`,
        415,
      );
    if (value.replace(/^"|"$/g, '').toLowerCase() !== 'utf-8')
      throw new InvocationError(`unsupported charset ${quote(value)}: only utf-8 is read`, 415);
  }
  for (const i of inputs)
    if (!i.isTensor)
      throw new InvocationError(`input ${quote(i.name)} is not a tensor; /invocations feeds tensors only`);
  const text = body.toString('utf8');
  switch (mime.toLowerCase()) {
    case 'application/json':
      return parseJsonBody(text, inputs);
    case 'text/csv':
      return parseCsvBody(text, inputs);
    default:
      throw new InvocationError(
        `unsupported content type ${mime ? quote(mime) : '(none)'}: send application/json or text/csv`,
        415,
      );
  }
}

/** MLflow's answer: { predictions: nested list } for one output, { predictions: { name: nested list } } for several. */
export function formatPredictions(outputs: Record<string, TensorData>): { predictions: unknown } {
  const names = Object.keys(outputs);
  if (names.length === 1) return { predictions: nested(outputs[names[0]]) };
  return { predictions: Object.fromEntries(names.map((n) => [n, nested(outputs[n])])) };
}

function parseJsonBody(text: string, inputs: ValueMeta[]): Record<string, TensorData> {
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text; say only where the problem is not.
    throw new InvocationError(`the body is not valid JSON (${Buffer.byteLength(text)} bytes)`);
  }
  if (!isObject(doc))
    throw new InvocationError(`expected a JSON object with one of the keys ${FORMATS.join(', ')}; got ${kind(doc)}`);
  const present = FORMATS.filter((k) => k in doc);
  if (present.length !== 1)
    throw new InvocationError(
      present.length === 0
        ? `expected one of the keys ${FORMATS.join(', ')}; got ${describeKeys(Object.keys(doc))}`
        : `expected exactly one of the keys ${FORMATS.join(', ')}; got ${present.join(' and ')}`,
    );
  const value = doc[present[0]];
  switch (present[0]) {
    case 'inputs':
      return fromTensorInput(value, inputs, 'inputs');
    case 'instances':
      return fromInstances(value, inputs);
    case 'dataframe_split':
      return fromSplit(value, inputs);
    case 'dataframe_records':
      return fromRecords(value, inputs);
  }
}

/** `inputs` (and `instances` given as columns or one tensor): a nested list for a single input, or name → nested list. */
function fromTensorInput(value: Json, inputs: ValueMeta[], key: string): Record<string, TensorData> {
  if (isObject(value)) {
    checkNames(Object.keys(value), inputs, `${key} keys`);
    return Object.fromEntries(inputs.map((m) => [m.name, checkShape(toTensor(value[m.name], m), m)]));
  }
  if (inputs.length !== 1)
    throw new InvocationError(
      `${key}: this model has ${inputs.length} inputs (${names(inputs)}), so ${key} must be an object input name → nested list; got ${kind(value)}`,
    );
  if (Array.isArray(value) && value.length > 0 && value.every(isObject))
    throw new InvocationError(
      `${key}: got a list of objects; rows of named inputs go under instances, or dataframe_records`,
    );
  return { [inputs[0].name]: checkShape(toTensor(value, inputs[0]), inputs[0]) };
}

function fromInstances(value: Json, inputs: ValueMeta[]): Record<string, TensorData> {
  if (!Array.isArray(value) || value.length === 0 || !isObject(value[0])) {
    if (Array.isArray(value) && value.some(isObject))
      throw new InvocationError('instances: mixes objects and other values; each instance must be an object');
    return fromTensorInput(value, inputs, 'instances');
  }
  const rows = value as Json[];
  const out: Record<string, TensorData> = {};
  rows.forEach((r, i) => {
    if (!isObject(r))
      throw new InvocationError(`instances[${i}]: expected an object input name → value; got ${kind(r)}`);
    checkNames(Object.keys(r), inputs, `instances[${i}] keys`);
  });
  for (const m of inputs)
    out[m.name] = checkShape(
      toTensor(
        rows.map((r) => (r as Record<string, Json>)[m.name]),
        m,
      ),
      m,
    );
  return out;
}

function fromSplit(value: Json, inputs: ValueMeta[]): Record<string, TensorData> {
  if (!isObject(value))
    throw new InvocationError(
      `dataframe_split: expected an object with data and optionally columns, index; got ${kind(value)}`,
    );
  const extra = Object.keys(value).filter((k) => !['columns', 'data', 'index'].includes(k));
  if (!('data' in value) || extra.length)
    throw new InvocationError(
      `dataframe_split: expected the keys data and optionally columns, index; got ${describeKeys(Object.keys(value))}`,
    );
  const { columns, data } = value;
  if (!Array.isArray(data) || !data.every(Array.isArray))
    throw new InvocationError(`dataframe_split.data: expected a list of rows (lists); got ${kind(data)}`);
  if (columns !== undefined && (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string')))
    throw new InvocationError('dataframe_split.columns: expected a list of column names (strings)');
  const width = columns?.length ?? (data[0] as Json[] | undefined)?.length ?? 0;
  data.forEach((r, i) => {
    if ((r as Json[]).length !== width)
      throw new InvocationError(`dataframe_split.data[${i}]: ${(r as Json[]).length} values for ${width} columns`);
  });
  return fromFrame(columns as string[] | undefined, data as Json[][], inputs, 'dataframe_split');
}

function fromRecords(value: Json, inputs: ValueMeta[]): Record<string, TensorData> {
  if (!Array.isArray(value))
    throw new InvocationError(`dataframe_records: expected a list of records (objects); got ${kind(value)}`);
  const columns: string[] = [];
  value.forEach((r, i) => {
    if (!isObject(r))
      throw new InvocationError(`dataframe_records[${i}]: expected an object column → value; got ${kind(r)}`);
    for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  });
  const data = (value as Record<string, Json>[]).map((r, i) =>
    columns.map((c) => {
      if (!(c in r)) throw new InvocationError(`dataframe_records[${i}]: no value for column ${quote(c)}`);
      return r[c];
    }),
  );
  return fromFrame(columns, data, inputs, 'dataframe_records');
}

function parseCsvBody(text: string, inputs: ValueMeta[]): Record<string, TensorData> {
  let records: string[][];
  try {
    records = parseCsv(text, { skip_empty_lines: true, relax_column_count: false, bom: true });
  } catch (e) {
    // csv-parse's messages name the line and column counts, not the values.
    const line = (e as { lines?: number }).lines;
    throw new InvocationError(
      `the CSV body cannot be read${line ? ` (line ${line})` : ''}: rows must have as many fields as the header`,
    );
  }
  if (records.length === 0) throw new InvocationError('the CSV body is empty; expected a header row, then data rows');
  const [columns, ...rows] = records;
  return fromFrame(columns, rows, inputs, 'CSV');
}

/**
 * A dataframe (split, records or CSV) as feeds: one tensor per column when the columns are the input
 * names, else a [rows, columns] matrix for a single-input model.
 */
function fromFrame(
  columns: string[] | undefined,
  data: Json[][],
  inputs: ValueMeta[],
  what: string,
): Record<string, TensorData> {
  const byName =
    columns !== undefined &&
    columns.length === inputs.length &&
    inputs.every((m) => columns.includes(m.name)) &&
    new Set(columns).size === columns.length;
  if (byName) {
    return Object.fromEntries(
      inputs.map((m) => {
        const c = columns.indexOf(m.name);
        return [
          m.name,
          fitRows(
            toTensor(
              data.map((r) => cell(r[c], m)),
              m,
            ),
            m,
            `${what} column ${quote(m.name)}`,
          ),
        ];
      }),
    );
  }
  if (inputs.length !== 1)
    throw new InvocationError(
      `${what}: this model has ${inputs.length} inputs, so the columns must be their names (${names(inputs)}); got ${columns ? describeKeys(columns) : 'no column names'}`,
    );
  const m = inputs[0];
  data.forEach((r, i) =>
    r.forEach((v, j) => {
      if (Array.isArray(v) || isObject(v))
        throw new InvocationError(
          `${what}: row ${i}, column ${j} holds ${kind(v)}; a list per cell is read only when the columns are named as the inputs (${names(inputs)})`,
        );
    }),
  );
  const width = columns?.length ?? data[0]?.length ?? 0;
  const t = toTensor(
    data.map((r) => r.map((v) => cell(v, m))),
    m,
  );
  if (data.length === 0) t.dims = [0, width];
  return { [m.name]: fitRows(t, m, what) };
}

/** CSV cells arrive as text: read them as the input's type wants. */
function cell(v: Json, m: ValueMeta): Json {
  if (typeof v !== 'string' || m.type === 'string') return v;
  const s = v.trim();
  if (m.type === 'bool') {
    const l = s.toLowerCase();
    if (l === 'true' || l === 'false') return l === 'true';
  }
  if (s === '') return v;
  if (FLOATS.has(m.type ?? '')) {
    const l = s.toLowerCase();
    if (l === 'nan') return NaN;
    if (l === 'inf' || l === 'infinity' || l === '+inf') return Infinity;
    if (l === '-inf' || l === '-infinity') return -Infinity;
  }
  const n = Number(s);
  return Number.isNaN(n) ? v : n;
}

/** Dataframe rows may be reshaped to the input's fixed non-batch dims (a flat row of pixels → [C, H, W]). */
function fitRows(t: TensorData, m: ValueMeta, what: string): TensorData {
  if (shapeProblem(t.dims, m.shape) === undefined) return t;
  const rest = m.shape.slice(1);
  const perRow = t.dims.slice(1).reduce((a, b) => a * b, 1);
  if (
    m.shape.length > 0 &&
    t.dims.length > 0 &&
    rest.every((d) => typeof d === 'number' && d >= 0) &&
    (rest as number[]).reduce((a, b) => a * b, 1) === perRow
  )
    return { ...t, dims: [t.dims[0], ...(rest as number[])] };
  return checkShape(t, m, what);
}

function checkShape(t: TensorData, m: ValueMeta, what = `input ${quote(m.name)}`): TensorData {
  const problem = shapeProblem(t.dims, m.shape);
  if (problem)
    throw new InvocationError(
      `${what}: shape [${t.dims.join(', ')}] does not fit the input's [${m.shape.map(dimText).join(', ')}] (${problem})`,
    );
  return t;
}

function shapeProblem(dims: number[], shape: (number | string)[]): string | undefined {
  if (shape.length === 0) return undefined; // unknown shape (or a scalar: onnxruntime checks)
  if (dims.length !== shape.length) return `${dims.length} dims for ${shape.length}`;
  for (let i = 0; i < dims.length; i++) {
    const d = shape[i];
    if (typeof d === 'number' && d >= 0 && dims[i] !== d) return `dim ${i} is ${dims[i]}, expected ${d}`;
  }
  return undefined;
}

const dimText = (d: number | string) => (typeof d === 'number' && d >= 0 ? String(d) : '-1');

type Elements = Exclude<TensorData['data'], string[]>;
const FLOATS = new Set(['float32', 'float64', 'float16']);
const INTS: Record<string, [min: number, max: number, make: (n: number) => Elements]> = {
  int8: [-128, 127, (n) => new Int8Array(n)],
  uint8: [0, 255, (n) => new Uint8Array(n)],
  int16: [-32768, 32767, (n) => new Int16Array(n)],
  uint16: [0, 65535, (n) => new Uint16Array(n)],
  int32: [-(2 ** 31), 2 ** 31 - 1, (n) => new Int32Array(n)],
  uint32: [0, 2 ** 32 - 1, (n) => new Uint32Array(n)],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, (n) => new BigInt64Array(n)],
  uint64: [0, Number.MAX_SAFE_INTEGER, (n) => new BigUint64Array(n)],
};

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A nested list (or a scalar) as a tensor of the input's type; ragged lists and wrong element kinds are refused. */
function toTensor(value: Json, m: ValueMeta): TensorData {
  const what = `input ${quote(m.name)}`;
  if (value === undefined) throw new InvocationError(`${what}: no value given`);
  const dims: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) dims.push(v.length);
  const leaves: Json[] = [];
  const walk = (v: Json, depth: number, at: string) => {
    if (depth === dims.length) {
      if (Array.isArray(v))
        throw new InvocationError(`${what}: ragged nested list: ${at} is a list, its neighbours are not`);
      leaves.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[depth])
      throw new InvocationError(
        `${what}: ragged nested list: ${at} has ${Array.isArray(v) ? `${v.length} items` : kind(v)}, expected ${dims[depth]} items`,
      );
    v.forEach((x, i) => walk(x, depth + 1, `${at}[${i}]`));
  };
  walk(value, 0, 'element ');
  const type = m.type ?? 'float32';
  const bad = (i: number, wanted: string) =>
    new InvocationError(`${what}: element ${i} (row-major) is ${kind(leaves[i])}; ${type} expects ${wanted}`);
  let data: TensorData['data'];
  if (type === 'string') {
    data = leaves.map((v, i) => {
      if (typeof v !== 'string') throw bad(i, 'a string');
      return v;
    });
  } else if (type === 'bool') {
    const out = new Uint8Array(leaves.length);
    leaves.forEach((v, i) => {
      if (v === true || v === 1) out[i] = 1;
      else if (v !== false && v !== 0) throw bad(i, 'true or false');
    });
    data = out;
  } else if (FLOATS.has(type)) {
    const nums = leaves.map((v, i) => {
      if (typeof v !== 'number') throw bad(i, 'a number');
      return v;
    });
    if (type === 'float32') data = Float32Array.from(nums);
    else if (type === 'float64') data = Float64Array.from(nums);
    else
      data = Uint16Array.from(nums, (n) => {
        f32[0] = n;
        return f32BitsToF16(u32[0]);
      });
  } else if (INTS[type]) {
    const [min, max, make] = INTS[type];
    const out = make(leaves.length);
    const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
    leaves.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(i, 'an integer');
      if (v < min || v > max)
        throw new InvocationError(`${what}: element ${i} (row-major) is out of ${type}'s range [${min}, ${max}]`);
      out[i] = (big ? BigInt(v) : v) as never;
    });
    data = out;
  } else {
    throw new InvocationError(`input ${quote(m.name)} has element type ${type}, which /invocations does not read`);
  }
  return { type, dims, data };
}

/** A tensor as MLflow answers it: a nested list (a scalar for dims []); float16 as numbers, int64 as numbers. */
function nested(t: TensorData): unknown {
  const flat: unknown[] =
    t.type === 'float16'
      ? Array.from(t.data as Uint16Array, halfToNumber)
      : t.type === 'bool'
        ? Array.from(t.data as Uint8Array, (b) => b !== 0)
        : Array.from(t.data as ArrayLike<number | bigint | string>, (v) => (typeof v === 'bigint' ? Number(v) : v));
  if (t.dims.length === 0) return flat[0];
  let at = 0;
  const build = (depth: number): unknown[] =>
    Array.from({ length: t.dims[depth] }, () => (depth === t.dims.length - 1 ? flat[at++] : build(depth + 1)));
  return build(0);
}

function checkNames(got: string[], inputs: ValueMeta[], what: string): void {
  const unknown = got.filter((k) => !inputs.some((m) => m.name === k));
  const missing = inputs.filter((m) => !got.includes(m.name)).map((m) => m.name);
  if (unknown.length || missing.length)
    throw new InvocationError(
      `${what}: expected the model's inputs ${names(inputs)}; ${[
        missing.length ? `missing ${missing.map(quote).join(', ')}` : '',
        unknown.length ? `unknown ${describeKeys(unknown)}` : '',
      ]
        .filter(Boolean)
        .join('; ')}`,
    );
}

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const names = (inputs: ValueMeta[]) => inputs.map((m) => quote(m.name)).join(', ');

/** A key or name from the request, cut short: names are worth showing, a payload smuggled into one is not. */
const quote = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
const describeKeys = (keys: string[]) =>
  keys.length === 0
    ? 'no keys'
    : keys.slice(0, 5).map(quote).join(', ') + (keys.length > 5 ? ` and ${keys.length - 5} more` : '');

/** The kind of a JSON value, never the value. */
function kind(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}

/**
 * The inputs a conversion check feeds: given by the user (a converter parameter, or an .npz/.json of
 * example inputs stored with the version), else derived from the graph. Random values with every
 * symbolic dimension 1 are a poor guess for many real models (an audio model wants sr = 16000 and a
 * frame of 512 samples), so the defaults look at names too: a scalar integer named like a sample
 * rate gets 16000, a float input named like a recurrent state starts at zeros.
 */
import { promises as fsp } from 'fs';
import { InputError } from '../errors';
import { listNpz, openNpzArray, toNumbers } from '../datasets/npy';

/** One input as the user gave it: a shape (values random) or values (with a shape, or a scalar / flat list). */
export interface GivenInput {
  shape?: number[];
  /** Flattened row-major values. */
  values?: number[];
  /** Every element this value (with a shape). */
  fill?: number;
}
export type GivenInputs = Record<string, GivenInput>;

const MAX_ELEMENTS = 1 << 24;

function checkShape(shape: unknown, where: string, name: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new InputError(
      where,
      `input ${name}: shape must be a list of whole numbers ≥ 0, not ${JSON.stringify(shape)}`,
    );
  const n = shape.reduce((a: number, b: number) => a * b, 1);
  if (n > MAX_ELEMENTS)
    throw new InputError(
      where,
      `input ${name}: shape [${shape.join(', ')}] has ${n} elements, more than the check feeds (${MAX_ELEMENTS})`,
    );
  return shape;
}

/** A nested list of numbers → its shape and flat values. */
function nested(v: unknown, where: string, name: string): GivenInput {
  const shape: number[] = [];
  for (let x = v; Array.isArray(x); x = x[0]) shape.push(x.length);
  const values = (v as unknown[]).flat(Infinity) as unknown[];
  if (!values.every((x) => typeof x === 'number' || typeof x === 'boolean'))
    throw new InputError(where, `input ${name}: values must be numbers`);
  if (values.length !== shape.reduce((a, b) => a * b, 1))
    throw new InputError(
      where,
      `input ${name}: the nested lists are ragged (shape [${shape.join(', ')}] needs ${shape.reduce((a, b) => a * b, 1)} values, there are ${values.length})`,
    );
  return { shape, values: values.map(Number) };
}

/** JSON form: { name: 16000 | [[...]] | { shape, values?, fill? } }. */
function fromJson(obj: unknown, where: string): GivenInputs {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj))
    throw new InputError(
      where,
      'example inputs must be a JSON object of input name → value, nested list, or {"shape": [...], "values"|"fill": ...}',
    );
  const out: GivenInputs = {};
  for (const [name, v] of Object.entries(obj as Record<string, unknown>)) {
    if (typeof v === 'number' || typeof v === 'boolean') out[name] = { values: [Number(v)] };
    else if (Array.isArray(v)) out[name] = nested(v, where, name);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const unknown = Object.keys(o).filter((k) => !['shape', 'values', 'fill'].includes(k));
      if (unknown.length)
        throw new InputError(
          where,
          `input ${name}: unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')} (use shape, values, fill)`,
        );
      const g: GivenInput = {};
      if (o.shape !== undefined) g.shape = checkShape(o.shape, where, name);
      if (o.fill !== undefined) {
        if (typeof o.fill !== 'number') throw new InputError(where, `input ${name}: fill must be a number`);
        g.fill = o.fill;
      }
      if (o.values !== undefined)
        g.values = Array.isArray(o.values)
          ? nested(o.values, where, name).values
          : fromJson({ [name]: o.values }, where)[name].values;
      if (g.values && g.shape && g.values.length !== g.shape.reduce((a, b) => a * b, 1))
        throw new InputError(
          where,
          `input ${name}: ${g.values.length} values do not fill shape [${g.shape.join(', ')}]`,
        );
      out[name] = g;
    } else throw new InputError(where, `input ${name}: ${JSON.stringify(v)} is not a value, a list or {"shape": ...}`);
  }
  return out;
}

/**
 * The `inputs` converter parameter: JSON (as for an inputs file), or the short form
 * `name=[1,512]; sr=16000; state=[2,1,128]:0` — a shape in brackets (random values, or `:v` for all v),
 * or a number for a scalar.
 */
export function parseInputsParam(text: string, where: string): GivenInputs {
  const t = text.trim();
  if (t.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch (e) {
      throw new InputError(where, `inputs is not valid JSON: ${(e as Error).message}`);
    }
    return fromJson(obj, where);
  }
  const out: GivenInputs = {};
  for (const part of t
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([^=]+)=\s*(?:\[([\d\s,]*)\]\s*(?::\s*(\S+))?|(\S+))$/.exec(part);
    if (!m)
      throw new InputError(
        where,
        `inputs: cannot read '${part}'; write name=[d1,d2] (random), name=[d1,d2]:value or name=value`,
      );
    const name = m[1].trim();
    if (m[2] !== undefined) {
      const shape = checkShape(m[2].trim() === '' ? [] : m[2].split(',').map((d) => Number(d.trim())), where, name);
      const g: GivenInput = { shape };
      if (m[3] !== undefined) {
        if (!Number.isFinite(Number(m[3])))
          throw new InputError(where, `inputs: '${m[3]}' in '${part}' is not a number`);
        g.fill = Number(m[3]);
      }
      out[name] = g;
    } else {
      if (!Number.isFinite(Number(m[4]))) throw new InputError(where, `inputs: '${m[4]}' in '${part}' is not a number`);
      out[name] = { values: [Number(m[4])] };
    }
  }
  return out;
}

/** Example inputs from a file: an .npz (one array per input, np.savez) or a .json (see parseInputsParam). `where` names it in errors. */
export async function readInputsFile(file: string, where: string): Promise<GivenInputs> {
  if (/\.npz$/i.test(where)) {
    const out: GivenInputs = {};
    const members = await listNpz(file).catch((e: Error) => {
      throw e instanceof InputError ? new InputError(where, e.problem) : e;
    });
    for (const m of members) {
      const a = await openNpzArray(file, m.name, members);
      try {
        const shape = checkShape(a.header.shape, where, m.name);
        const n = shape.reduce((x, y) => x * y, 1);
        out[m.name] = { shape, values: n === 0 ? [] : toNumbers(await a.readRows(0, a.rows), a.header.dtype) };
      } finally {
        await a.close();
      }
    }
    return out;
  }
  const text = await fsp.readFile(file, 'utf8');
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new InputError(where, `not valid JSON: ${(e as Error).message}`);
  }
  return fromJson(obj, where);
}

/** A scalar integer input named like a sample rate (Silero VAD's `sr`, `sample_rate`, `sampling_rate`, `fs`). */
export const RATE_NAME = /^(sr|fs|rate)$|(^|_)(sample|sampling)_?rate$|_sr$/i;
/** A float input named like a recurrent state, which starts at zero in real use. */
export const STATE_NAME = /state|hidden|cache|past|^[hc]_?0$|^(h|c)_?(in|prev)$/i;
/** The rate fed to a rate-like input: the most common speech rate. */
export const DEFAULT_RATE = 16000;

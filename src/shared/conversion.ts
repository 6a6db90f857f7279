/**
 * What a converted version's details.conversion says, worded once for every place that shows it
 * in the compare panel's summary. Pure: no vscode, no DOM.
 */
import { formatBytes } from './format';

export interface ConversionFacts {
  /** Converter id, e.g. "onnx-fp16". */
  converter: string;
  /** The ref it was converted from, e.g. "resnet@v1". */
  from: string;
  /** The numeric type it produced (fp16, bf16, int8…), when the converter tells. */
  dtype: string | null;
  /** "3.1 MiB → 1.6 MiB" */
  size: string;
  /** "max abs error 0.00012 (relative 3.1e-5) over 3 input sets", "not verified", or null when the converter does not check. */
  verification: string | null;
}

const DTYPE_OF: Record<string, string> = {
  'onnx-fp16': 'fp16',
  'onnx-int8': 'int8',
  fp16: 'fp16',
  bf16: 'bf16',
  fp32: 'fp32',
};

const num = (x: unknown): number | null => (typeof x === 'number' ? x : null);
const short = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(2)).toString() : String(x));

/** The facts of a conversion, or null for a version that was not converted. */
export function conversionFacts(details: Record<string, unknown>): ConversionFacts | null {
  const c = details.conversion;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) return null;
  const r = c as Record<string, unknown>;
  const converter = typeof r.converter === 'string' ? r.converter : 'conversion';
  const params = (r.params && typeof r.params === 'object' ? r.params : {}) as Record<string, unknown>;
  // Converters record the type they write (details.conversion.dtype); older records do not.
  const dtype =
    typeof r.dtype === 'string'
      ? r.dtype
      : (DTYPE_OF[converter] ?? (typeof params.dtype === 'string' ? params.dtype : null));
  const before = num(r.sizeBefore);
  const after = num(r.sizeAfter);
  const reports = Object.values((r.files && typeof r.files === 'object' ? r.files : {}) as Record<string, unknown>)
    .filter((f): f is Record<string, unknown> => f !== null && typeof f === 'object')
    .filter((f) => typeof f.verified === 'boolean');
  let verification: string | null = null;
  if (reports.some((f) => f.verified === false)) verification = 'not verified';
  else if (reports.length) {
    // The worst file speaks for the version.
    const abs = Math.max(...reports.map((f) => num(f.maxAbsError) ?? 0));
    const rel = Math.max(...reports.map((f) => num(f.maxRelError) ?? 0));
    const sets = Math.min(...reports.map((f) => num(f.inputsTried) ?? 0));
    verification = `max abs error ${short(abs)} (relative ${short(rel)}) over ${sets} input set${sets === 1 ? '' : 's'}`;
  }
  return {
    converter,
    from: typeof r.from === 'string' ? r.from : '',
    dtype,
    size: before !== null && after !== null ? `${formatBytes(before)} → ${formatBytes(after)}` : '',
    verification,
  };
}

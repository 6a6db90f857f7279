// What a version's weights are stored as, and what its conversion recorded, read from its details
// (no query): the tree, the lineage graph and the CLI show them.

/** Short names for the element types readers report (onnx float16, safetensors F16, GGUF f16…). */
const SHORT: Record<string, string> = {
  float32: 'fp32',
  f32: 'fp32',
  float: 'fp32',
  float16: 'fp16',
  f16: 'fp16',
  half: 'fp16',
  bfloat16: 'bf16',
  bf16: 'bf16',
  float64: 'fp64',
  f64: 'fp64',
  double: 'fp64',
  i8: 'int8',
  u8: 'uint8',
};

/** Index and shape tensors (int64 positions, bool masks) say nothing of how the weights are stored. */
const NOT_WEIGHTS = new Set(['int64', 'i64', 'int32', 'i32', 'int16', 'i16', 'uint64', 'uint32', 'bool', 'string']);

export function shortDtype(dtype: string): string {
  const d = dtype.toLowerCase();
  return SHORT[d] ?? d;
}

/**
 * The element type of a version's weights: what its conversion wrote (details.conversion.dtype), else
 * the type most of its weight tensors have (details.weights[].dtypes); null when nothing says.
 */
export function versionDtype(details: Record<string, unknown>): string | null {
  const c = conversionOf(details);
  if (c?.dtype) return c.dtype;
  if (!Array.isArray(details.weights)) return null;
  const counts = new Map<string, number>();
  for (const w of details.weights as { dtypes?: unknown }[]) {
    if (!w || typeof w.dtypes !== 'object' || w.dtypes === null) continue;
    for (const [d, n] of Object.entries(w.dtypes as Record<string, unknown>))
      if (typeof n === 'number' && !NOT_WEIGHTS.has(d.toLowerCase()))
        counts.set(shortDtype(d), (counts.get(shortDtype(d)) ?? 0) + n);
  }
  let best: string | null = null;
  for (const [d, n] of counts) if (best === null || n > counts.get(best)!) best = d;
  return best;
}

/** A conversion's record (details.conversion, written by core/convert), with its fields checked. */
export interface ConversionFacts {
  converter: string;
  title: string | null;
  dtype: string | null;
  from: string | null;
  at: string | null;
  params: Record<string, string>;
  sizeBefore: number | null;
  sizeAfter: number | null;
  /** A tool chain's tool ("atc 7.0") and log (profiles), when it ran one. */
  tool: string | null;
  log: string | null;
  /** Per converted file (its path in the version): the converter's numbers. */
  files: Record<string, Record<string, unknown>>;
}

export function conversionOf(details: Record<string, unknown>): ConversionFacts | undefined {
  const c = details.conversion as Record<string, unknown> | undefined;
  if (!c || typeof c !== 'object' || typeof c.converter !== 'string') return undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  return {
    converter: c.converter,
    title: str(c.title),
    dtype: str(c.dtype),
    from: str(c.from),
    at: str(c.at),
    params: Object.fromEntries(Object.entries(obj(c.params)).map(([k, v]) => [k, String(v)])),
    sizeBefore: num(c.sizeBefore),
    sizeAfter: num(c.sizeAfter),
    tool: str(obj(c.tool).id) && [obj(c.tool).id, str(obj(c.tool).version)].filter(Boolean).join(' '),
    log: str(c.log),
    files: Object.fromEntries(Object.entries(obj(c.files)).map(([k, v]) => [k, obj(v)])),
  };
}

/** One row of the parameter diff. */
export interface ParamRow {
  /** Dotted path, prefixed by the parameter file (e.g. "training_args.json › learning_rate"). */
  key: string;
  /** Value per version rendered as text; null where the version lacks the key. */
  values: (string | null)[];
  differs: boolean;
}

/** Union of parameter keys across versions, values rendered as text, differing rows flagged. */
export function diffParams(perVersion: Record<string, unknown>[]): ParamRow[] {
  const flat = perVersion.map((p) => flatten(p));
  const keys = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  return keys.map((key) => {
    const values = flat.map((f) => f.get(key) ?? null);
    return { key, values, differs: new Set(values).size > 1 };
  });
}

/**
 * Params are stored per source file ({"config.json": {...}}); nested objects become dotted keys
 * under "file › a.b". Arrays are leaves: a list of layer sizes is one value, not many rows.
 */
function flatten(params: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (value: unknown, key: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, key ? `${key}.${k}` : k);
    } else {
      out.set(key, typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null'));
    }
  };
  for (const [source, value] of Object.entries(params)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, `${source} › ${k}`);
    } else walk(value, source);
  }
  return out;
}

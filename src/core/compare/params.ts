/** One row of the parameter diff. */
export interface ParamRow {
  /** Unique: dotted path prefixed by the parameter file (e.g. "training_args.json › learning_rate"). */
  key: string;
  /** The dotted path inside its file ("learning_rate", "optim.momentum"): what the page shows. */
  name: string;
  /** The parameter file it comes from (shown on hover); null for a value stored without one. */
  file: string | null;
  /** Value per version rendered as text; null where the version lacks the key. */
  values: (string | null)[];
  differs: boolean;
}

/** Union of parameter keys across versions, values rendered as text, differing rows flagged. */
export function diffParams(perVersion: Record<string, unknown>[]): ParamRow[] {
  const flat = perVersion.map((p) => flatten(p));
  const names = new Map<string, { name: string; file: string | null }>();
  for (const f of flat) for (const [key, v] of f) names.set(key, { name: v.name, file: v.file });
  const keys = [...names.keys()].sort();
  return keys.map((key) => {
    const values = flat.map((f) => f.get(key)?.text ?? null);
    return { key, ...names.get(key)!, values, differs: new Set(values).size > 1 };
  });
}

type Flat = Map<string, { name: string; file: string | null; text: string }>;

/**
 * Params are stored per source file ({"config.json": {...}}); nested objects become dotted keys
 * under "file › a.b". Arrays are leaves: a list of layer sizes is one value, not many rows.
 */
function flatten(params: Record<string, unknown>): Flat {
  const out: Flat = new Map();
  const walk = (value: unknown, name: string, file: string | null) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, name ? `${name}.${k}` : k, file);
    } else {
      const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
      out.set(file === null ? name : `${file} › ${name}`, { name, file, text });
    }
  };
  for (const [source, value] of Object.entries(params)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, k, source);
    } else walk(value, source, null);
  }
  return out;
}

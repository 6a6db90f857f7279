/** What a version's stored details warn about, for the CLI and the tree (plain data in, strings out). */

interface StoredWeights {
  path?: unknown;
  details?: { warnings?: unknown };
}

/**
 * The readers' warnings about the weight files of a version ("model.pt: loading this file with
 * torch.load would call posix.system"), from details.weights as import stored it.
 */
export function versionWarnings(details: Record<string, unknown>): string[] {
  const weights = Array.isArray(details.weights) ? (details.weights as StoredWeights[]) : [];
  const out: string[] = [];
  for (const w of weights) {
    const warnings = w?.details?.warnings;
    if (!Array.isArray(warnings)) continue;
    for (const text of warnings) if (typeof text === 'string') out.push(`${String(w.path ?? '?')}: ${text}`);
  }
  return out;
}

interface StoredModel {
  files?: unknown;
  format?: unknown;
  parameterCount?: unknown;
  signature?: {
    inputs?: { name: string; dtype: string; shape: unknown[] }[];
    outputs?: { name: string; dtype: string; shape: unknown[] }[];
  };
}

/**
 * One line per model when a version holds several independent ones (details.models, stored only
 * then): "melspectrogram.onnx  onnx, 1,024 parameters, input float32[1, ?] → output float32[?]".
 */
export function modelsOf(details: Record<string, unknown>): string[] {
  const models = Array.isArray(details.models) ? (details.models as StoredModel[]) : [];
  const spec = (s: { name: string; dtype: string; shape: unknown[] }) => `${s.name} ${s.dtype}[${s.shape.join(', ')}]`;
  return models.map((m) => {
    const files = Array.isArray(m.files) ? m.files.map(String) : [];
    const name = files.length > 1 ? `${files[0]} (+${files.length - 1} shards)` : (files[0] ?? '?');
    const count = typeof m.parameterCount === 'number' ? `, ${m.parameterCount.toLocaleString('en')} parameters` : '';
    const io = [
      ...(m.signature?.inputs ?? []).map(spec),
      ...(m.signature?.outputs ?? []).map((s) => `→ ${spec(s)}`),
    ].join(' ');
    return `${name}  ${String(m.format ?? '-')}${count}${io ? `  ${io}` : ''}`;
  });
}

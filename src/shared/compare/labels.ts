/**
 * How the compare page words its summary and parameter rows. Pure, so plain mocha tests them
 * (test/unit/shared/compare/labels.test.ts); the page (webview/compare) only places the text.
 */
import { formatCount } from '../format';
import type { ParamRow } from '../../core/compare/params';

/** "onnx", or "safetensors · pytorch": the framework only when it says more than the format. */
export function formatLabel(format: string | null, framework: string | null): string {
  const parts = [format, framework].filter((p): p is string => !!p);
  const unique = parts.filter((p, i) => parts.findIndex((q) => q.toLowerCase() === p.toLowerCase()) === i);
  return unique.join(' · ') || '—';
}

/** The weight count, worded so it is not read as the hyperparameters: "170 values", "25.6M values". */
export function weightsLabel(count: number | null): string {
  return count === null ? '—' : `${formatCount(count)} ${count === 1 ? 'value' : 'values'}`;
}

/**
 * A parameter row's label: its key inside the file ("lr"), the file on hover. When two files hold
 * the same key, the label names the file too, so the rows can be told apart without hovering.
 */
export function paramLabel(
  row: ParamRow,
  rows: readonly ParamRow[],
): { text: string; file: string | null; title: string } {
  const clash = row.file !== null && rows.some((r) => r !== row && r.name === row.name);
  const base = row.file ? row.file.split('/').pop()! : null;
  return {
    text: row.name,
    file: clash ? base : null,
    title: row.file ? `${row.name} in ${row.file}` : row.name,
  };
}

/**
 * Hand-written `metrics.json` / `metrics.jsonl`. Accepted shapes:
 *   {"acc": 0.9}                      final values: one point each, at step 0
 *   {"loss": [1.0, 0.5]}              one value per step, steps 0..n-1
 *   [{"step": 1, "loss": 0.5}, ...]   records (also one record per line in .jsonl)
 * Nested objects are flattened with "/" ({"val": {"acc": 1}} -> "val/acc"); non-numbers are ignored.
 */
import { InputError } from '../../errors';
import type { Deadline } from '../../util/readFile';
import type { MetricLog } from '../types';
import { MAX_LOG_TEXT_BYTES, SeriesBuilder, parseJsonTolerant, readTextLimited } from './common';

/** Record keys that give the step, in order of preference. */
const STEP_KEYS = ['step', 'global_step', 'iteration', 'epoch'];
/** Record keys that are bookkeeping, not metrics. */
const NOT_METRICS = new Set([...STEP_KEYS, 'timestamp', 'time', 'wall_time', '_step', '_timestamp', '_runtime']);

export async function readMetricsJson(
  absPath: string,
  relPath: string,
  deadline?: Deadline,
): Promise<MetricLog | undefined> {
  const text = await readTextLimited(absPath, relPath, MAX_LOG_TEXT_BYTES);
  const builder = new SeriesBuilder(relPath, deadline);
  if (relPath.toLowerCase().endsWith('.jsonl')) {
    const lines = text.split('\n');
    let index = 0;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === '') continue;
      addJsonRecord(builder, parseJsonTolerant(lines[i], relPath, `JSON on line ${i + 1}`), index++, relPath, i + 1);
    }
  } else {
    const doc = parseJsonTolerant(text, relPath);
    if (Array.isArray(doc)) {
      doc.forEach((rec, i) => addRecord(builder, rec, i, relPath, `record ${i}`));
    } else if (doc && typeof doc === 'object') {
      addColumns(builder, doc as Record<string, unknown>, '');
    } else {
      throw new InputError(relPath, 'expected an object of metrics or an array of records');
    }
  }
  const series = builder.build(true);
  return series.length ? { source: relPath, series } : undefined;
}

/** The record on one non-blank line of a .jsonl log, the `index`-th such line (its step when it names none). */
export function addJsonRecord(
  builder: SeriesBuilder,
  rec: unknown,
  index: number,
  relPath: string,
  lineNo: number,
): void {
  addRecord(builder, rec, index, relPath, `line ${lineNo}`);
}

function addRecord(builder: SeriesBuilder, rec: unknown, index: number, relPath: string, where: string): void {
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new InputError(relPath, `${where} is not an object`);
  const r = rec as Record<string, unknown>;
  const stepKey = STEP_KEYS.find((k) => typeof r[k] === 'number');
  const step = stepKey ? (r[stepKey] as number) : index;
  forEachNumber(r, '', (key, v) => builder.add(key, step, v), true);
}

/** Top-level object: numbers are final values (step 0), arrays are per-step values. */
function addColumns(builder: SeriesBuilder, obj: Record<string, unknown>, prefix: string): void {
  for (const k in obj) {
    const v = obj[k];
    const key = prefix + k;
    if (typeof v === 'number') builder.add(key, 0, v);
    else if (Array.isArray(v)) v.forEach((x, i) => typeof x === 'number' && builder.add(key, i, x));
    else if (v && typeof v === 'object') addColumns(builder, v as Record<string, unknown>, `${key}/`);
  }
}

function forEachNumber(
  obj: Record<string, unknown>,
  prefix: string,
  fn: (key: string, v: number) => void,
  top: boolean,
): void {
  for (const k in obj) {
    if (top && NOT_METRICS.has(k)) continue;
    const v = obj[k];
    if (typeof v === 'number') fn(prefix + k, v);
    else if (v && typeof v === 'object' && !Array.isArray(v))
      forEachNumber(v as Record<string, unknown>, `${prefix}${k}/`, fn, false);
  }
}

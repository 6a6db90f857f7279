/** Helpers shared by the metric-log and parameter readers. */
import { InputError } from '../../errors';
import { checkJsonText, jsonErrorWhere } from '../../util/json';
import { Deadline, readRegularText } from '../../util/readFile';
import type { MetricSeries } from '../types';

const MB = 1024 * 1024;
/** Text logs (CSV, JSON) are read whole; above this they are more likely a mistake than a log. */
export const MAX_LOG_TEXT_BYTES = 256 * MB;

/**
 * Series one log may hold. Real logs have a few to a few hundred (per-class metrics of 1,000 classes
 * are the widest we know of); each series costs a row in the database, so 10^6 columns cost 123 MB.
 */
export const MAX_SERIES_PER_LOG = 10_000;
/**
 * Points one log may hold: 2,000,000 is 200 metrics logged every step of a 10,000-step run, or
 * 5 metrics at every step of 400,000; stored packed that is at most ~48 MB.
 */
export const MAX_POINTS_PER_LOG = 2_000_000;

/**
 * Reads a UTF-8 regular file (a FIFO or device is refused, not waited on), refusing files over
 * `limit` bytes before reading them. BOM is dropped.
 */
export async function readTextLimited(absPath: string, relPath: string, limit: number): Promise<string> {
  return readRegularText(absPath, { maxBytes: limit, name: relPath });
}

const NON_FINITE = '\u0000nonfinite:';

/**
 * JSON.parse that also accepts the bare NaN / Infinity / -Infinity tokens Python's json module writes
 * (HF trainer_state.json does when a loss diverges). Too-deep nesting and syntax errors become
 * InputError with line and column.
 */
export function parseJsonTolerant(text: string, relPath: string, what = 'JSON'): unknown {
  checkJsonText(text, relPath, what);
  try {
    return JSON.parse(text);
  } catch (err) {
    // Slow path only for files that need it: quote the non-finite tokens that are outside strings.
    const fixed = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (m) =>
      m[0] === '"' ? m : `"\\u0000nonfinite:${m}"`,
    );
    if (fixed !== text) {
      try {
        return JSON.parse(fixed, (_k, v) =>
          typeof v === 'string' && v.startsWith(NON_FINITE) ? Number(v.slice(NON_FINITE.length)) : v,
        );
      } catch {
        // report the error of the original text below
      }
    }
    throw new InputError(relPath, `invalid ${what}${jsonErrorWhere(text, err)}: ${(err as Error).message}`);
  }
}

/** Parses a number cell as loggers write it, including nan/inf spellings. undefined = not a number. */
export function parseNumber(s: string): number | undefined {
  const n = Number(s);
  if (!Number.isNaN(n)) return n === 0 && s.trim() === '' ? undefined : n;
  switch (s.trim().toLowerCase()) {
    case 'nan':
    case '-nan':
    case '+nan':
      return NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return undefined;
  }
}

/**
 * Accumulates points per key in parallel arrays (no per-point objects), keeping first-seen key order.
 * Bounded: past MAX_SERIES_PER_LOG series or MAX_POINTS_PER_LOG points the log is refused (an
 * InputError naming it), and each point checks the reader's deadline.
 */
export class SeriesBuilder {
  private readonly map = new Map<string, MetricSeries>();
  private points = 0;

  constructor(
    private readonly file = '',
    private readonly deadline?: Deadline,
  ) {}

  add(key: string, step: number, value: number, wallTime?: number): void {
    let s = this.map.get(key);
    if (!s) {
      if (this.map.size >= MAX_SERIES_PER_LOG) {
        throw new InputError(this.file, `has more than ${MAX_SERIES_PER_LOG} metric series (limit per log); not read`);
      }
      s = { key, steps: [], values: [] };
      if (wallTime !== undefined) s.wallTimes = [];
      this.map.set(key, s);
    }
    if (++this.points > MAX_POINTS_PER_LOG) {
      throw new InputError(this.file, `has more than ${MAX_POINTS_PER_LOG} points (limit per log); not read`);
    }
    this.deadline?.check();
    s.steps.push(step);
    s.values.push(value);
    if (s.wallTimes) {
      if (wallTime === undefined) s.wallTimes = undefined;
      else s.wallTimes.push(wallTime);
    }
  }

  get size(): number {
    return this.map.size;
  }

  /** The series; with sortSteps, points are stably re-ordered by step where they are out of order. */
  build(sortSteps = false): MetricSeries[] {
    const out = [...this.map.values()];
    return sortSteps ? out.map(sortByStep) : out;
  }
}

function sortByStep(s: MetricSeries): MetricSeries {
  let sorted = true;
  for (let i = 1; i < s.steps.length && sorted; i++) sorted = s.steps[i - 1] <= s.steps[i];
  if (sorted) return s;
  const idx = s.steps.map((_, i) => i).sort((a, b) => s.steps[a] - s.steps[b] || a - b);
  const r: MetricSeries = { key: s.key, steps: idx.map((i) => s.steps[i]), values: idx.map((i) => s.values[i]) };
  if (s.wallTimes) r.wallTimes = idx.map((i) => s.wallTimes![i]);
  return r;
}

/** Relative paths are reported with forward slashes whatever the OS. */
export function toPosix(relPath: string): string {
  return relPath.replace(/\\/g, '/');
}

export function baseName(relPath: string): string {
  const p = toPosix(relPath);
  return p.slice(p.lastIndexOf('/') + 1);
}

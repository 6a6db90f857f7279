/**
 * Live curves: follows the metric logs of a running training as it writes them. The series are read
 * by the importer's own readers (or, for the append-only formats, by the same record rules applied
 * to the new lines only), so what a live chart shows is what the import of the folder will store.
 */
import { type FSWatcher, promises as fsp, watch } from 'fs';
import * as path from 'path';
import {
  MAX_LOG_TEXT_BYTES,
  MAX_POINTS_PER_LOG,
  MAX_SERIES_PER_LOG,
  SeriesBuilder,
  parseJsonTolerant,
  parseNumber,
} from '../inspect/logs/common';
import { metricLogKind, readMetricLogs } from '../inspect/logs';
import { addJsonRecord } from '../inspect/logs/metricsJson';
import type { MetricLog, MetricSeries } from '../inspect/types';
import { openRegularFile } from '../util/readFile';
import { walkFiles } from '../util/walk';

export interface LivePoint {
  key: string;
  step: number;
  value: number;
  wallTime?: number;
}

export interface FollowOptions {
  /** Re-scan this often even without a watch event (fs.watch misses events on some file systems). */
  pollMs?: number;
  /** A burst of writes within this becomes one scan. */
  debounceMs?: number;
}

export const LIVE_POLL_MS = 1000;
export const LIVE_DEBOUNCE_MS = 100;
/** New bytes read from one append-only log per scan; the rest waits for the next scan (scheduled at once). */
const READ_CHUNK_BYTES = 16 * 1024 * 1024;
/** A whole-file re-read (trainer_state.json, tfevents) waits this many times its last duration before the next. */
const REREAD_COST_FACTOR = 4;

/**
 * Follows the metric logs in `outputDir` (the formats readMetricLogs reads) while a run writes them;
 * calls onSeries with every log whenever any changed (≤ 2 s after a write; fs.watch + a poll fallback).
 * The folder may not exist yet. Returns a disposer. Never throws for a half-written file: it keeps the
 * last good series of that file and waits for the next write.
 */
export function followRunMetrics(
  outputDir: string,
  onSeries: (series: MetricLog[]) => void,
  opts: FollowOptions = {},
): () => void {
  const follower = new Follower(outputDir, opts, onSeries);
  follower.start();
  return () => follower.stop();
}

export interface RunProgress {
  step: number | null;
  epoch: number | null;
  metric: { key: string; value: number } | null;
}

/** The latest epoch/step and the latest value of `metric` in outputDir, read once (Runs view rows, `runs --json`). */
export async function runProgress(outputDir: string, metric?: string | null): Promise<RunProgress> {
  const follower = new Follower(outputDir, {});
  const logs = await follower.scanOnce();
  let step: number | null = null;
  let epochSeries: number | null = null;
  for (const log of logs)
    for (const s of log.series) {
      if (s.steps.length) step = Math.max(step ?? -Infinity, s.steps[s.steps.length - 1]);
      if (s.key === 'epoch' && s.values.length) epochSeries = s.values[s.values.length - 1];
    }
  const all = logs.flatMap((l) => l.series).filter((s) => s.values.length);
  const chosen = metric
    ? all.find((s) => s.key === metric)
    : (all.find((s) => /^(eval|val|validation)[_/]/.test(s.key) && ACCURACY_LIKE.test(s.key)) ??
      all.find((s) => s.key === 'loss') ??
      all.find((s) => /loss$/.test(s.key)));
  return {
    step: step === null || !Number.isFinite(step) ? null : step,
    epoch: follower.lastEpoch ?? epochSeries,
    metric: chosen ? { key: chosen.key, value: chosen.values[chosen.values.length - 1] } : null,
  };
}

const ACCURACY_LIKE = /acc|f1|auc|precision|recall|map|iou|dice|bleu|rouge|score/i;

/** A .jsonl or CSV log read from where the last read stopped: only complete new lines are parsed. */
abstract class AppendOnlyLog {
  offset = 0;
  ino = -1;
  /** The import would refuse the file (bad line, past a bound): keep the last series, read no more until it is replaced. */
  failed = false;
  lastEpoch: number | undefined;
  snapshot: MetricLog | undefined;

  constructor(readonly rel: string) {}

  /** Reads what was appended; returns whether the series changed and whether more bytes are waiting. */
  async update(abs: string): Promise<{ changed: boolean; more: boolean }> {
    const { fh, size } = await openRegularFile(abs, this.rel);
    try {
      const st = await fh.stat();
      if (st.ino !== this.ino || size < this.offset) this.reset(st.ino); // rewritten or replaced
      if (this.failed || size === this.offset) return { changed: false, more: false };
      if (size > MAX_LOG_TEXT_BYTES) return { changed: this.fail(), more: false };
      const want = Math.min(size - this.offset, READ_CHUNK_BYTES);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, this.offset);
      const end = buf.lastIndexOf(0x0a, bytesRead - 1);
      // No complete line yet (a row being written): wait for the next write. A 16 MB line is no log line.
      if (end === -1) return { changed: want === READ_CHUNK_BYTES && this.fail(), more: false };
      let text = buf.toString('utf8', 0, end + 1);
      if (this.offset === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.offset += end + 1;
      try {
        this.addLines(text.split('\n').slice(0, -1));
      } catch {
        return { changed: this.fail(), more: false };
      }
      this.snapshot = this.build();
      return { changed: true, more: want === READ_CHUNK_BYTES && this.offset < size };
    } finally {
      await fh.close();
    }
  }

  /** Marks the file failed; the last good series stay. Returns false: nothing changed. */
  private fail(): boolean {
    this.failed = true;
    return false;
  }

  protected reset(ino: number): void {
    this.ino = ino;
    this.offset = 0;
    this.failed = false;
    this.snapshot = undefined;
    this.lastEpoch = undefined;
    this.clear();
  }

  get whole(): boolean {
    return false;
  }

  protected abstract clear(): void;
  /** Parses complete lines; throws where the import would refuse the file. */
  protected abstract addLines(lines: string[]): void;
  protected abstract build(): MetricLog | undefined;
}

/** metrics.jsonl: the records readMetricsJson reads, one per non-blank line. */
class JsonlLog extends AppendOnlyLog {
  private builder = new SeriesBuilder(this.rel);
  private index = 0;
  private lineNo = 0;

  protected clear(): void {
    this.builder = new SeriesBuilder(this.rel);
    this.index = 0;
    this.lineNo = 0;
  }

  protected addLines(lines: string[]): void {
    for (const line of lines) {
      this.lineNo++;
      if (line.trim() === '') continue;
      const rec = parseJsonTolerant(line, this.rel, `JSON on line ${this.lineNo}`);
      addJsonRecord(this.builder, rec, this.index++, this.rel, this.lineNo);
      const epoch = (rec as Record<string, unknown>).epoch;
      if (typeof epoch === 'number') this.lastEpoch = epoch;
    }
  }

  protected build(): MetricLog | undefined {
    const series = this.builder.build(true).map(copySeries);
    return series.length ? { source: this.rel, series } : undefined;
  }
}

/** metrics.csv and other CSV logs, by readCsvLog's rules: step column (else epoch), text-only columns dropped. */
class CsvLog extends AppendOnlyLog {
  private header: string[] | null = null;
  private notALog = false;
  private quoted = false;
  private stepCol = -1;
  private epochCol = -1;
  private columns: { steps: number[]; values: number[]; text: boolean }[] = [];
  private rows = 0;
  private points = 0;

  protected clear(): void {
    this.header = null;
    this.notALog = false;
    this.quoted = false;
    this.columns = [];
    this.rows = 0;
    this.points = 0;
  }

  override get whole(): boolean {
    return this.quoted;
  }

  protected addLines(lines: string[]): void {
    for (let line of lines) {
      if (this.notALog || this.quoted) return;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.trim() === '') continue;
      // Quoted cells need the CSV parser over the whole text: hand the file to a whole re-read.
      if (line.includes('"')) {
        this.quoted = true;
        return;
      }
      const cells = line.split(',');
      if (!this.header) {
        this.header = cells.map((h) => h.trim());
        if (this.header.length > MAX_SERIES_PER_LOG + 2) throw new Error('too many columns');
        this.stepCol = this.header.indexOf('step') !== -1 ? this.header.indexOf('step') : this.header.indexOf('epoch');
        this.epochCol = this.header.indexOf('epoch');
        this.notALog = this.stepCol === -1;
        this.columns = this.header.map(() => ({ steps: [], values: [], text: false }));
        continue;
      }
      if (cells.length !== this.header.length || ++this.rows > MAX_POINTS_PER_LOG) throw new Error('bad row');
      const step = parseNumber(cells[this.stepCol]);
      if (step === undefined) throw new Error('step is not a number');
      if (this.epochCol !== -1) this.lastEpoch = parseNumber(cells[this.epochCol]) ?? this.lastEpoch;
      for (let c = 0; c < cells.length; c++) {
        const name = this.header[c];
        if (c === this.stepCol || name === 'step' || name === 'epoch' || name === '' || cells[c].trim() === '')
          continue;
        const v = parseNumber(cells[c]);
        const col = this.columns[c];
        if (v === undefined) col.text = true;
        else {
          col.steps.push(step);
          col.values.push(v);
          if (++this.points > MAX_POINTS_PER_LOG) throw new Error('too many points');
        }
        // Numbers and text in one column: readCsvLog refuses the file.
        if (col.text && col.values.length) throw new Error('text among numbers');
      }
    }
  }

  protected build(): MetricLog | undefined {
    if (!this.header || this.notALog || this.quoted) return undefined;
    const series: MetricSeries[] = [];
    this.columns.forEach((col, c) => {
      if (col.values.length)
        series.push({ key: this.header![c], steps: col.steps.slice(), values: col.values.slice() });
    });
    return { source: this.rel, series };
  }
}

function copySeries(s: MetricSeries): MetricSeries {
  const c: MetricSeries = { key: s.key, steps: s.steps.slice(), values: s.values.slice() };
  if (s.wallTimes) c.wallTimes = s.wallTimes.slice();
  return c;
}

/** Files read whole with readMetricLogs, together (all event files form one log; trainer states pick one). */
interface WholeGroup {
  signature: string;
  logs: MetricLog[];
  /** Signature of the last read that failed: not retried until the files change again. */
  failed?: string;
  notBefore: number;
}

class Follower {
  private readonly appendOnly = new Map<string, AppendOnlyLog>();
  private readonly whole = new Map<string, WholeGroup>();
  private watcher: FSWatcher | undefined;
  private watchingParent = false;
  private poll: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private scanning = false;
  private again = false;
  private stopped = false;
  private readonly debounceMs: number;

  constructor(
    private readonly dir: string,
    private readonly opts: FollowOptions,
    private readonly onSeries?: (series: MetricLog[]) => void,
  ) {
    this.debounceMs = opts.debounceMs ?? LIVE_DEBOUNCE_MS;
  }

  /** The epoch of the last record of an append-only log that has one. */
  get lastEpoch(): number | null {
    let epoch: number | null = null;
    for (const log of this.appendOnly.values()) if (log.lastEpoch !== undefined) epoch = log.lastEpoch;
    return epoch;
  }

  start(): void {
    this.poll = setInterval(() => this.schedule(0), this.opts.pollMs ?? LIVE_POLL_MS);
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
    clearTimeout(this.timer);
    this.unwatch();
  }

  async scanOnce(): Promise<MetricLog[]> {
    return (await this.scan()).logs;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.again = true;
      return;
    }
    const at = Date.now() + delay;
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.tick();
    }, delay);
  }

  private async tick(): Promise<void> {
    this.scanning = true;
    let result: { logs: MetricLog[]; changed: boolean; retryAt?: number } | undefined;
    try {
      this.watchDir();
      result = await this.scan();
    } catch {
      // The folder vanished or is unreadable between two calls: the poll tries again.
    } finally {
      this.scanning = false;
    }
    if (this.stopped) return;
    if (result?.changed) {
      try {
        this.onSeries?.(result.logs);
      } catch {
        // A failing listener must not stop the following.
      }
    }
    if (this.again) {
      this.again = false;
      this.schedule(this.debounceMs);
    } else if (result?.retryAt !== undefined) this.schedule(Math.max(0, result.retryAt - Date.now()));
  }

  /** Recursive fs.watch on the folder (Node ≥ 20 supports it on Linux); on its parent until it exists. */
  private watchDir(): void {
    if (this.watcher && !this.watchingParent) return;
    const onEvent = (): void => this.schedule(this.debounceMs);
    try {
      const w = watch(this.dir, { recursive: true }, onEvent);
      this.unwatch();
      this.watcher = w;
      this.watchingParent = false;
    } catch {
      if (this.watcher) return;
      try {
        this.watcher = watch(path.dirname(this.dir), onEvent);
        this.watchingParent = true;
      } catch {
        return; // no parent either: the poll alone notices the folder
      }
    }
    // The folder removed, or a watch limit hit: close it; the next scan watches again.
    const w = this.watcher;
    w.on('error', () => {
      w.close();
      if (this.watcher === w) this.watcher = undefined;
    });
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async scan(): Promise<{ logs: MetricLog[]; changed: boolean; retryAt?: number }> {
    let walked: { rel: string; abs: string }[];
    try {
      walked = (await walkFiles(this.dir)).filter((f) => metricLogKind(f.rel));
    } catch {
      walked = []; // not created yet (or a link out of it, which the import refuses too)
      if (!this.watchingParent) this.unwatch(); // removed: a watch on the old folder would see nothing of a new one
    }
    let changed = false;
    let retryAt: number | undefined;
    const seen = new Set(walked.map((f) => f.rel));
    for (const rel of [...this.appendOnly.keys()]) if (!seen.has(rel)) changed = this.appendOnly.delete(rel) || changed;

    const wholeFiles = new Map<string, { rel: string; abs: string }[]>();
    for (const f of walked) {
      const kind = metricLogKind(f.rel)!;
      let log = this.appendOnly.get(f.rel);
      if (!log && (f.rel.endsWith('.jsonl') || kind.endsWith('-csv'))) {
        log = f.rel.endsWith('.jsonl') ? new JsonlLog(f.rel) : new CsvLog(f.rel);
        this.appendOnly.set(f.rel, log);
      }
      if (log && !log.whole) {
        try {
          const r = await log.update(f.abs);
          changed = r.changed || changed;
          if (r.more) retryAt = Date.now();
        } catch {
          // Removed or replaced by a non-file between the walk and the read: the next scan sees it.
        }
        if (!log.whole) continue;
      }
      // Whole-file formats: tfevents and trainer states per kind (read together), others per file.
      const group = kind === 'tfevents' || kind === 'hf-trainer-state' ? kind : f.rel;
      wholeFiles.set(group, [...(wholeFiles.get(group) ?? []), f]);
    }
    for (const key of [...this.whole.keys()]) if (!wholeFiles.has(key)) changed = this.whole.delete(key) || changed;
    for (const [key, files] of wholeFiles) {
      const r = await this.readWhole(key, files);
      changed = r.changed || changed;
      if (r.retryAt !== undefined) retryAt = Math.min(retryAt ?? Infinity, r.retryAt);
    }
    const logs = [
      ...[...this.appendOnly.values()].filter((l) => !l.whole).map((l) => l.snapshot),
      ...[...this.whole.values()].flatMap((g) => g.logs),
    ]
      .filter((l): l is MetricLog => !!l)
      .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
    return { logs, changed, retryAt };
  }

  /** Re-reads a group when its files changed (size, mtime, inode), no more often than its cost allows. */
  private async readWhole(
    key: string,
    files: { rel: string; abs: string }[],
  ): Promise<{ changed: boolean; retryAt?: number }> {
    const stats = await Promise.all(files.map((f) => fsp.stat(f.abs).catch(() => undefined)));
    const signature = files
      .map((f, i) => `${f.rel}:${stats[i]?.ino}:${stats[i]?.size}:${stats[i]?.mtimeMs}`)
      .sort()
      .join('\n');
    const group = this.whole.get(key) ?? { signature: '', logs: [], notBefore: 0 };
    this.whole.set(key, group);
    if (signature === group.signature || signature === group.failed) return { changed: false };
    if (Date.now() < group.notBefore) return { changed: false, retryAt: group.notBefore };
    const t0 = Date.now();
    try {
      group.logs = await readMetricLogs(
        this.dir,
        files.map((f) => f.rel),
      );
      group.signature = signature;
      group.failed = undefined;
      return { changed: true };
    } catch {
      // Mid-rewrite (truncated JSON, a record cut short): keep the last good logs until the next write.
      group.failed = signature;
      return { changed: false };
    } finally {
      group.notBefore = Date.now() + REREAD_COST_FACTOR * (Date.now() - t0);
    }
  }
}

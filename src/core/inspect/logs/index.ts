/** Metric logs and parameter files found in a training output. */
import * as path from 'path';
import { READER_TIME_LIMIT_MS, timeBoxed } from '../../util/readFile';
import type { MetricLog } from '../types';
import { baseName, toPosix } from './common';
import { readCsvLog } from './csvLog';
import { readTrainerState } from './hfTrainerState';
import { readMetricsJson } from './metricsJson';
import { type ParamsBySource, isParamFile, mergeParams, readParams } from './params';
import { readTfEventFiles } from './tfevents';

export { readCsvLog } from './csvLog';
export { readTrainerState } from './hfTrainerState';
export { readMetricsJson } from './metricsJson';
export { MAX_PARAM_FILE_BYTES, PARAM_FILE_NAMES, isParamFile, mergeParams, readParams } from './params';
export type { ParamsBySource } from './params';
export {
  TF_EVENT_PROTO,
  forEachTfRecord,
  maskedCrc32c,
  readTfEventFiles,
  readTfEventsFile,
  tfEventType,
} from './tfevents';

export type MetricLogKind =
  'hf-trainer-state' | 'lightning-csv' | 'keras-csv' | 'yolo-csv' | 'tfevents' | 'metrics-json';

/**
 * Classifies a file by name. Any other .csv (and Keras' usual `training.log`) is 'keras-csv': whether it
 * really is a metric log is decided from its header when read (no step/epoch column -> not a log).
 */
export function metricLogKind(relPath: string): MetricLogKind | undefined {
  const name = baseName(relPath);
  const lower = name.toLowerCase();
  if (name === 'trainer_state.json') return 'hf-trainer-state';
  if (name.startsWith('events.out.tfevents.')) return 'tfevents';
  if (name === 'metrics.csv') return 'lightning-csv';
  if (name === 'results.csv') return 'yolo-csv';
  if (lower.endsWith('.csv') || name === 'training.log') return 'keras-csv';
  if (name === 'metrics.json' || name === 'metrics.jsonl') return 'metrics-json';
  return undefined;
}

/**
 * Reads every metric log among relPaths (relative to root). All event files form one log (see
 * readTfEventFiles). Of the trainer_state.json copies HF leaves in checkpoint-N/ folders, only the
 * run's final one is read (see withoutCheckpointCopies).
 * Files that turn out not to be metric logs are left out; malformed ones raise InputError.
 * Result is ordered by source.
 */
export interface ReadLogOptions {
  /** Time each reader gets per file (per set of event files); default READER_TIME_LIMIT_MS. */
  timeLimitMs?: number;
}

export async function readMetricLogs(
  root: string,
  relPaths: string[],
  opts: ReadLogOptions = {},
): Promise<MetricLog[]> {
  const ms = opts.timeLimitMs ?? READER_TIME_LIMIT_MS;
  const byKind = new Map<MetricLogKind, string[]>();
  for (const rel of relPaths.map(toPosix)) {
    const kind = metricLogKind(rel);
    if (kind) byKind.set(kind, [...(byKind.get(kind) ?? []), rel]);
  }
  const logs: (MetricLog | undefined)[] = [];
  for (const [kind, files] of byKind) {
    if (kind === 'tfevents') {
      logs.push(
        await timeBoxed(
          files.length === 1 ? files[0] : path.posix.dirname([...files].sort()[0]),
          (d) => readTfEventFiles(root, files, d),
          ms,
        ),
      );
      continue;
    }
    const chosen = kind === 'hf-trainer-state' ? withoutCheckpointCopies(files) : files;
    for (const rel of chosen) {
      const abs = path.join(root, rel);
      const read =
        kind === 'hf-trainer-state' ? readTrainerState : kind === 'metrics-json' ? readMetricsJson : readCsvLog;
      logs.push(await timeBoxed(rel, (d) => read(abs, rel, d), ms));
    }
  }
  return logs
    .filter((l): l is MetricLog => !!l)
    .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
}

/**
 * Reads every parameter file among relPaths (see PARAM_FILE_NAMES) into one object per file keyed by
 * relative path. Copies inside HF checkpoint-N/ folders are skipped like trainer states.
 */
export async function readParamFiles(
  root: string,
  relPaths: string[],
  opts: ReadLogOptions = {},
): Promise<ParamsBySource> {
  const byName = new Map<string, string[]>();
  for (const rel of relPaths.map(toPosix)) {
    if (isParamFile(rel)) byName.set(baseName(rel), [...(byName.get(baseName(rel)) ?? []), rel]);
  }
  const entries: { source: string; params: Record<string, unknown> }[] = [];
  for (const files of byName.values()) {
    for (const rel of withoutCheckpointCopies(files)) {
      entries.push({
        source: rel,
        params: await timeBoxed(
          rel,
          () => readParams(path.join(root, rel), rel),
          opts.timeLimitMs ?? READER_TIME_LIMIT_MS,
        ),
      });
    }
  }
  return mergeParams(entries);
}

const CHECKPOINT_DIR = /(^|\/)checkpoint-(\d+)\//;

/**
 * HF saves a copy of its state/config in every checkpoint-N/. Per run folder (the one holding the
 * checkpoint-N/ folders), keep its own file if it has one, else the latest checkpoint's.
 */
function withoutCheckpointCopies(files: string[]): string[] {
  const keep = files.filter((f) => !CHECKPOINT_DIR.test(f));
  const dirsWithFile = new Set(keep.map((f) => f.slice(0, Math.max(0, f.lastIndexOf('/')))));
  const latest = new Map<string, { file: string; step: number }>();
  for (const file of files) {
    const m = CHECKPOINT_DIR.exec(file);
    if (!m) continue;
    const run = file.slice(0, m.index);
    const step = Number(m[2]);
    if (dirsWithFile.has(run) || (latest.get(run)?.step ?? -1) >= step) continue;
    latest.set(run, { file, step });
  }
  return [...keep, ...[...latest.values()].map((l) => l.file)];
}

/**
 * Writers of realistic training-output logs, in the exact on-disk formats the frameworks produce,
 * for tests. Every writer creates missing parent folders and returns what it wrote so tests can
 * derive expectations.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { stringify as toYaml } from 'yaml';
import { maskedCrc32c, tfEventType } from '../../../src/core/inspect/logs/tfevents';

async function writeFile(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
}

const round = (x: number, digits = 6) => Number(x.toPrecision(digits));

/** JSON as Python's json.dumps writes it: NaN, Infinity and -Infinity as bare tokens. */
export function pythonJson(value: unknown, indent = 2): string {
  const mark = '__nonfinite__:';
  const text = JSON.stringify(
    value,
    (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? mark + String(v) : v),
    indent,
  );
  return text.replace(new RegExp(`"${mark}(NaN|-?Infinity)"`, 'g'), '$1');
}

/** Python's str(float) for the values loggers write: nan / inf / -inf. */
function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return String(x);
}

// ---------------------------------------------------------------- Hugging Face trainer_state.json

export interface TrainerStateOptions {
  /** Optimizer steps in the run (default 100). */
  totalSteps?: number;
  /** A {loss, grad_norm, learning_rate} entry every N steps (default 10). */
  loggingSteps?: number;
  /** An {eval_loss, eval_accuracy, eval_runtime, ...} entry every N steps (default 50). */
  evalSteps?: number;
  /** For the epoch field (default 50). */
  stepsPerEpoch?: number;
  /** As TrainingArguments.metric_for_best_model ("loss", "accuracy", "eval_accuracy"...): writes best_metric and best_model_checkpoint. */
  metricForBestModel?: string;
  /** Also store metric_for_best_model in the state (classic HF does not; default false). */
  storeMetricName?: boolean;
  /** output_dir used in best_model_checkpoint (default "out"). */
  outputDir?: string;
  /** log_history entries appended before the final train summary (NaN/Infinity are written as Python does). */
  extraEntries?: Record<string, number>[];
}

/** Writes a trainer_state.json like transformers' Trainer; returns the state object written. */
export async function writeTrainerState(file: string, opts: TrainerStateOptions = {}): Promise<Record<string, any>> {
  const total = opts.totalSteps ?? 100;
  const logEvery = opts.loggingSteps ?? 10;
  const evalEvery = opts.evalSteps ?? 50;
  const perEpoch = opts.stepsPerEpoch ?? 50;
  const epoch = (s: number) => round(s / perEpoch, 4);
  const history: Record<string, number>[] = [];
  for (let step = 1; step <= total; step++) {
    if (step % logEvery === 0) {
      history.push({
        epoch: epoch(step),
        grad_norm: round(3 * Math.exp(-step / 60) + 0.5),
        learning_rate: round(5e-5 * (1 - step / total)),
        loss: round(2.5 * Math.exp(-step / 40) + 0.1, 4),
        step,
      });
    }
    if (step % evalEvery === 0) {
      history.push({
        epoch: epoch(step),
        eval_accuracy: round(1 - 0.5 * Math.exp(-step / 30), 4),
        eval_loss: round(2.6 * Math.exp(-step / 40) + 0.2, 4),
        eval_runtime: 1.234,
        eval_samples_per_second: 810.4,
        eval_steps_per_second: 101.3,
        step,
      });
    }
  }
  history.push(...(opts.extraEntries ?? []));
  history.push({
    epoch: epoch(total),
    step: total,
    total_flos: 1.2e15,
    train_loss: 0.71,
    train_runtime: 42.5,
    train_samples_per_second: 75.3,
    train_steps_per_second: 2.35,
  });

  const state: Record<string, any> = {
    best_metric: null,
    best_model_checkpoint: null,
    epoch: epoch(total),
    eval_steps: evalEvery,
    global_step: total,
    is_hyper_param_search: false,
    is_local_process_zero: true,
    is_world_process_zero: true,
    log_history: history,
    logging_steps: logEvery,
    max_steps: total,
    num_input_tokens_seen: 0,
    num_train_epochs: Math.ceil(total / perEpoch),
    save_steps: evalEvery,
    stateful_callbacks: {},
    total_flos: 1.2e15,
    train_batch_size: 8,
    trial_name: null,
    trial_params: null,
  };
  if (opts.metricForBestModel) {
    const name = opts.metricForBestModel;
    const key = name.startsWith('eval_') ? name : `eval_${name}`;
    const greater = !key.endsWith('loss');
    let best: Record<string, number> | undefined;
    for (const e of history) {
      if (typeof e[key] !== 'number') continue;
      if (!best || (greater ? e[key] > best[key] : e[key] < best[key])) best = e;
    }
    if (best) {
      state.best_metric = best[key];
      state.best_model_checkpoint = `${opts.outputDir ?? 'out'}/checkpoint-${best.step}`;
    }
    if (opts.storeMetricName) state.metric_for_best_model = name;
  }
  await writeFile(file, pythonJson(state));
  return state;
}

// ---------------------------------------------------------------- CSV loggers

export type CsvRow = Record<string, number | undefined>;

function csvText(header: string[], rows: CsvRow[], format: (x: number) => string = pyFloat): string {
  const lines = [header.join(',')];
  for (const r of rows) lines.push(header.map((h) => (r[h] === undefined ? '' : format(r[h]!))).join(','));
  return lines.join('\n') + '\n';
}

export interface LightningCsvOptions {
  epochs?: number; // default 3
  stepsPerEpoch?: number; // default 4
  /** Log train_loss every N steps (default 1). */
  logEvery?: number;
}

/**
 * Writes a Lightning CSVLogger metrics.csv: columns sorted by name, train rows have train_loss,
 * validation rows (at each epoch's last step) have val_loss and val_acc; other cells empty.
 */
export async function writeLightningCsv(file: string, opts: LightningCsvOptions = {}): Promise<CsvRow[]> {
  const epochs = opts.epochs ?? 3;
  const per = opts.stepsPerEpoch ?? 4;
  const every = opts.logEvery ?? 1;
  const rows: CsvRow[] = [];
  for (let e = 0; e < epochs; e++) {
    for (let i = 0; i < per; i++) {
      const step = e * per + i;
      if (step % every === 0) rows.push({ epoch: e, step, train_loss: round(1 / (step + 1), 5) });
    }
    rows.push({
      epoch: e,
      step: (e + 1) * per - 1,
      val_acc: round(0.5 + 0.1 * e, 5),
      val_loss: round(0.9 - 0.2 * e, 5),
    });
  }
  await writeFile(file, csvText(['epoch', 'step', 'train_loss', 'val_acc', 'val_loss'], rows));
  return rows;
}

export interface KerasCsvOptions {
  epochs?: number; // default 5
  /** Write nan for val_loss at this epoch (a diverged run). */
  nanAtEpoch?: number;
  /** Write inf for loss at this epoch. */
  infAtEpoch?: number;
}

/** Writes a Keras CSVLogger file: epoch (0-based), accuracy, loss, val_accuracy, val_loss. */
export async function writeKerasCsv(file: string, opts: KerasCsvOptions = {}): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for (let e = 0; e < (opts.epochs ?? 5); e++) {
    rows.push({
      epoch: e,
      accuracy: round(0.6 + 0.07 * e, 8),
      loss: e === opts.infAtEpoch ? Infinity : round(1.2 * Math.exp(-e / 3), 8),
      val_accuracy: round(0.55 + 0.06 * e, 8),
      val_loss: e === opts.nanAtEpoch ? NaN : round(1.3 * Math.exp(-e / 3), 8),
    });
  }
  await writeFile(file, csvText(['epoch', 'accuracy', 'loss', 'val_accuracy', 'val_loss'], rows));
  return rows;
}

export const YOLO_COLUMNS = [
  'epoch',
  'train/box_loss',
  'train/cls_loss',
  'train/dfl_loss',
  'metrics/precision(B)',
  'metrics/recall(B)',
  'metrics/mAP50(B)',
  'metrics/mAP50-95(B)',
  'val/box_loss',
  'val/cls_loss',
  'val/dfl_loss',
  'lr/pg0',
  'lr/pg1',
  'lr/pg2',
];

/**
 * Writes an Ultralytics results.csv. padded (default true) mimics YOLOv8's '%23s' / '%23.5g' layout;
 * false gives the newer unpadded one. Epochs are 1-based as YOLO writes them.
 */
export async function writeYoloResults(
  file: string,
  opts: { epochs?: number; padded?: boolean } = {},
): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for (let e = 1; e <= (opts.epochs ?? 3); e++) {
    const row: CsvRow = { epoch: e };
    YOLO_COLUMNS.slice(1).forEach((c, i) => (row[c] = Number((1 / (e + i)).toPrecision(5))));
    rows.push(row);
  }
  const pad = opts.padded ?? true;
  const cell = (s: string) => (pad ? s.padStart(23) : s);
  const lines = [
    YOLO_COLUMNS.map(cell).join(','),
    ...rows.map((r) => YOLO_COLUMNS.map((c) => cell(String(r[c]))).join(',')),
  ];
  await writeFile(file, lines.join('\n') + '\n');
  return rows;
}

// ---------------------------------------------------------------- TensorBoard event files

export interface TfEventSpec {
  step: number;
  wallTime: number;
  scalars: Record<string, number>;
  /** Write scalars the TF2 way (rank-0 DT_FLOAT tensor, "scalars" plugin metadata) instead of simple_value. */
  tf2?: boolean;
}

/** Frames one TFRecord: u64 length, masked CRC32C of the length, data, masked CRC32C of the data. */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(16 + data.length);
  out.writeUInt32LE(data.length >>> 0, 0);
  out.writeUInt32LE(Math.floor(data.length / 2 ** 32), 4);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** Encodes a tensorflow.Event given as a plain object with proto field names (wall_time, step, summary...). */
export function encodeTfEvent(event: Record<string, unknown>): Uint8Array {
  const Event = tfEventType();
  return Event.encode(Event.fromObject(event)).finish();
}

/**
 * Writes an events.out.tfevents.* file as TensorFlow / tensorboardX write it: a first
 * file_version "brain.Event:2" event, then one summary event per spec. TF2 events carry the
 * "scalars" plugin metadata only on a tag's first value, as TF does. Returns the bytes and each
 * record's byte offset (index 0 = the file_version record).
 */
export async function writeTfEvents(
  file: string,
  events: TfEventSpec[],
): Promise<{ bytes: Buffer; recordOffsets: number[] }> {
  const records: Buffer[] = [
    tfRecord(encodeTfEvent({ wall_time: events[0]?.wallTime ?? 1.7e9, file_version: 'brain.Event:2' })),
  ];
  const seen = new Set<string>();
  for (const ev of events) {
    const value = Object.entries(ev.scalars).map(([tag, x]) => {
      if (!ev.tf2) return { tag, simple_value: x };
      const content = Buffer.alloc(4);
      content.writeFloatLE(x);
      const v: Record<string, unknown> = { tag, tensor: { dtype: 1, tensor_shape: {}, tensor_content: content } };
      if (!seen.has(tag)) v.metadata = { plugin_data: { plugin_name: 'scalars', content: Buffer.from([]) } };
      seen.add(tag);
      return v;
    });
    records.push(tfRecord(encodeTfEvent({ wall_time: ev.wallTime, step: ev.step, summary: { value } })));
  }
  const recordOffsets: number[] = [];
  let at = 0;
  for (const r of records) {
    recordOffsets.push(at);
    at += r.length;
  }
  const bytes = Buffer.concat(records);
  await writeFile(file, bytes);
  return { bytes, recordOffsets };
}

// ---------------------------------------------------------------- metrics.json and parameter files

/**
 * Writes metrics.json (any JSON value, NaN/Infinity written as Python does) or, when the file
 * name ends in .jsonl, one record per line (data must then be an array of records).
 */
export async function writeMetricsJson(file: string, data: unknown): Promise<void> {
  if (file.endsWith('.jsonl')) {
    await writeFile(file, (data as unknown[]).map((r) => pythonJson(r, 0)).join('\n') + '\n');
  } else {
    await writeFile(file, pythonJson(data));
  }
}

/** Writes a parameter file: YAML for .yaml/.yml (as Lightning's hparams.yaml / YOLO's args.yaml), else JSON. */
export async function writeParamsFile(file: string, params: Record<string, unknown>): Promise<void> {
  await writeFile(file, /\.ya?ml$/.test(file) ? toYaml(params) : pythonJson(params));
}

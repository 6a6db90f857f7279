import * as assert from 'assert';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InputError } from '../../../../src/core/errors';
import {
  PARAM_FILE_NAMES,
  metricLogKind,
  readCsvLog,
  readMetricLogs,
  readMetricsJson,
  readParamFiles,
  readParams,
  readTfEventFiles,
  readTfEventsFile,
  readTrainerState,
} from '../../../../src/core/inspect/logs';
import type { MetricLog, MetricSeries } from '../../../../src/core/inspect/types';
import {
  YOLO_COLUMNS,
  encodeTfEvent,
  tfRecord,
  writeKerasCsv,
  writeLightningCsv,
  writeMetricsJson,
  writeParamsFile,
  writeTfEvents,
  writeTrainerState,
  writeYoloResults,
} from '../../helpers/makeLogs';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'logs-test-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const p = (rel: string) => path.join(dir, rel);

function series(log: MetricLog | undefined, key: string): MetricSeries {
  assert.ok(log, 'expected a metric log');
  const s = log.series.find((x) => x.key === key);
  assert.ok(s, `no series "${key}" among ${log.series.map((x) => x.key).join(', ')}`);
  return s;
}

async function rejectsInput(promise: Promise<unknown>, file: string, pattern?: RegExp): Promise<InputError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof InputError, `expected InputError, got ${err}`);
    assert.strictEqual(err.file, file);
    assert.ok(err.message.includes(file));
    if (pattern) assert.match(err.message, pattern);
    return err;
  }
  assert.fail('expected an InputError');
}

describe('metric logs: Hugging Face trainer_state.json', () => {
  it('gives one series per logged metric, keyed by step, without epoch/step', async () => {
    const state = await writeTrainerState(p('out/trainer_state.json'));
    const log = await readTrainerState(p('out/trainer_state.json'), 'out/trainer_state.json');
    assert.strictEqual(log?.source, 'out/trainer_state.json');
    const keys = log!.series.map((s) => s.key);
    for (const k of ['loss', 'grad_norm', 'learning_rate', 'eval_loss', 'eval_accuracy', 'train_runtime'])
      assert.ok(keys.includes(k), k);
    assert.ok(!keys.includes('epoch') && !keys.includes('step'));
    const loss = series(log, 'loss');
    assert.deepStrictEqual(loss.steps, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    const expected = state.log_history.filter((e: any) => 'loss' in e).map((e: any) => e.loss);
    assert.deepStrictEqual(loss.values, expected);
    assert.deepStrictEqual(series(log, 'eval_loss').steps, [50, 100]);
    assert.strictEqual(log!.best, undefined);
  });

  it('reports best_metric under the log_history name, with the checkpoint step', async () => {
    const state = await writeTrainerState(p('a/trainer_state.json'), {
      metricForBestModel: 'accuracy',
      storeMetricName: true,
      evalSteps: 20,
    });
    const log = await readTrainerState(p('a/trainer_state.json'), 'a/trainer_state.json');
    assert.deepStrictEqual(log?.best, { key: 'eval_accuracy', value: state.best_metric, step: 100 });
  });

  it('finds which metric best_metric is when the state does not name it', async () => {
    const state = await writeTrainerState(p('b/trainer_state.json'), { metricForBestModel: 'loss', evalSteps: 25 });
    assert.strictEqual(state.metric_for_best_model, undefined);
    const log = await readTrainerState(p('b/trainer_state.json'), 'b/trainer_state.json');
    assert.deepStrictEqual(log?.best, { key: 'eval_loss', value: state.best_metric, step: 100 });
  });

  it('keeps NaN and Infinity that Python writes as bare tokens', async () => {
    await writeTrainerState(p('trainer_state.json'), {
      extraEntries: [
        { epoch: 2, loss: NaN, step: 101 },
        { epoch: 2, loss: Infinity, step: 102 },
      ],
    });
    assert.match(await fs.readFile(p('trainer_state.json'), 'utf8'), /"loss": NaN/);
    const loss = series(await readTrainerState(p('trainer_state.json'), 'trainer_state.json'), 'loss');
    assert.deepStrictEqual(loss.steps.slice(-2), [101, 102]);
    assert.ok(Number.isNaN(loss.values.at(-2)));
    assert.strictEqual(loss.values.at(-1), Infinity);
  });

  it('rejects invalid JSON with the file and line', async () => {
    await fs.writeFile(p('trainer_state.json'), '{\n  "log_history": [\n    {"loss": 1.0,, "step": 1}\n  ]\n}\n');
    await rejectsInput(
      readTrainerState(p('trainer_state.json'), 'run/trainer_state.json'),
      'run/trainer_state.json',
      /invalid JSON at line 3/,
    );
    await fs.writeFile(p('trainer_state.json'), '{"global_step": 3}');
    await rejectsInput(
      readTrainerState(p('trainer_state.json'), 'trainer_state.json'),
      'trainer_state.json',
      /log_history/,
    );
  });
});

describe('metric logs: CSV loggers', () => {
  it('reads a sparse Lightning metrics.csv', async () => {
    const rows = await writeLightningCsv(p('lightning_logs/version_0/metrics.csv'));
    const log = await readCsvLog(p('lightning_logs/version_0/metrics.csv'), 'lightning_logs/version_0/metrics.csv');
    assert.deepStrictEqual(
      log!.series.map((s) => s.key),
      ['train_loss', 'val_acc', 'val_loss'],
    );
    const train = series(log, 'train_loss');
    assert.deepStrictEqual(train.steps, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepStrictEqual(
      train.values,
      rows.filter((r) => r.train_loss !== undefined).map((r) => r.train_loss),
    );
    assert.deepStrictEqual(series(log, 'val_loss').steps, [3, 7, 11]);
    assert.deepStrictEqual(series(log, 'val_loss').values, [0.9, 0.7, 0.5]);
  });

  it('reads a Keras CSVLogger file with step = epoch, keeping nan and inf', async () => {
    await writeKerasCsv(p('training.log'), { epochs: 4, nanAtEpoch: 2, infAtEpoch: 3 });
    assert.match(await fs.readFile(p('training.log'), 'utf8'), /,nan\n/);
    const log = await readCsvLog(p('training.log'), 'training.log');
    assert.deepStrictEqual(
      log!.series.map((s) => s.key),
      ['accuracy', 'loss', 'val_accuracy', 'val_loss'],
    );
    const val = series(log, 'val_loss');
    assert.deepStrictEqual(val.steps, [0, 1, 2, 3]);
    assert.ok(Number.isNaN(val.values[2]));
    assert.strictEqual(series(log, 'loss').values[3], Infinity);
    assert.strictEqual(series(log, 'accuracy').values[1], 0.67);
  });

  for (const padded of [true, false]) {
    it(`reads an Ultralytics results.csv (${padded ? 'padded' : 'unpadded'} columns)`, async () => {
      const rows = await writeYoloResults(p('runs/detect/train/results.csv'), { padded });
      const log = await readCsvLog(p('runs/detect/train/results.csv'), 'runs/detect/train/results.csv');
      assert.deepStrictEqual(
        log!.series.map((s) => s.key),
        YOLO_COLUMNS.slice(1),
      );
      const map = series(log, 'metrics/mAP50-95(B)');
      assert.deepStrictEqual(map.steps, [1, 2, 3]);
      assert.deepStrictEqual(
        map.values,
        rows.map((r) => r['metrics/mAP50-95(B)']),
      );
    });
  }

  it('ignores a CSV without a step or epoch column, and drops text columns', async () => {
    await fs.writeFile(p('data.csv'), 'id,label,score\n1,cat,0.5\n2,dog,0.7\n');
    assert.strictEqual(await readCsvLog(p('data.csv'), 'data.csv'), undefined);
    await fs.writeFile(p('notes.csv'), 'epoch,note,loss\n0,warmup,1.5\n1,"main, phase",1.0\n');
    const log = await readCsvLog(p('notes.csv'), 'notes.csv');
    assert.deepStrictEqual(
      log!.series.map((s) => s.key),
      ['loss'],
    );
    assert.deepStrictEqual(series(log, 'loss').values, [1.5, 1.0]);
  });

  it('decides from the header alone, so a big plain-text training.log is not read', async () => {
    await fs.writeFile(p('training.log'), 'INFO epoch 1 loss 0.5\n');
    await fs.truncate(p('training.log'), 300 * 1024 * 1024); // sparse: over the 256 MB read limit
    assert.strictEqual(await readCsvLog(p('training.log'), 'training.log'), undefined);
  });

  it('rejects ragged rows and garbage among numbers with the place', async () => {
    await fs.writeFile(p('metrics.csv'), 'epoch,step,loss\n0,0,1.0\n0,1\n');
    await rejectsInput(readCsvLog(p('metrics.csv'), 'v0/metrics.csv'), 'v0/metrics.csv', /line 3/);
    await fs.writeFile(p('quoted.csv'), 'epoch,"loss"\n0,1.0\n1,2.0,3\n');
    await rejectsInput(readCsvLog(p('quoted.csv'), 'quoted.csv'), 'quoted.csv', /line 3/);
    await fs.writeFile(p('log.csv'), 'epoch,loss\n0,1.0\n1,oops\n2,0.5\n');
    await rejectsInput(readCsvLog(p('log.csv'), 'log.csv'), 'log.csv', /row 2, column "loss".*oops/);
    await fs.writeFile(p('steps.csv'), 'epoch,loss\n0,1.0\nx,0.5\n');
    await rejectsInput(readCsvLog(p('steps.csv'), 'steps.csv'), 'steps.csv', /row 2: epoch/);
  });
});

/**
 * Bytes of a real event file written by tensorboard_logger (its own test_serialization fixture):
 * wall_time 256.5, v/1 = 1.5 at step 1, v/22 = 16.0 at step 2.
 */
const REAL_EVENTS = Buffer.from(
  '\x18\x00\x00\x00\x00\x00\x00\x00\xa3\x7fK"\t\x00\x00\x00\x00\x00\x08p@\x1a\rbrain.Event:2\xbc\x98!+' +
    '\x19\x00\x00\x00\x00\x00\x00\x00\x8b\xf1\x08(\t\x00\x00\x00\x00\x00\x08p@\x10\x01*\x0c\n\n\n\x03v/1\x15\x00\x00\xc0?,\xec\xc0\x87' +
    '\x1a\x00\x00\x00\x00\x00\x00\x00\x12\x9b\xd8-\t\x00\x00\x00\x00\x00\x08p@\x10\x02*\r\n\x0b\n\x04v/22\x15\x00\x00\x80A\x8f\xa3\xb6\x88',
  'latin1',
);

describe('metric logs: TensorBoard event files', () => {
  it('reads a real tensorboard_logger file, and the test writer produces the same bytes', async () => {
    await fs.writeFile(p('events.out.tfevents.1.host'), REAL_EVENTS);
    const log = await readTfEventsFile(p('events.out.tfevents.1.host'), 'events.out.tfevents.1.host');
    assert.deepStrictEqual(log, {
      source: 'events.out.tfevents.1.host',
      series: [
        { key: 'v/1', steps: [1], values: [1.5], wallTimes: [256.5] },
        { key: 'v/22', steps: [2], values: [16], wallTimes: [256.5] },
      ],
    });
    const { bytes } = await writeTfEvents(p('mine/events.out.tfevents.2.host'), [
      { step: 1, wallTime: 256.5, scalars: { 'v/1': 1.5 } },
      { step: 2, wallTime: 256.5, scalars: { 'v/22': 16 } },
    ]);
    assert.ok(bytes.equals(REAL_EVENTS));
  });

  it('reads TF1 simple_value and TF2 tensor scalars', async () => {
    await writeTfEvents(p('events.out.tfevents.3.host'), [
      { step: 0, wallTime: 1000, scalars: { loss: 2.0, acc: 0.25 }, tf2: true },
      { step: 10, wallTime: 1001, scalars: { loss: 1.0, acc: 0.5 }, tf2: true },
      { step: 20, wallTime: 1002, scalars: { loss: 0.1 } },
      { step: 30, wallTime: 1003, scalars: { loss: NaN }, tf2: true },
    ]);
    const log = await readTfEventsFile(p('events.out.tfevents.3.host'), 'events.out.tfevents.3.host');
    const loss = series(log, 'loss');
    assert.deepStrictEqual(loss.steps, [0, 10, 20, 30]);
    assert.deepStrictEqual(loss.values.slice(0, 3), [2, 1, Math.fround(0.1)]);
    assert.ok(Number.isNaN(loss.values[3]));
    assert.deepStrictEqual(loss.wallTimes, [1000, 1001, 1002, 1003]);
    assert.deepStrictEqual(series(log, 'acc').values, [0.25, 0.5]);
  });

  it('ignores non-scalar summaries (histograms, text) and reads double / int64 scalar tensors', async () => {
    const hist = { dtype: 1, tensor_shape: { dim: [{ size: 2 }, { size: 3 }] }, float_val: [1, 2, 3, 4, 5, 6] };
    const records = [
      encodeTfEvent({ wall_time: 1, file_version: 'brain.Event:2' }),
      encodeTfEvent({
        wall_time: 2,
        step: 1,
        summary: {
          value: [
            { tag: 'weights', tensor: hist, metadata: { plugin_data: { plugin_name: 'histograms' } } },
            {
              tag: 'note',
              tensor: { dtype: 7, tensor_shape: {}, string_val: [] },
              metadata: { plugin_data: { plugin_name: 'text' } },
            },
            {
              tag: 'lr',
              tensor: { dtype: 2, tensor_shape: {}, double_val: [0.001] },
              metadata: { plugin_data: { plugin_name: 'scalars' } },
            },
            { tag: 'seen', tensor: { dtype: 9, tensor_shape: {}, int64_val: [123456789012] } },
          ],
        },
      }),
      encodeTfEvent({
        wall_time: 3,
        step: 2,
        summary: { value: [{ tag: 'weights', tensor: { dtype: 1, tensor_shape: {}, float_val: [7] } }] },
      }),
    ];
    await fs.writeFile(p('events.out.tfevents.6.host'), Buffer.concat(records.map(tfRecord)));
    const log = await readTfEventsFile(p('events.out.tfevents.6.host'), 'events.out.tfevents.6.host');
    assert.deepStrictEqual(
      log!.series.map((s) => s.key),
      ['lr', 'seen'],
    );
    assert.deepStrictEqual(series(log, 'lr').values, [0.001]);
    assert.deepStrictEqual(series(log, 'seen').values, [123456789012]);
  });

  it('keeps what was read when the last record is cut short (writer still running)', async () => {
    const events = [1, 2, 3].map((step) => ({ step, wallTime: 5 + step, scalars: { loss: step } }));
    const { bytes } = await writeTfEvents(p('events.out.tfevents.4.host'), events);
    for (const cut of [3, 10, 14]) {
      await fs.writeFile(p('events.out.tfevents.4.host'), bytes.subarray(0, bytes.length - cut));
      const log = await readTfEventsFile(p('events.out.tfevents.4.host'), 'events.out.tfevents.4.host');
      assert.deepStrictEqual(series(log, 'loss').steps, [1, 2], `cut ${cut}`);
    }
  });

  it('rejects a checksum mismatch in the middle, naming the file and byte offset', async () => {
    const events = [1, 2, 3].map((step) => ({ step, wallTime: 5 + step, scalars: { loss: step } }));
    const { bytes, recordOffsets } = await writeTfEvents(p('events.out.tfevents.5.host'), events);
    const bad = Buffer.from(bytes);
    bad[recordOffsets[2] + 14] ^= 0xff; // a data byte of the second summary event
    await fs.writeFile(p('events.out.tfevents.5.host'), bad);
    await rejectsInput(
      readTfEventsFile(p('events.out.tfevents.5.host'), 'tb/events.out.tfevents.5.host'),
      'tb/events.out.tfevents.5.host',
      new RegExp(`offset ${recordOffsets[2]}\\b`),
    );
    const badLen = Buffer.from(bytes);
    badLen[recordOffsets[1] + 1] ^= 0x01;
    await fs.writeFile(p('events.out.tfevents.5.host'), badLen);
    await rejectsInput(
      readTfEventsFile(p('events.out.tfevents.5.host'), 'e'),
      'e',
      new RegExp(`offset ${recordOffsets[1]}\\b.*length`),
    );
  });

  it('prefixes keys by subfolder when a run has several event files (Keras train/ + validation/)', async () => {
    await writeTfEvents(
      p('logs/fit/train/events.out.tfevents.10.host.1.v2'),
      [0, 1].map((e) => ({ step: e, wallTime: 10 + e, scalars: { epoch_loss: 1 / (e + 1) }, tf2: true })),
    );
    await writeTfEvents(
      p('logs/fit/validation/events.out.tfevents.11.host.1.v2'),
      [0, 1].map((e) => ({ step: e, wallTime: 10 + e, scalars: { epoch_loss: 2 / (e + 1) }, tf2: true })),
    );
    const log = await readTfEventFiles(dir, [
      'logs/fit/validation/events.out.tfevents.11.host.1.v2',
      'logs/fit/train/events.out.tfevents.10.host.1.v2',
    ]);
    assert.strictEqual(log?.source, 'logs/fit');
    assert.deepStrictEqual(log?.files, [
      'logs/fit/train/events.out.tfevents.10.host.1.v2',
      'logs/fit/validation/events.out.tfevents.11.host.1.v2',
    ]);
    assert.deepStrictEqual(
      log!.series.map((s) => s.key),
      ['train/epoch_loss', 'validation/epoch_loss'],
    );
    assert.deepStrictEqual(series(log, 'validation/epoch_loss').values, [2, 1]);
  });

  it('merges a restarted writer in the same folder, ordered by step', async () => {
    await writeTfEvents(p('run/events.out.tfevents.100.h'), [
      { step: 5, wallTime: 1, scalars: { loss: 5 } },
      { step: 6, wallTime: 2, scalars: { loss: 6 } },
    ]);
    await writeTfEvents(p('run/events.out.tfevents.200.h'), [{ step: 1, wallTime: 3, scalars: { loss: 1 } }]);
    const log = await readTfEventFiles(dir, ['run/events.out.tfevents.200.h', 'run/events.out.tfevents.100.h']);
    assert.strictEqual(log?.source, 'run');
    assert.deepStrictEqual(series(log, 'loss').steps, [1, 5, 6]);
    assert.deepStrictEqual(series(log, 'loss').wallTimes, [3, 1, 2]);
  });
});

describe('metric logs: metrics.json / metrics.jsonl', () => {
  it('reads final values, per-step arrays and records', async () => {
    await writeMetricsJson(p('a/metrics.json'), { accuracy: 0.91, eval: { f1: 0.8 }, name: 'run-1' });
    const a = await readMetricsJson(p('a/metrics.json'), 'a/metrics.json');
    assert.deepStrictEqual(a?.series, [
      { key: 'accuracy', steps: [0], values: [0.91] },
      { key: 'eval/f1', steps: [0], values: [0.8] },
    ]);
    await writeMetricsJson(p('b/metrics.json'), { loss: [3, 2, NaN] });
    const b = series(await readMetricsJson(p('b/metrics.json'), 'b/metrics.json'), 'loss');
    assert.deepStrictEqual(b.steps, [0, 1, 2]);
    assert.ok(Number.isNaN(b.values[2]));
    await writeMetricsJson(p('c/metrics.json'), [
      { step: 10, loss: 1, epoch: 0 },
      { step: 20, loss: 0.5, acc: 0.7, epoch: 1 },
    ]);
    const c = await readMetricsJson(p('c/metrics.json'), 'c/metrics.json');
    assert.deepStrictEqual(
      c!.series.map((s) => s.key),
      ['loss', 'acc'],
    );
    assert.deepStrictEqual(series(c, 'loss').steps, [10, 20]);
    await writeMetricsJson(p('d/metrics.jsonl'), [
      { step: 1, loss: Infinity },
      { step: 2, loss: 0.5 },
    ]);
    const d = series(await readMetricsJson(p('d/metrics.jsonl'), 'd/metrics.jsonl'), 'loss');
    assert.deepStrictEqual(d, { key: 'loss', steps: [1, 2], values: [Infinity, 0.5] });
  });

  it('rejects malformed JSON Lines with the line number', async () => {
    await fs.writeFile(p('metrics.jsonl'), '{"step": 1, "loss": 1}\n\n{"step": 2, "loss": }\n');
    await rejectsInput(readMetricsJson(p('metrics.jsonl'), 'metrics.jsonl'), 'metrics.jsonl', /line 3/);
    await fs.writeFile(p('metrics.json'), '"just a string"');
    await rejectsInput(readMetricsJson(p('metrics.json'), 'metrics.json'), 'metrics.json');
  });
});

describe('metric logs: classification and readMetricLogs', () => {
  it('classifies files by name', () => {
    const cases: Record<string, string | undefined> = {
      'out/trainer_state.json': 'hf-trainer-state',
      'lightning_logs/version_0/metrics.csv': 'lightning-csv',
      'training.log': 'keras-csv',
      'history.csv': 'keras-csv',
      'runs/detect/train/results.csv': 'yolo-csv',
      'logs/train/events.out.tfevents.1700000000.host.123.0.v2': 'tfevents',
      'metrics.json': 'metrics-json',
      'eval/metrics.jsonl': 'metrics-json',
      'config.json': undefined,
      'model.safetensors': undefined,
      'README.md': undefined,
    };
    for (const [rel, kind] of Object.entries(cases)) assert.strictEqual(metricLogKind(rel), kind, rel);
  });

  it('reads every log in a training output, skipping non-logs and checkpoint copies', async () => {
    await writeTrainerState(p('out/trainer_state.json'), { totalSteps: 100 });
    await writeTrainerState(p('out/checkpoint-50/trainer_state.json'), { totalSteps: 50 });
    await writeTrainerState(p('other/checkpoint-20/trainer_state.json'), { totalSteps: 20 });
    await writeTrainerState(p('other/checkpoint-40/trainer_state.json'), { totalSteps: 40 });
    await writeLightningCsv(p('lightning_logs/version_0/metrics.csv'));
    await fs.mkdir(p('data'));
    await fs.writeFile(p('data/labels.csv'), 'file,label\na.png,1\n');
    await fs.writeFile(p('training.log'), 'INFO starting training\nINFO done\n');
    await writeTfEvents(p('tb/train/events.out.tfevents.1.h'), [{ step: 1, wallTime: 1, scalars: { loss: 1 } }]);
    await writeTfEvents(p('tb/validation/events.out.tfevents.1.h'), [{ step: 1, wallTime: 1, scalars: { loss: 2 } }]);
    const rels = [
      'out/trainer_state.json',
      'out/checkpoint-50/trainer_state.json',
      'other/checkpoint-20/trainer_state.json',
      'other/checkpoint-40/trainer_state.json',
      'lightning_logs/version_0/metrics.csv',
      'data/labels.csv',
      'training.log',
      'tb/train/events.out.tfevents.1.h',
      'tb/validation/events.out.tfevents.1.h',
      'out/config.json',
    ];
    const logs = await readMetricLogs(dir, rels);
    assert.deepStrictEqual(
      logs.map((l) => l.source),
      [
        'lightning_logs/version_0/metrics.csv',
        'other/checkpoint-40/trainer_state.json',
        'out/trainer_state.json',
        'tb',
      ],
    );
    assert.deepStrictEqual(series(logs[2], 'loss').steps.at(-1), 100);
    assert.deepStrictEqual(
      logs[3].series.map((s) => s.key),
      ['train/loss', 'validation/loss'],
    );
  });
});

describe('parameters', () => {
  it('reads hparams.yaml, args.yaml, training_args.json and config.json, one object per file', async () => {
    await fs.mkdir(p('lightning_logs/version_0'), { recursive: true });
    // Lightning may write Python tags; they must not break reading.
    await fs.writeFile(
      p('lightning_logs/version_0/hparams.yaml'),
      'lr: 0.001\nbatch_size: 32\nbetas: !!python/tuple\n- 0.9\n- 0.999\noptimizer: adam\n',
    );
    await writeParamsFile(p('runs/detect/train/args.yaml'), {
      task: 'detect',
      model: 'yolov8n.pt',
      epochs: 100,
      imgsz: 640,
    });
    await writeParamsFile(p('out/training_args.json'), { learning_rate: 5e-5, num_train_epochs: 3, output_dir: 'out' });
    await writeParamsFile(p('out/config.json'), {
      architectures: ['BertForSequenceClassification'],
      hidden_size: 768,
      model_type: 'bert',
    });
    await writeParamsFile(p('out/checkpoint-500/config.json'), { hidden_size: 1 });

    assert.deepStrictEqual(await readParams(p('lightning_logs/version_0/hparams.yaml')), {
      lr: 0.001,
      batch_size: 32,
      betas: [0.9, 0.999],
      optimizer: 'adam',
    });
    assert.ok(PARAM_FILE_NAMES.includes('args.yaml'));
    const all = await readParamFiles(dir, [
      'out/config.json',
      'out/checkpoint-500/config.json',
      'runs/detect/train/args.yaml',
      'out/training_args.json',
      'lightning_logs/version_0/hparams.yaml',
      'out/model.safetensors',
    ]);
    assert.deepStrictEqual(Object.keys(all), [
      'lightning_logs/version_0/hparams.yaml',
      'out/config.json',
      'out/training_args.json',
      'runs/detect/train/args.yaml',
    ]);
    assert.strictEqual(all['runs/detect/train/args.yaml'].imgsz, 640);
    assert.strictEqual(all['out/config.json'].model_type, 'bert');
    assert.strictEqual(all['out/training_args.json'].learning_rate, 5e-5);
  });

  it('rejects a YAML alias bomb, invalid files and oversized files', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      bomb.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    await fs.writeFile(p('hparams.yaml'), bomb.join('\n') + '\n');
    await rejectsInput(readParams(p('hparams.yaml'), 'v0/hparams.yaml'), 'v0/hparams.yaml', /alias/);

    await fs.writeFile(p('args.yaml'), 'lr: [1, 2\nepochs: 3\n');
    await rejectsInput(readParams(p('args.yaml'), 'args.yaml'), 'args.yaml', /invalid YAML/);
    await fs.writeFile(p('config.json'), '[1, 2]');
    await rejectsInput(readParams(p('config.json'), 'config.json'), 'config.json', /mapping/);

    const big = await fs.open(p('training_args.json'), 'w');
    await big.truncate(16 * 1024 * 1024 + 1);
    await big.close();
    await rejectsInput(readParams(p('training_args.json'), 'training_args.json'), 'training_args.json', /too large/);
  });
});

describe('metric logs: performance', () => {
  it('reads a 100k-row CSV and a 100k-event file in well under a second each', async () => {
    const lines = ['epoch,step,train_loss,val_loss,lr'];
    for (let i = 0; i < 100_000; i++) lines.push(`${i >> 10},${i},${1 / (i + 1)},${i % 100 ? '' : 0.5},0.001`);
    await fs.writeFile(p('metrics.csv'), lines.join('\n') + '\n');
    let t = performance.now();
    const csv = await readCsvLog(p('metrics.csv'), 'metrics.csv');
    const csvMs = performance.now() - t;
    assert.strictEqual(series(csv, 'train_loss').steps.length, 100_000);
    assert.strictEqual(series(csv, 'val_loss').steps.length, 1000);

    const events = Array.from({ length: 100_000 }, (_, i) => ({
      step: i,
      wallTime: 1e9 + i,
      scalars: { loss: 1 / (i + 1) },
      tf2: i % 2 === 0,
    }));
    await writeTfEvents(p('events.out.tfevents.9.h'), events);
    t = performance.now();
    const tb = await readTfEventsFile(p('events.out.tfevents.9.h'), 'events.out.tfevents.9.h');
    const tbMs = performance.now() - t;
    assert.strictEqual(series(tb, 'loss').steps.length, 100_000);
    assert.ok(csvMs < 1000 && tbMs < 1000, `csv ${csvMs.toFixed(0)} ms, tfevents ${tbMs.toFixed(0)} ms`);
  });
});

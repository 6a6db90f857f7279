/**
 * The built-in evaluator: runs an ONNX version on a dataset with onnxruntime-node, in batches, images
 * decoded on worker threads while the previous batch runs. Classification today; EvaluationTask is
 * where detection would plug in (its own outputs → outcomes, its own tally and metrics).
 */

import { promises as fsp } from 'fs';
import * as path from 'path';
import { CancelledError, InputError, RegistryError } from '../errors';
import { gitProvenance } from '../git/provenance';
import { ArrayReader, imageShape, preprocessFromConfig, sampleFilePath, TableReader } from '../datasets/samples';
import { DatasetManifest, DatasetRecord, DatasetSample, ImagePreprocess } from '../datasets/types';
import { checkDatasetFiles, realDatasetRoot } from '../datasets/verify';
import { Registry } from '../registry/registry';
import { VersionRecord } from '../registry/types';
import { OrtCrashError, OrtError, OrtSession, OrtTimeoutError } from '../onnxrt/session';
import { ImagePool } from './imagePool';
import { inputMismatch } from './inputCheck';
import { chooseSplit } from './splits';
import { ClassificationTally, toProbabilities } from './metrics';
import { ClassMetrics, EvaluationRecord, SamplePrediction } from './types';

export interface EvaluateOptions {
  /** Dataset name (or name@sha). */
  dataset: string;
  /** A split to run on; default: test, else val…, never train (see defaultSplit). */
  split?: string;
  batchSize?: number;
  /** The workspace folder, whose git commit the evaluation records. */
  cwd?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

/**
 * The version's config: the one stored with it (template imports), else a config.json beside its ONNX
 * file or at its root; undefined without one (or when it is not JSON). The request panel reads it too.
 */
export async function versionConfig(
  registry: Registry,
  v: VersionRecord,
  files?: Awaited<ReturnType<Registry['files']>>,
): Promise<unknown> {
  if (v.config) return safeJson(v.config.text);
  files ??= await registry.files(v.id);
  const onnx = files.find((f) => f.path.toLowerCase().endsWith('.onnx'));
  const configFile =
    (onnx && files.find((f) => f.path === path.posix.join(path.posix.dirname(onnx.path), 'config.json'))) ??
    files.find((f) => f.path === 'config.json');
  return configFile ? safeJson(await fsp.readFile(registry.store.objectPath(configFile.sha256), 'utf8')) : undefined;
}

/** Where the model's own class names are in its config (Hugging Face id2label, or a labels/classes list). */
export function modelLabels(config: unknown): string[] | undefined {
  const c = config as Record<string, unknown> | null;
  if (!c || typeof c !== 'object') return undefined;
  if (c.id2label && typeof c.id2label === 'object') {
    const m = c.id2label as Record<string, unknown>;
    return Object.keys(m)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => String(m[k]));
  }
  for (const key of ['labels', 'classes', 'class_names'])
    if (Array.isArray(c[key])) return (c[key] as unknown[]).map(String);
  return undefined;
}

/** Turns samples into input rows of the model's first input. */
interface InputSource {
  /** What the samples are, for messages: images, rows, arrays. */
  what: string;
  /** Elements per sample. */
  width: number;
  /** The per-sample part of the tensor shape. */
  shape: number[];
  load(s: DatasetSample): Promise<Float32Array>;
  close(): Promise<void>;
}

function inputSource(d: DatasetRecord, m: DatasetManifest, v: VersionRecord, config: unknown): InputSource {
  const spec = v.signature.inputs?.[0];
  const dims = spec?.shape.slice(1) ?? [];
  if (m.kind === 'image-folder') {
    const pre: ImagePreprocess = preprocessFromConfig(config, spec?.shape);
    const pool = new ImagePool();
    const shape = imageShape(pre);
    return {
      what: 'images',
      width: 3 * pre.size[0] * pre.size[1],
      shape,
      load: async (s) => pool.load(sampleFilePath(d.root, d.kind, s.file), pre),
      close: () => pool.close(),
    };
  }
  if (m.kind === 'table') {
    const reader = new TableReader(d.root, m);
    const width = m.table!.featureColumns.length;
    return { what: 'rows', width, shape: [width], load: (s) => reader.features(s), close: async () => undefined };
  }
  const reader = new ArrayReader(d.root, m);
  const shape = m.arrays!.shape.length ? m.arrays!.shape : dims.map((x) => (typeof x === 'number' ? x : 1));
  return {
    what: 'arrays',
    width: shape.reduce((a, b) => a * b, 1),
    shape,
    load: (s) => reader.sample(s),
    close: () => reader.close(),
  };
}

/**
 * What a task makes of the model's outputs. Classification is built in; object detection would be a
 * second implementation: boxes, scores and classes from the outputs, matched to the sample's
 * annotations, with mAP and per-class AP as its result (the store and panel take any metrics).
 */
export interface EvaluationTask {
  readonly id: string;
  /** One sample: its rows of every model output → the predicted class and its score. */
  score(sample: DatasetSample, outputs: Float32Array[]): { prediction: number | null; score: number | null };
  result(): { metrics: Record<string, number | null | undefined>; perClass: ClassMetrics[]; confusion: number[][] };
}

/** Single-label classification from the first output (logits or probabilities). */
class ClassificationTask implements EvaluationTask {
  readonly id = 'classification';
  private readonly tally: ClassificationTally;
  private warned = false;

  constructor(
    private readonly classes: string[],
    /** Model output index → dataset class index, when the model names its classes. */
    private readonly toDataset: number[] | undefined,
    private readonly log?: (line: string) => void,
  ) {
    this.tally = new ClassificationTally(classes);
  }

  score(sample: DatasetSample, outputs: Float32Array[]) {
    const probs = toProbabilities(outputs[0]);
    if (!this.toDataset && probs.length !== this.classes.length && !this.warned) {
      this.warned = true;
      this.log?.(
        `warning: the model has ${probs.length} outputs and the dataset ${this.classes.length} classes; matching by index`,
      );
    }
    // Probabilities over the dataset's classes (a model class the dataset lacks is dropped).
    const p = new Float64Array(this.classes.length);
    probs.forEach((q, j) => {
      const c = this.toDataset ? this.toDataset[j] : j;
      if (c >= 0 && c < this.classes.length) p[c] += q;
    });
    return this.tally.add({ label: sample.label, probs: p });
  }

  result() {
    return { metrics: { ...this.tally.metrics() }, perClass: this.tally.perClass(), confusion: this.tally.confusion };
  }
}

export async function evaluateVersion(
  registry: Registry,
  ref: string,
  opts: EvaluateOptions,
): Promise<EvaluationRecord> {
  const v = await registry.resolve(ref);
  const files = await registry.files(v.id);
  const onnx = files.find((f) => f.path.toLowerCase().endsWith('.onnx'));
  if (!onnx)
    throw new RegistryError(
      `${v.ref} has no ONNX file; the built-in evaluator runs ONNX models (convert it first, or use an external evaluator)`,
    );
  const dataset = await registry.getDataset(opts.dataset);
  const manifest = await registry.readManifest(dataset);
  if (manifest.kind === 'detection')
    throw new RegistryError(
      `dataset ${dataset.name} holds detection boxes; evaluate a detector on it (this evaluator scores classifiers: one class label a sample)`,
    );
  const split = chooseSplit(dataset, opts.split);
  const samples = manifest.samples.filter((s) => split === null || s.split === split);
  if (samples.length === 0)
    throw new RegistryError(`dataset ${dataset.name}${split ? ` (split ${split})` : ''} has no samples`);
  // The files must still be what the manifest says (the evaluation names it), under a root that is not now a link elsewhere.
  const root = await realDatasetRoot(dataset);
  await checkDatasetFiles(dataset, manifest, root, samples, opts.signal);

  const config = await versionConfig(registry, v, files);
  const source = inputSource({ ...dataset, root }, manifest, v, config);
  // Refused here, in our words, rather than by onnxruntime in the first batch.
  const mismatch = inputMismatch({ ref: v.ref, file: onnx.path }, v.signature.inputs, {
    ...source,
    from: path.basename(dataset.root),
  });
  if (mismatch) {
    await source.close();
    throw new RegistryError(mismatch);
  }
  const classes = manifest.classes;
  // Model output index → dataset class index, by name when the model names its classes.
  const names = modelLabels(config);
  const toDataset = names ? names.map((n) => classes.indexOf(n)) : undefined;
  // With named model classes, a sample whose class the model does not have cannot be judged.
  const known = toDataset ? new Set(toDataset.filter((c) => c >= 0)) : undefined;
  const task: EvaluationTask = new ClassificationTask(classes, toDataset, opts.log);
  const batchSize = Math.max(1, opts.batchSize ?? 32);
  const fixedBatch =
    typeof v.signature.inputs?.[0]?.shape[0] === 'number' && (v.signature.inputs[0].shape[0] as number) > 0
      ? (v.signature.inputs[0].shape[0] as number)
      : undefined;
  const batch = fixedBatch ?? batchSize;
  const git = opts.cwd ? (await gitProvenance(opts.cwd)).git : null;
  const modelFile = registry.store.objectPath(onnx.sha256);
  const where = `${v.ref}:${onnx.path}`;
  // In a child process: a native crash in onnxruntime is an error here, not the end of the editor.
  const session = await OrtSession.create(modelFile, { signal: opts.signal }).catch((e: Error) => {
    void source.close();
    throw e instanceof OrtError
      ? new InputError(where, `onnxruntime cannot load the model (${e.message.split('\n')[0]})`)
      : e instanceof OrtCrashError || e instanceof OrtTimeoutError
        ? new InputError(where, e.message)
        : e;
  });
  const id = await registry
    .beginEvaluation({
      versionId: v.id,
      datasetId: dataset.id,
      split,
      evaluator: 'builtin',
      git: git && { commit: git.commit, dirty: git.dirty },
    })
    .catch(async (e) => {
      await Promise.all([session.release(), source.close()]);
      throw e;
    });
  opts.log?.(
    `${v.ref} on ${dataset.name}${split ? `/${split}` : ''}: ${samples.length} samples, batches of ${batch}, input ${session.inputNames[0]} [${source.shape.join(', ')}]`,
  );

  let done = 0;
  let errors = 0;
  let pending: SamplePrediction[] = [];
  const started = Date.now();
  const loadBatch = (from: number) =>
    Promise.all(
      samples.slice(from, from + batch).map((s, k) =>
        s.label < 0 || s.label >= classes.length
          ? Promise.resolve({
              idx: from + k,
              s,
              error: `label index ${s.label} is not one of the dataset's ${classes.length} classes`,
            })
          : known && !known.has(s.label)
            ? Promise.resolve({
                idx: from + k,
                s,
                error: `label '${classes[s.label]}' is not a class of the model (it has: ${names!.join(', ')})`,
              })
            : source.load(s).then(
                (data) =>
                  data.length === source.width
                    ? { idx: from + k, s, data }
                    : { idx: from + k, s, error: `input has ${data.length} values, the model takes ${source.width}` },
                (e: Error) => ({ idx: from + k, s, error: e.message }),
              ),
      ),
    );
  try {
    let next = loadBatch(0);
    for (let from = 0; from < samples.length; from += batch) {
      if (opts.signal?.aborted) throw new CancelledError();
      const items = await next;
      if (from + batch < samples.length) next = loadBatch(from + batch); // decode the next batch while this one runs
      const ok = items.filter((x): x is typeof x & { data: Float32Array } => 'data' in x);
      for (const x of items) {
        if ('data' in x) continue;
        pending.push({ idx: x.idx, sampleId: x.s.id, label: x.s.label, prediction: null, score: null, error: x.error });
        errors++;
      }
      if (ok.length) {
        // A fixed batch size (often 1) is filled with zeros; their outputs are ignored.
        const n = fixedBatch ?? ok.length;
        const input = new Float32Array(n * source.width);
        ok.forEach((x, k) => input.set(x.data, k * source.width));
        const out = await session
          .run({ [session.inputNames[0]]: { type: 'float32', data: input, dims: [n, ...source.shape] } })
          .catch((e: Error) => {
            // onnxruntime's own refusal (wrong rank, an int64 input) is about the version's model file.
            if (e instanceof OrtError)
              throw new InputError(
                where,
                `onnxruntime cannot run the model on the dataset's inputs (${e.message.split('\n')[0]})`,
              );
            throw e instanceof OrtCrashError || e instanceof OrtTimeoutError ? new InputError(where, e.message) : e;
          });
        // Every output, cut into per-sample rows (a detector would read boxes, scores and classes from several).
        const outputs = session.outputNames.map((name) => out[name].data as Float32Array);
        ok.forEach((x, k) => {
          const rows = outputs.map((o) => o.subarray((k * o.length) / n, ((k + 1) * o.length) / n));
          const { prediction, score } = task.score(x.s, rows);
          pending.push({ idx: x.idx, sampleId: x.s.id, label: x.s.label, prediction, score });
        });
      }
      done += items.length;
      opts.onProgress?.(done, samples.length);
      if (pending.length >= 1000) {
        await registry.addEvaluationSamples(id, pending);
        pending = [];
      }
    }
    await registry.addEvaluationSamples(id, pending);
    const seconds = (Date.now() - started) / 1000;
    opts.log?.(
      `${done} samples in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(0)}/s), ${errors} could not be evaluated`,
    );
    return await registry.completeEvaluation(id, {
      ...task.result(),
      sampleCount: done - errors,
      errorCount: errors,
      details: {
        seconds,
        samplesPerSecond: done / seconds,
        batch,
        model: onnx.path,
        input: session.inputNames[0],
        outputs: session.outputNames,
        task: task.id,
        classMap: names ? 'by name' : 'by index',
      },
    });
  } catch (e) {
    await registry.dropEvaluation(id);
    throw e;
  } finally {
    await source.close();
    await session.release();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

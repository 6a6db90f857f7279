// Evaluator benchmark (not a test): the built-in evaluator on an image-folder dataset (PNG decoding,
// resize and normalisation on worker threads, metrics, per-sample rows in SQLite) against a bare
// onnxruntime-node loop over the same inputs: read and decode each PNG, normalise it, run the same
// model in the same batches, nothing else. Goal: ≥ 0.8× the bare loop's samples/s. Also printed: the
// model alone on tensors already in memory, the ceiling neither can pass.
// BENCH_EVAL_SAMPLES (default 1000).
import { mkdirSync, rmSync, existsSync, writeFileSync } from 'fs';
import path from 'path';
import { createRequire } from 'module';
import { fileURLToPath } from 'url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const core = require(path.join(repo, 'out/src/core/index.js'));
const { onnxModelType } = require(path.join(repo, 'out/src/core/inspect/weights/onnxSchema.js'));
const { PNG } = require('pngjs');
const ort = require('onnxruntime-node');

const SAMPLES = Number(process.env.BENCH_EVAL_SAMPLES ?? 1000);
const CLASSES = 10;
const SIZE = 96;
const BATCH = 32;
const dir = path.join(repo, '.cache', `bench-evaluate-2-${SAMPLES}`); // bump when the fixtures change

function rng(seed) {
  return () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * A small CNN (~190 MFLOP a sample, a third of MobileNetV2 at 224×224): Conv 3→32 → Relu → Conv 32→64 /2
 * → Relu → Conv 64→128 /2 → Relu → GlobalAveragePool → Flatten → Gemm 128→10, all 3×3.
 */
function cnn() {
  const r = rng(7);
  const t = (name, dims) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const buf = Buffer.alloc(4 * n);
    for (let i = 0; i < n; i++) buf.writeFloatLE((r() - 0.5) * 0.2, 4 * i);
    return { name, dims, data_type: 1, raw_data: buf };
  };
  const ints = (name, v) => ({ name, type: 7, ints: v });
  const dim = (d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d });
  const info = (name, dims) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map(dim) } } } });
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'bench_cnn',
      node: [
        {
          op_type: 'Conv',
          input: ['image', 'W1', 'B1'],
          output: ['c1'],
          attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])],
        },
        { op_type: 'Relu', input: ['c1'], output: ['r1'] },
        {
          op_type: 'Conv',
          input: ['r1', 'W2', 'B2'],
          output: ['c2'],
          attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [2, 2])],
        },
        { op_type: 'Relu', input: ['c2'], output: ['r2'] },
        {
          op_type: 'Conv',
          input: ['r2', 'W4', 'B4'],
          output: ['c3'],
          attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [2, 2])],
        },
        { op_type: 'Relu', input: ['c3'], output: ['r3'] },
        { op_type: 'GlobalAveragePool', input: ['r3'], output: ['p'] },
        { op_type: 'Flatten', input: ['p'], output: ['f'] },
        { op_type: 'Gemm', input: ['f', 'W3', 'B3'], output: ['logits'] },
      ],
      initializer: [
        t('W1', [32, 3, 3, 3]),
        t('B1', [32]),
        t('W2', [64, 32, 3, 3]),
        t('B2', [64]),
        t('W4', [128, 64, 3, 3]),
        t('B4', [128]),
        t('W3', [128, CLASSES]),
        t('B3', [CLASSES]),
      ],
      input: [info('image', ['batch', 3, SIZE, SIZE])],
      output: [info('logits', ['batch', CLASSES])],
    },
  };
  const type = onnxModelType();
  return Buffer.from(type.encode(type.fromObject(model)).finish());
}

// ---- fixtures (kept in .cache and reused)
const modelDir = path.join(dir, 'model');
const data = path.join(dir, 'images');
if (!existsSync(path.join(dir, 'ready'))) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(path.join(modelDir, 'model.onnx'), cnn());
  const r = rng(1);
  for (let i = 0; i < SAMPLES; i++) {
    const cls = `class-${i % CLASSES}`;
    mkdirSync(path.join(data, cls), { recursive: true });
    const img = new PNG({ width: SIZE, height: SIZE });
    for (let p = 0; p < img.data.length; p++) img.data[p] = p % 4 === 3 ? 255 : Math.floor(r() * 256);
    writeFileSync(path.join(data, cls, `${i}.png`), PNG.sync.write(img));
  }
  writeFileSync(path.join(dir, 'ready'), '');
}

const regDir = path.join(dir, 'registry');
rmSync(regDir, { recursive: true, force: true });
const registry = await core.Registry.open(regDir);
await core.importTrainingOutput(registry, modelDir, { model: 'cnn' });
await core.registerDataset(registry, data, { name: 'images' });

// ---- the bare loop: same model, same number of inputs, same batches, tensors already in memory
const session = await ort.InferenceSession.create(path.join(modelDir, 'model.onnx'));
const inputs = [];
for (let from = 0; from < SAMPLES; from += BATCH) {
  const n = Math.min(BATCH, SAMPLES - from);
  const x = new Float32Array(n * 3 * SIZE * SIZE);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i);
  inputs.push(new ort.Tensor('float32', x, [n, 3, SIZE, SIZE]));
}
async function modelOnly() {
  const t = performance.now();
  for (const x of inputs) await session.run({ image: x });
  return SAMPLES / ((performance.now() - t) / 1000);
}
const { loadImage } = require(path.join(repo, 'out/src/core/datasets/samples.js'));
const { readdirSync } = await import('fs');
const files = readdirSync(data).flatMap((c) => readdirSync(path.join(data, c)).map((f) => path.join(data, c, f)));
const pre = {
  size: [SIZE, SIZE],
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  channelOrder: 'RGB',
  layout: 'NCHW',
};
async function bare() {
  const t = performance.now();
  const per = 3 * SIZE * SIZE;
  for (let from = 0; from < files.length; from += BATCH) {
    const batch = files.slice(from, from + BATCH);
    const x = new Float32Array(batch.length * per);
    for (let k = 0; k < batch.length; k++) x.set(await loadImage(batch[k], pre), k * per);
    await session.run({ image: new ort.Tensor('float32', x, [batch.length, 3, SIZE, SIZE]) });
  }
  return files.length / ((performance.now() - t) / 1000);
}
async function ours() {
  const t = performance.now();
  const e = await core.evaluateVersion(registry, 'cnn@v1', { dataset: 'images', batchSize: BATCH });
  if (e.sampleCount !== SAMPLES) throw new Error(`evaluated ${e.sampleCount} of ${SAMPLES}`);
  return SAMPLES / ((performance.now() - t) / 1000);
}

await modelOnly(); // warm-up
const rows = [];
for (let i = 0; i < 3; i++) rows.push({ model: await modelOnly(), bare: await bare(), ours: await ours() });
await registry.close();
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const b = median(rows.map((r) => r.bare));
const o = median(rows.map((r) => r.ours));
console.log(
  `\nEvaluate: ${SAMPLES} PNG images ${SIZE}×${SIZE}, ${CLASSES} classes, a small CNN (~190 MFLOP/sample), batches of ${BATCH}; median of 3`,
);
console.log(
  `  built-in evaluator ${o.toFixed(0).padStart(6)} samples/s   bare decode + onnxruntime loop ${b.toFixed(0).padStart(6)} samples/s   ${(o / b).toFixed(2)}×  ${o / b >= 0.8 ? 'met' : 'NOT met'} (≥ 0.8×)`,
);
console.log(`  (the model alone on tensors in memory: ${median(rows.map((r) => r.model)).toFixed(0)} samples/s)`);

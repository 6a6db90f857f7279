// export --as triton / kserve: config.pbtxt from the recorded ONNX signature, the repository layout
// (model.onnx a hard link to the stored object), refusals, and the KServe manifest parsed back.
import * as assert from 'assert/strict';
import { createHash } from 'crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import {
  exportKServe,
  inferenceServiceYaml,
  kubernetesName,
  STORAGE_PLACEHOLDER,
} from '../../../../src/core/engines/kserve';
import { exportTriton, tritonConfig } from '../../../../src/core/engines/triton';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { OrtSession } from '../../../../src/core/onnxrt/session';
import { Registry } from '../../../../src/core/registry/registry';
import { importOnnxModel } from '../../helpers/importModel';
import { safetensorsBytes } from '../../helpers/makeWeights';
import { affineBytes } from '../../helpers/affineModel';
import { FLOAT, floatTensor, mixedBytes, modelBytes, node, vi } from '../../helpers/onnxModels';
import { tempDir } from '../../helpers/tmp';

type Pb = { [k: string]: Pb | Pb[] | string | number | (string | number)[] };

/**
 * Reads the protobuf text format config.pbtxt is written in (the subset Triton's examples use:
 * `key: scalar`, `key [ {…}, … ]`, `key { … }`, `key: [ 1, 2 ]`), so a test compares structure,
 * and a malformed file fails to parse.
 */
function parsePbtxt(text: string): Pb {
  const tokens = [...text.matchAll(/"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,"]+/g)].map((m) => m[0]);
  let i = 0;
  const scalar = (t: string): string | number =>
    t.startsWith('"') ? (JSON.parse(t) as string) : /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
  const value = (): Pb | Pb[] | string | number | (string | number)[] => {
    const t = tokens[i++];
    if (t === '{') return message('}');
    if (t === '[') {
      const items: (Pb | string | number)[] = [];
      while (tokens[i] !== ']') {
        items.push(tokens[i] === '{' ? (i++, message('}')) : scalar(tokens[i++]));
        if (tokens[i] === ',') i++;
      }
      i++;
      return items as Pb[];
    }
    return scalar(t);
  };
  const message = (end: string | undefined): Pb => {
    const m: Pb = {};
    while (i < tokens.length && tokens[i] !== end) {
      const key = tokens[i++];
      assert.match(key, /^[a-z_]+$/, `a field name, not ${key}`);
      if (tokens[i] === ':') i++;
      assert.ok(!(key in m), `${key} given twice`);
      m[key] = value();
    }
    if (end) {
      assert.equal(tokens[i], end, 'an unclosed message');
      i++;
    }
    return m;
  };
  return message(undefined);
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('Triton config.pbtxt from a signature', () => {
  it('a dynamic first axis everywhere: max_batch_size, dims without it, dynamic batching', () => {
    const { text, maxBatchSize } = tritonConfig(
      'affine',
      {
        inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 4] }],
      },
      { maxBatch: 16, batchDelayMs: 2.5 },
    );
    assert.equal(maxBatchSize, 16);
    assert.equal(
      text,
      [
        'name: "affine"',
        'platform: "onnxruntime_onnx"',
        'max_batch_size: 16',
        'input [',
        '  {',
        '    name: "x"',
        '    data_type: TYPE_FP32',
        '    dims: [ 4 ]',
        '  }',
        ']',
        'output [',
        '  {',
        '    name: "y"',
        '    data_type: TYPE_FP32',
        '    dims: [ 4 ]',
        '  }',
        ']',
        'dynamic_batching {',
        '  max_queue_delay_microseconds: 2500',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('a fixed or missing batch axis on any tensor: max_batch_size 0, full dims (-1 for dynamic), no batcher', () => {
    const { text, maxBatchSize } = tritonConfig('m', {
      inputs: [
        { name: 'x', dtype: 'float32', shape: ['batch', 3] },
        { name: 'k', dtype: 'int64', shape: [2] },
      ],
      outputs: [{ name: 'h', dtype: 'float16', shape: ['batch', '?'] }],
    });
    assert.equal(maxBatchSize, 0);
    assert.deepEqual(parsePbtxt(text), {
      name: 'm',
      platform: 'onnxruntime_onnx',
      max_batch_size: 0,
      input: [
        { name: 'x', data_type: 'TYPE_FP32', dims: [-1, 3] },
        { name: 'k', data_type: 'TYPE_INT64', dims: [2] },
      ],
      output: [{ name: 'h', data_type: 'TYPE_FP16', dims: [-1, -1] }],
    });
    // --max-batch 0 turns batching off even when it could be on.
    const off = tritonConfig(
      'm',
      {
        inputs: [{ name: 'x', dtype: 'bool', shape: ['n'] }],
        outputs: [{ name: 's', dtype: 'string', shape: ['n'] }],
      },
      { maxBatch: 0 },
    );
    assert.deepEqual(parsePbtxt(off.text).input, [{ name: 'x', data_type: 'TYPE_BOOL', dims: [-1] }]);
  });

  it('a per-item scalar is dims [1] reshaped to []; names are escaped; bf16, uint8 and float64 map', () => {
    const { text } = tritonConfig('q"uote', {
      inputs: [
        { name: 'ids\\"x', dtype: 'uint8', shape: ['b', 2] },
        { name: 'w', dtype: 'bfloat16', shape: ['b', 1] },
      ],
      outputs: [{ name: 'score', dtype: 'float64', shape: ['b'] }],
    });
    const pb = parsePbtxt(text);
    assert.equal(pb.name, 'q"uote');
    assert.deepEqual(pb.input, [
      { name: 'ids\\"x', data_type: 'TYPE_UINT8', dims: [2] },
      { name: 'w', data_type: 'TYPE_BF16', dims: [1] },
    ]);
    assert.deepEqual(pb.output, [{ name: 'score', data_type: 'TYPE_FP64', dims: [1], reshape: { shape: [] } }]);
    assert.deepEqual(pb.dynamic_batching, { max_queue_delay_microseconds: 1000 });
  });

  it('refuses a type Triton has none for, naming the tensor; and a signature without inputs', () => {
    assert.throws(
      () =>
        tritonConfig('m', {
          inputs: [{ name: 'z', dtype: 'complex64', shape: [2] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
        }),
      /^InputError: m: input 'z' is complex64, which Triton has no data type for/,
    );
    assert.throws(() => tritonConfig('m', { outputs: [] }), /m: the version records no ONNX inputs or outputs/);
    assert.throws(
      () =>
        tritonConfig(
          'm',
          {
            inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
            outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
          },
          { maxBatch: -1 },
        ),
      /-1: the largest batch must be a whole number/,
    );
  });
});

describe('export --as triton and --as kserve (real registry, real onnxruntime)', function () {
  this.timeout(60_000);
  let work: string;
  let r: Registry;
  beforeEach(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, 'reg'));
  });
  afterEach(() => r.close());

  it('writes NAME/VERSION/model.onnx (a hard link to the stored object) and a config.pbtxt onnxruntime agrees with', async () => {
    const v = await importOnnxModel(r, work, 'affine', affineBytes());
    const repo = path.join(work, 'triton');
    const out = await exportTriton(r, v.ref, repo, { maxBatch: 4 });
    assert.deepEqual(readdirSync(repo), ['affine']);
    assert.deepEqual(readdirSync(path.join(repo, 'affine')).sort(), ['1', 'config.pbtxt']);
    const onnx = path.join(repo, 'affine', '1', 'model.onnx');
    const stored = (await r.files(v.id)).find((f) => f.path === 'model.onnx')!;
    assert.equal(sha(onnx), stored.sha256);
    assert.equal(statSync(onnx).ino, statSync(r.store.objectPath(stored.sha256)).ino, 'a hard link, not a copy');
    assert.equal(out.linked, true);
    const pb = parsePbtxt(readFileSync(path.join(repo, 'affine', 'config.pbtxt'), 'utf8'));
    assert.deepEqual(pb, {
      name: 'affine',
      platform: 'onnxruntime_onnx',
      max_batch_size: 4,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [4] }],
      output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [4] }],
      dynamic_batching: { max_queue_delay_microseconds: 1000 },
    });
    // The exported file is the model: onnxruntime names the same tensors and computes a·x + b.
    const s = await OrtSession.create(onnx);
    try {
      assert.deepEqual(s.inputNames, ['x']);
      assert.deepEqual(s.outputNames, ['y']);
      const y = await s.run({
        x: { type: 'float32', dims: [2, 4], data: Float32Array.from([1, 1, 1, 1, 2, 2, 2, 2]) },
      });
      assert.deepEqual(Array.from(y.y.data as Float32Array), [1.5, 2.5, 3.5, 4.5, 2.5, 4.5, 6.5, 8.5]);
    } finally {
      await s.release();
    }
  });

  it('a fixed batch size: max_batch_size 0 with the full shape; mixed types from the mixed model', async () => {
    const fixed = await importOnnxModel(r, work, 'fixed', affineBytes(2));
    await exportTriton(r, fixed.ref, path.join(work, 'repo'));
    const pb = parsePbtxt(readFileSync(path.join(work, 'repo', 'fixed', 'config.pbtxt'), 'utf8'));
    assert.equal(pb.max_batch_size, 0);
    assert.deepEqual(pb.input, [{ name: 'x', data_type: 'TYPE_FP32', dims: [2, 4] }]);
    assert.ok(!('dynamic_batching' in pb));

    const mixed = await importOnnxModel(r, work, 'mixed', mixedBytes());
    await exportTriton(r, mixed.ref, path.join(work, 'repo'));
    const m = parsePbtxt(readFileSync(path.join(work, 'repo', 'mixed', 'config.pbtxt'), 'utf8'));
    assert.deepEqual(m.output, [
      { name: 'out', data_type: 'TYPE_FP32', dims: [-1, 3] },
      { name: 'n', data_type: 'TYPE_INT64', dims: [2] },
      { name: 'h', data_type: 'TYPE_FP16', dims: [-1, 3] },
    ]);
    assert.deepEqual(readdirSync(path.join(work, 'repo')).sort(), ['fixed', 'mixed'], 'no staging folder left');
  });

  it('refuses a non-ONNX version naming its format, and an existing model folder unless forced (other versions kept)', async () => {
    const st = path.join(work, 'st');
    mkdirSync(st);
    writeFileSync(
      path.join(st, 'model.safetensors'),
      safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [2], fill: 1 }]),
    );
    const sv = await importTrainingOutput(r, st, { model: 'st' });
    await assert.rejects(
      exportTriton(r, sv.ref, path.join(work, 'x')),
      /^InputError: st@v1: a safetensors version, not ONNX; Triton's onnxruntime backend needs an ONNX version/,
    );
    assert.ok(!existsSync(path.join(work, 'x', 'st')));

    const v1 = await importOnnxModel(r, work, 'affine', affineBytes());
    const repo = path.join(work, 'repo');
    await exportTriton(r, v1.ref, repo);
    const v2 = await importTrainingOutput(
      r,
      (mkdirSync(path.join(work, 'v2')),
      writeFileSync(path.join(work, 'v2', 'model.onnx'), affineBytes(3)),
      path.join(work, 'v2')),
      { model: 'affine' },
    );
    await assert.rejects(exportTriton(r, v2.ref, repo), (e: Error) => {
      assert.equal(
        e.message,
        `${path.join(repo, 'affine')}: already exists; nothing was written (--force replaces its config.pbtxt and version folder, keeping other versions)`,
      );
      return true;
    });
    assert.deepEqual(readdirSync(path.join(repo, 'affine')).sort(), ['1', 'config.pbtxt']);
    await exportTriton(r, v2.ref, repo, { force: true });
    assert.deepEqual(readdirSync(path.join(repo, 'affine')).sort(), ['1', '2', 'config.pbtxt']);
    assert.equal(parsePbtxt(readFileSync(path.join(repo, 'affine', 'config.pbtxt'), 'utf8')).max_batch_size, 0);
  });

  it('kserve: the repository plus an InferenceService that parses back, storageUri given or a placeholder to edit', async () => {
    const v = await importOnnxModel(r, work, 'Affine_Net', affineBytes());
    const dir = path.join(work, 'ks');
    const out = await exportKServe(r, v.ref, dir, { storageUri: 's3://models/serving/affine' });
    assert.deepEqual(readdirSync(dir).sort(), ['Affine_Net', 'inferenceservice.yaml']);
    assert.deepEqual(parse(readFileSync(out.manifest, 'utf8')), {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'affine-net', annotations: { 'modelreg/ref': 'Affine_Net@v1' } },
      spec: {
        predictor: {
          model: { modelFormat: { name: 'triton' }, protocolVersion: 'v2', storageUri: 's3://models/serving/affine' },
        },
      },
    });
    await assert.rejects(exportKServe(r, v.ref, dir), /inferenceservice\.yaml: already exists/);

    const text = inferenceServiceYaml('m', 'm@v1', undefined, 'onnx');
    assert.match(text, /^# EDIT storageUri/m);
    const doc = parse(text) as {
      spec: { predictor: { model: { storageUri: string; modelFormat: { name: string } } } };
    };
    assert.equal(doc.spec.predictor.model.storageUri, STORAGE_PLACEHOLDER);
    assert.equal(doc.spec.predictor.model.modelFormat.name, 'onnx');
    assert.throws(() => inferenceServiceYaml('m', 'm@v1', 'bucket/x'), /bucket\/x: is not a storage URI/);
    assert.deepEqual(['9lives', 'a.b_c', '--x--'].map(kubernetesName), ['m-9lives', 'a-b-c', 'x']);
  });
});

describe('export --as triton of an ONNX model with external data', function () {
  this.timeout(60_000);
  it('puts the external data file beside model.onnx, and onnxruntime loads the exported model', async () => {
    const work = tempDir();
    const r = await Registry.open(path.join(work, 'reg'));
    try {
      const dir = path.join(work, 'ext');
      mkdirSync(dir);
      // a = [1, 2, 3, 4] stored in weights.bin (ONNX external data), b inline.
      writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer));
      const external = {
        name: 'a',
        dims: [4],
        data_type: FLOAT,
        data_location: 1,
        external_data: [
          { key: 'location', value: 'weights.bin' },
          { key: 'offset', value: '0' },
          { key: 'length', value: '16' },
        ],
      };
      writeFileSync(
        path.join(dir, 'model.onnx'),
        modelBytes({
          name: 'affine-ext',
          node: [node('Mul', ['x', 'a'], ['ax']), node('Add', ['ax', 'b'], ['y'])],
          initializer: [external, floatTensor('b', [4], [0.5, 0.5, 0.5, 0.5])],
          input: [vi('x', FLOAT, ['batch', 4])],
          output: [vi('y', FLOAT, ['batch', 4])],
        }),
      );
      const v = await importTrainingOutput(r, dir, { model: 'ext' });
      const out = await exportTriton(r, v.ref, path.join(work, 'repo'));
      assert.deepEqual(out.files.sort(), ['model.onnx', 'weights.bin']);
      const s = await OrtSession.create(path.join(work, 'repo', 'ext', '1', 'model.onnx'));
      try {
        const y = await s.run({ x: { type: 'float32', dims: [1, 4], data: Float32Array.from([1, 1, 1, 1]) } });
        assert.deepEqual(Array.from(y.y.data as Float32Array), [1.5, 2.5, 3.5, 4.5]);
      } finally {
        await s.release();
      }
    } finally {
      await r.close();
    }
  });
});

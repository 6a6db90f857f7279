import * as assert from 'assert/strict';
import { existsSync } from 'fs';
import { readFile, stat, writeFile } from 'fs/promises';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import type * as Ort from 'onnxruntime-node';
import { ONNX_FULL_PROTO, onnxFp16, onnxInt8 } from '../../../../src/core/convert/onnx';
import { compareOnnx } from '../../../../src/core/convert/onnxVerify';
import { ConvertOptions, FileConverter } from '../../../../src/core/convert/types';
import { CancelledError } from '../../../../src/core/errors';
import { FileEntry } from '../../../../src/core/registry/types';
import { tempDir } from '../../helpers/tmp';
import { mulberry32 } from '../../../../src/core/util/random';
import { rejectsInput } from '../../helpers/assertions';
import { repoPath } from '../../helpers/paths';

const SQUEEZENET = repoPath('test/fixtures/onnx-model-zoo/light_squeezenet.onnx');
const root = protobuf.parse(ONNX_FULL_PROTO, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

// ------------------------------------------------------------------ helpers: building real ONNX models

const FLOAT = 1;
const INT8 = 3;
const INT64 = 7;
const FLOAT16 = 10;

type Obj = Record<string, unknown>;
const vi = (name: string, elem: number, dims: (number | string)[]): Obj => ({
  name,
  type: {
    tensor_type: {
      elem_type: elem,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
    },
  },
});
/** A FLOAT tensor in raw_data, or in float_data when asked (both layouts occur in real files). */
const floatTensor = (name: string, dims: number[], vals: ArrayLike<number>, floatData = false): Obj =>
  floatData
    ? { name, dims, data_type: FLOAT, float_data: Array.from(vals) }
    : { name, dims, data_type: FLOAT, raw_data: Buffer.from(Float32Array.from(vals).buffer) };
const node = (op_type: string, input: string[], output: string[], attribute: Obj[] = []): Obj => ({
  op_type,
  name: `${op_type}_${output[0]}`,
  input,
  output,
  attribute,
});
const intAttr = (name: string, i: number): Obj => ({ name, type: 2, i });

function modelBytes(graph: Obj, opset = 13, irVersion = 8): Buffer {
  const model = {
    ir_version: irVersion,
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'modelreg-tests',
    graph,
  };
  const err = ModelProto.verify(model);
  if (err) throw new Error(err);
  return Buffer.from(ModelProto.encode(ModelProto.fromObject(model)).finish());
}

const uniform = (r: () => number, n: number, scale: number) =>
  Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);

/**
 * A 3-layer MLP: x[batch,32] → MatMul W1[32,128] + b1 → Relu → MatMul W2[128,64] + b2 → Relu →
 * Gemm(W3[16,64], transB=1, C=b3) → y[batch,16]. Weights U(±1/√fan_in); b2 is stored as float_data.
 */
function mlpBytes(opts: { seed?: number; opset?: number } = {}): Buffer {
  const r = mulberry32(opts.seed ?? 7);
  return modelBytes(
    {
      name: 'mlp',
      node: [
        node('MatMul', ['x', 'W1'], ['h1']),
        node('Add', ['h1', 'b1'], ['h2']),
        node('Relu', ['h2'], ['h3']),
        node('MatMul', ['h3', 'W2'], ['h4']),
        node('Add', ['h4', 'b2'], ['h5']),
        node('Relu', ['h5'], ['h6']),
        node('Gemm', ['h6', 'W3', 'b3'], ['y'], [intAttr('transB', 1)]),
      ],
      initializer: [
        floatTensor('W1', [32, 128], uniform(r, 32 * 128, 1 / Math.sqrt(32))),
        floatTensor('b1', [128], uniform(r, 128, 0.1)),
        floatTensor('W2', [128, 64], uniform(r, 128 * 64, 1 / Math.sqrt(128))),
        floatTensor('b2', [64], uniform(r, 64, 0.1), true),
        floatTensor('W3', [16, 64], uniform(r, 16 * 64, 1 / Math.sqrt(64))),
        floatTensor('b3', [16], uniform(r, 16, 0.1)),
      ],
      input: [vi('x', FLOAT, ['batch', 32])],
      output: [vi('y', FLOAT, ['batch', 16])],
      value_info: [vi('h1', FLOAT, ['batch', 128]), vi('h3', FLOAT, ['batch', 128]), vi('h6', FLOAT, ['batch', 64])],
    },
    opts.opset ?? 13,
  );
}

type Decoded = any;
async function decode(file: string): Promise<Decoded> {
  return ModelProto.toObject(ModelProto.decode(await readFile(file)), { longs: Number, arrays: true, defaults: false });
}
const init = (m: Decoded, name: string) => m.graph.initializer.find((t: Decoded) => t.name === name);
const elemType = (v: Decoded) => v.type.tensor_type.elem_type;
const halves = (t: Decoded) => {
  const b = Buffer.from(t.raw_data);
  return Array.from({ length: b.length / 2 }, (_, i) => b.readUInt16LE(i * 2));
};
const floatsOf = (t: Decoded) => {
  const b = Buffer.from(t.raw_data);
  return Array.from({ length: b.length / 4 }, (_, i) => b.readFloatLE(i * 4));
};

const entry = (p: string): FileEntry => ({ path: p, sha256: '0'.repeat(64), size: 1, role: 'weights' }) as FileEntry;

/** Runs a converter with its declared defaults overridden by `params`, collecting log lines. */
let runs = 0;
async function run(
  c: FileConverter,
  src: string,
  params: Record<string, string> = {},
  extra: Partial<ConvertOptions> = {},
) {
  const dest = path.join(path.dirname(src), `${path.basename(src, '.onnx')}.${c.id}.${++runs}.onnx`);
  const full: Record<string, string> = {};
  for (const p of c.params) full[p.name] = params[p.name] ?? p.default;
  const logs: string[] = [];
  const report: any = await c.convert(src, dest, { params: full, log: (l) => logs.push(l), ...extra });
  return { dest, report, logs };
}

/** The largest |output| of a model over a few seeded random inputs (the scale int8 errors are measured against). */
async function maxAbsOutput(file: string, inputName: string, dims: number[]): Promise<number> {
  const ort = require('onnxruntime-node') as typeof Ort;
  const s = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  const r = mulberry32(99);
  let max = 0;
  for (let k = 0; k < 3; k++) {
    const n = dims.reduce((a, b) => a * b, 1);
    const out = await s.run({ [inputName]: new ort.Tensor('float32', uniform(r, n, 1), dims) });
    for (const v of Object.values(out)) for (const x of v.data as Float32Array) max = Math.max(max, Math.abs(x));
  }
  await s.release();
  return max;
}

// ------------------------------------------------------------------ reference fp16 rounding, done the slow obvious way

const HALF_VALUES = Array.from({ length: 0x7c00 }, (_, h) => {
  const e = h >> 10;
  const m = h & 0x3ff;
  return e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25);
});

/** fp16 bits of a float32 value: nearest of all finite halves, ties to the even pattern, ≥ 65520 → Inf. NaN → -1. */
function referenceHalf(x: number): number {
  if (Number.isNaN(x)) return -1;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (HALF_VALUES[mid] <= a) lo = mid;
    else hi = mid - 1;
  }
  if (lo === 0x7bff) return sign | lo;
  const down = a - HALF_VALUES[lo];
  const up = HALF_VALUES[lo + 1] - a;
  return sign | (down < up ? lo : up < down ? lo + 1 : lo & 1 ? lo + 1 : lo);
}

function assertHalfBits(actual: number[], values: Float32Array, what: string): void {
  assert.equal(actual.length, values.length);
  for (let i = 0; i < values.length; i++) {
    const want = referenceHalf(values[i]);
    if (want === -1)
      assert.ok(
        (actual[i] & 0x7c00) === 0x7c00 && (actual[i] & 0x3ff) !== 0,
        `${what}[${i}] NaN → 0x${actual[i].toString(16)}`,
      );
    else
      assert.equal(
        actual[i],
        want,
        `${what}[${i}] = ${values[i]} → 0x${actual[i].toString(16)}, expected 0x${want.toString(16)}`,
      );
  }
}

const EDGE_VALUES = [
  0,
  -0,
  1,
  -1,
  65504,
  65520,
  -65520,
  65519.99,
  65536,
  1e5,
  1e-8,
  -1e-8,
  6.1e-5,
  2 ** -14,
  2 ** -14 - 2 ** -24,
  2 ** -24,
  2 ** -25,
  3 * 2 ** -26,
  2 ** -25 + 2 ** -40,
  1.5 * 2 ** -24,
  2.5 * 2 ** -24,
  NaN,
  Infinity,
  -Infinity,
  0.1,
  1 / 3,
  -1 / 3,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  2048 + 1,
  2048 + 3,
];

// ------------------------------------------------------------------ tests

describe('ONNX converters', function () {
  this.timeout(120000);
  let dir: string;
  let mlp: string;

  before(async () => {
    dir = tempDir('modelreg-onnx-convert-');
    mlp = path.join(dir, 'mlp.onnx');
    await writeFile(mlp, mlpBytes());
  });

  it('declare ids, formats and parameters, and accept only .onnx files, keeping their path', () => {
    assert.equal(onnxFp16.id, 'onnx-fp16');
    assert.equal(onnxInt8.id, 'onnx-int8');
    for (const c of [onnxFp16, onnxInt8]) {
      assert.equal(c.targetFormat, 'onnx');
      assert.ok(c.accepts(entry('models/net.onnx')));
      assert.ok(c.accepts(entry('NET.ONNX')));
      assert.ok(!c.accepts(entry('model.safetensors')));
      assert.ok(!c.accepts(entry('model.onnx.data')));
      assert.equal(c.outputPath('a/b/model.onnx'), 'a/b/model.onnx');
    }
    const check = [
      ['inputs', '', undefined],
      ['verify', 'check', ['check', 'skip']],
    ];
    assert.deepEqual(
      onnxFp16.params.map((p) => [p.name, p.default, p.choices]),
      [['keep_io_types', 'true', ['true', 'false']], ...check],
    );
    assert.deepEqual(
      onnxInt8.params.map((p) => [p.name, p.default, p.choices]),
      [['per_channel', 'false', ['true', 'false']], ['min_elements', '64', undefined], ...check],
    );
  });

  describe('compareOnnx', () => {
    it('gives 0 for a model against itself, deterministically, and names the float outputs', async () => {
      const a = await compareOnnx(mlp, mlp, { runs: 2, seed: 5 });
      assert.deepEqual(a, {
        maxAbsError: 0,
        maxRelError: 0,
        inputsTried: 2,
        outputs: ['y'],
        constantOutputs: [],
        inputs: { x: '[1, 32] random' },
      });
    });

    it('throws an InputError naming a model onnxruntime cannot load', async () => {
      const bad = path.join(dir, 'not-a-model.onnx');
      await writeFile(bad, 'hello, not a model\n');
      await rejectsInput(compareOnnx(mlp, bad, {}), bad, /onnxruntime cannot load it/);
    });
  });

  describe('onnx-fp16', () => {
    it('rounds float32 to float16 bit-exactly (ties to even, subnormals, overflow to Inf, NaN) in initializers and Constant nodes', async () => {
      // 2,000 random float32 values around fp16's range besides the edge cases.
      const r = mulberry32(3);
      const rand = Array.from({ length: 2000 }, () => (r() < 0.5 ? -1 : 1) * 2 ** (r() * 46 - 30) * (1 + r()));
      const values = Float32Array.from([...EDGE_VALUES, ...rand]);
      const n = values.length;
      const src = path.join(dir, 'edges.onnx');
      await writeFile(
        src,
        modelBytes({
          name: 'edges',
          node: [
            node('Add', ['x', 'E'], ['y']),
            node('Constant', [], ['C'], [{ name: 'value', type: 4, t: floatTensor('', [n], values, true) }]),
            node('Mul', ['x', 'C'], ['z']),
            node('Constant', [], ['half'], [{ name: 'value_float', type: 1, f: 0.5 }]),
            node('Mul', ['x', 'half'], ['w']),
          ],
          initializer: [floatTensor('E', [n], values)],
          input: [vi('x', FLOAT, [n])],
          output: [vi('y', FLOAT, [n]), vi('z', FLOAT, [n]), vi('w', FLOAT, [n])],
        }),
      );
      const { dest, report } = await run(onnxFp16, src, { keep_io_types: 'false' });
      assert.equal(report.tensorsConverted, 3);
      const m = await decode(dest);
      const e = init(m, 'E');
      assert.equal(e.data_type, FLOAT16);
      assertHalfBits(halves(e), values, 'E');
      const c = m.graph.node.find((x: Decoded) => x.output[0] === 'C').attribute[0].t;
      assert.equal(c.data_type, FLOAT16);
      assert.deepEqual(c.float_data, []);
      assertHalfBits(halves(c), values, 'C');
      const half = m.graph.node.find((x: Decoded) => x.output[0] === 'half');
      assert.deepEqual(
        half.attribute.map((a: Decoded) => [a.name, a.t.data_type, halves(a.t)]),
        [['value', FLOAT16, [0x3800]]],
      );
      // keep_io_types=false: the graph's own types are float16 too.
      assert.deepEqual([...m.graph.input, ...m.graph.output].map(elemType), [FLOAT16, FLOAT16, FLOAT16, FLOAT16]);
      // 65520 became Inf, so the outputs differ without bound there: the report says so rather than hiding it.
      assert.equal(report.maxAbsError, Infinity);
    });

    it('converts an MLP with keep_io_types=false: float16 everywhere, no Cast, runs in onnxruntime within 1e-2', async () => {
      const { dest, report, logs } = await run(onnxFp16, mlp, { keep_io_types: 'false' });
      assert.equal(report.tensorsConverted, 6);
      assert.equal(report.inputsTried, 3);
      assert.ok(report.maxAbsError > 0 && report.maxAbsError < 1e-2, `maxAbsError ${report.maxAbsError}`);
      assert.equal(report.bytesBefore, (await stat(mlp)).size);
      assert.equal(report.bytesAfter, (await stat(dest)).size);
      assert.ok(report.bytesAfter < report.bytesBefore * 0.52, `${report.bytesBefore} → ${report.bytesAfter}`);
      const m = await decode(dest);
      assert.ok(m.graph.initializer.every((t: Decoded) => t.data_type === FLOAT16 && t.float_data.length === 0));
      for (const v of [...m.graph.input, ...m.graph.output, ...m.graph.value_info])
        assert.equal(elemType(v), FLOAT16, v.name);
      assert.ok(!m.graph.node.some((x: Decoded) => x.op_type === 'Cast'));
      assert.equal(logs.length, 1);
      assert.match(logs[0], /6 tensors to float16/);
    });

    it('keeps float32 graph inputs and outputs by default, with Cast nodes around the float16 graph', async () => {
      const { dest, report } = await run(onnxFp16, mlp);
      assert.ok(report.maxAbsError < 1e-2, `maxAbsError ${report.maxAbsError}`);
      const m = await decode(dest);
      assert.deepEqual(
        m.graph.input.map((v: Decoded) => [v.name, elemType(v)]),
        [['x', FLOAT]],
      );
      assert.deepEqual(
        m.graph.output.map((v: Decoded) => [v.name, elemType(v)]),
        [['y', FLOAT]],
      );
      const nodes = m.graph.node;
      const first = nodes[0];
      const last = nodes[nodes.length - 1];
      assert.deepEqual(
        [first.op_type, first.input, first.output, first.attribute[0].i],
        ['Cast', ['x'], ['x_fp16'], FLOAT16],
      );
      assert.deepEqual(
        [last.op_type, last.input, last.output, last.attribute[0].i],
        ['Cast', ['y_fp16'], ['y'], FLOAT],
      );
      assert.deepEqual(nodes[1].input, ['x_fp16', 'W1']);
      assert.deepEqual(nodes[nodes.length - 2].output, ['y_fp16']);
      assert.ok(m.graph.value_info.every((v: Decoded) => elemType(v) === FLOAT16));
    });

    it('converts If branches too, renaming outer-scope inputs they read', async () => {
      const branch = (name: string, nodes: Obj[], inits: Obj[]) => ({
        name,
        node: nodes,
        initializer: inits,
        output: [vi(`${name}_out`, FLOAT, [4])],
      });
      const src = path.join(dir, 'if.onnx');
      await writeFile(
        src,
        modelBytes({
          name: 'if',
          node: [
            node(
              'If',
              ['cond'],
              ['y'],
              [
                {
                  name: 'then_branch',
                  type: 5,
                  g: branch('then', [node('Add', ['x', 'T'], ['then_out'])], [floatTensor('T', [4], [0.5, 1, 1.5, 2])]),
                },
                {
                  name: 'else_branch',
                  type: 5,
                  g: branch(
                    'else',
                    [
                      node('Constant', [], ['c'], [{ name: 'value_floats', type: 6, floats: [2, 3, 4, 5] }]),
                      node('Mul', ['x', 'c'], ['else_out']),
                    ],
                    [],
                  ),
                },
              ],
            ),
          ],
          input: [vi('cond', 9, []), vi('x', FLOAT, [4])],
          output: [vi('y', FLOAT, [4])],
        }),
      );
      const { dest, report } = await run(onnxFp16, src);
      assert.equal(report.tensorsConverted, 2);
      assert.ok(report.maxAbsError < 1e-2, `maxAbsError ${report.maxAbsError}`);
      const m = await decode(dest);
      const [thenG, elseG] = m.graph.node[1].attribute.map((a: Decoded) => a.g);
      assert.deepEqual(thenG.node[0].input, ['x_fp16', 'T']);
      assert.equal(thenG.initializer[0].data_type, FLOAT16);
      assert.equal(elemType(thenG.output[0]), FLOAT16);
      assert.equal(elseG.node[0].attribute[0].t.data_type, FLOAT16);
    });

    it('leaves Resize scales float32, as ONNX requires', async () => {
      const src = path.join(dir, 'resize.onnx');
      await writeFile(
        src,
        modelBytes({
          name: 'resize',
          node: [
            node('Resize', ['x', '', 'S'], ['r'], [{ name: 'mode', type: 3, s: Buffer.from('nearest') }]),
            node('Add', ['r', 'B'], ['y']),
          ],
          initializer: [floatTensor('S', [4], [1, 1, 2, 2]), floatTensor('B', [1], [0.25])],
          input: [vi('x', FLOAT, [1, 1, 2, 2])],
          output: [vi('y', FLOAT, [1, 1, 4, 4])],
        }),
      );
      const { dest, report } = await run(onnxFp16, src);
      assert.equal(report.tensorsConverted, 1);
      assert.ok(report.maxAbsError < 1e-3);
      const m = await decode(dest);
      assert.equal(init(m, 'S').data_type, FLOAT);
      assert.deepEqual(floatsOf(init(m, 'S')), [1, 1, 2, 2]);
      assert.equal(init(m, 'B').data_type, FLOAT16);
    });

    it('says so when there is nothing float to convert', async () => {
      const src = path.join(dir, 'ints.onnx');
      await writeFile(
        src,
        modelBytes({
          name: 'ints',
          node: [node('Add', ['x', 'K'], ['y'])],
          initializer: [{ name: 'K', dims: [2], data_type: INT64, int64_data: [1, 2] }],
          input: [vi('x', INT64, [2])],
          output: [vi('y', INT64, [2])],
        }),
      );
      await rejectsInput(
        onnxFp16.convert(src, path.join(dir, 'ints.out.onnx'), { params: { keep_io_types: 'true' } }),
        src,
        /no float32 initializers or constants/,
      );
    });

    it('keeps NonMaxSuppression float32 between Casts (onnxruntime has no float16 kernel for it), and the check passes', async () => {
      const src = path.join(dir, 'nms.onnx');
      await writeFile(
        src,
        modelBytes({
          name: 'nms',
          node: [node('NonMaxSuppression', ['boxes', 'scores', 'max', 'iou'], ['selected'])],
          initializer: [{ name: 'max', dims: [1], data_type: INT64, int64_data: [3] }, floatTensor('iou', [1], [0.5])],
          input: [vi('boxes', FLOAT, [1, 4, 4]), vi('scores', FLOAT, [1, 1, 4])],
          output: [vi('selected', INT64, ['n', 3])],
        }),
      );
      const { dest, report } = await run(onnxFp16, src, { keep_io_types: 'false' });
      assert.deepEqual(report.keptFloat32, ['NonMaxSuppression']);
      assert.equal(report.verified, true);
      const m = await decode(dest);
      const nms = m.graph.node.find((n: Decoded) => n.op_type === 'NonMaxSuppression');
      const producer = (v: string) => m.graph.node.find((n: Decoded) => n.output[0] === v);
      for (const i of [0, 1, 3])
        assert.deepEqual(
          [producer(nms.input[i]).op_type, producer(nms.input[i]).attribute[0].i],
          ['Cast', FLOAT],
          `input ${i}`,
        );
      assert.equal(nms.input[2], 'max', 'the int64 input is left alone');
      assert.equal(init(m, 'iou').data_type, FLOAT16, 'stored float16, cast to float32 where NMS reads it');
    });

    it('fails with an InputError when onnxruntime refuses the float16 graph (TfIdfVectorizer makes float32 only)', async () => {
      const src = path.join(dir, 'tfidf.onnx');
      const ints = (name: string, v: number[]): Obj => ({ name, type: 7, ints: v });
      await writeFile(
        src,
        modelBytes(
          {
            name: 'tfidf',
            node: [
              node(
                'TfIdfVectorizer',
                ['tokens'],
                ['counts'],
                [
                  { name: 'mode', type: 3, s: Buffer.from('TF') },
                  intAttr('min_gram_length', 1),
                  intAttr('max_gram_length', 1),
                  intAttr('max_skip_count', 0),
                  ints('ngram_counts', [0]),
                  ints('ngram_indexes', [0, 1]),
                  ints('pool_int64s', [2, 3]),
                ],
              ),
              node('Add', ['counts', 'bias'], ['y']),
            ],
            initializer: [floatTensor('bias', [2], [0.5, 0.25])],
            input: [vi('tokens', INT64, [4])],
            output: [vi('y', FLOAT, [2])],
          },
          9,
        ),
      );
      await rejectsInput(
        run(onnxFp16, src, { keep_io_types: 'false' }),
        src,
        /the converted model fails in onnxruntime: .*onnxruntime cannot load it/,
      );
    });
  });

  describe('onnx-int8', () => {
    it('quantizes MatMul and Gemm weights per tensor: INT8 + DequantizeLinear, ~4x smaller, outputs within 1% of their magnitude', async () => {
      const { dest, report } = await run(onnxInt8, mlp);
      assert.equal(report.weightsQuantized, 3);
      assert.equal(report.perChannel, false);
      const m = await decode(dest);
      for (const w of ['W1', 'W2', 'W3']) {
        assert.equal(init(m, w), undefined, `${w} is no longer an initializer`);
        assert.equal(init(m, `${w}_quantized`).data_type, INT8);
        assert.deepEqual(init(m, `${w}_scale`).dims, []);
        const zp = init(m, `${w}_zero_point`);
        assert.deepEqual([zp.data_type, zp.dims, [...zp.raw_data]], [INT8, [], [0]]);
        const dq = m.graph.node.find((n: Decoded) => n.output[0] === w);
        assert.deepEqual(
          [dq.op_type, dq.input, dq.attribute],
          ['DequantizeLinear', [`${w}_quantized`, `${w}_scale`, `${w}_zero_point`], []],
        );
      }
      assert.equal(init(m, 'b1').data_type, FLOAT, 'biases stay float32');
      // int8 weights: exactly a quarter of the float32 bytes; the whole file shrinks a bit less (biases, graph).
      const weightBytes = (names: string[], mm: Decoded) =>
        names.reduce((s, n) => s + Buffer.from(init(mm, n).raw_data).length, 0);
      const original = await decode(mlp);
      assert.equal(
        weightBytes(['W1_quantized', 'W2_quantized', 'W3_quantized'], m) * 4,
        weightBytes(['W1', 'W2', 'W3'], original),
      );
      assert.ok(report.bytesAfter < report.bytesBefore / 3.5, `${report.bytesBefore} → ${report.bytesAfter}`);
      // Tolerance: symmetric int8 rounds each weight by at most scale/2 = max|W|/254; through three layers we accept 1% of max|y| (measured: 0.24%).
      const scale = await maxAbsOutput(mlp, 'x', [1, 32]);
      assert.ok(
        report.maxAbsError > 0 && report.maxAbsError < 0.01 * scale,
        `maxAbsError ${report.maxAbsError}, max |y| ${scale}`,
      );
    });

    it('quantizes per output channel: MatMul B on axis 1, Gemm B with transB=1 on axis 0', async () => {
      const { dest, report } = await run(onnxInt8, mlp, { per_channel: 'true' });
      assert.equal(report.perChannel, true);
      const m = await decode(dest);
      const axis = (w: string) =>
        m.graph.node.find((n: Decoded) => n.output[0] === w).attribute.find((a: Decoded) => a.name === 'axis').i;
      assert.deepEqual([axis('W1'), axis('W2'), axis('W3')], [1, 1, 0]);
      assert.deepEqual(
        [init(m, 'W1_scale').dims, init(m, 'W2_scale').dims, init(m, 'W3_scale').dims],
        [[128], [64], [16]],
      );
      assert.deepEqual(init(m, 'W3_zero_point').dims, [16]);
      const scale = await maxAbsOutput(mlp, 'x', [1, 32]);
      assert.ok(report.maxAbsError < 0.01 * scale, `maxAbsError ${report.maxAbsError}, max |y| ${scale}`);
    });

    it('per channel keeps small channels accurate where one per-tensor scale crushes them', async () => {
      // W[16,8]: column 0 is ~1000x larger than the others.
      const r = mulberry32(11);
      const w = Float32Array.from({ length: 16 * 8 }, (_, i) => (r() * 2 - 1) * (i % 8 === 0 ? 1 : 1e-3));
      const src = path.join(dir, 'skewed.onnx');
      await writeFile(
        src,
        modelBytes({
          name: 'skewed',
          node: [node('MatMul', ['x', 'W'], ['y'])],
          initializer: [floatTensor('W', [16, 8], w)],
          input: [vi('x', FLOAT, [1, 16])],
          output: [vi('y', FLOAT, [1, 8])],
        }),
      );
      const tensor = await run(onnxInt8, src, { per_channel: 'false' });
      const channel = await run(onnxInt8, src, { per_channel: 'true' });
      // Dequantize each result and measure each column's error relative to that column's largest weight.
      const columnErrors = async (file: string) => {
        const m = await decode(file);
        const q = new Int8Array(Buffer.from(init(m, 'W_quantized').raw_data));
        const s = floatsOf(init(m, 'W_scale'));
        const err = new Array(8).fill(0);
        const max = new Array(8).fill(0);
        q.forEach((v, i) => {
          const c = i % 8;
          err[c] = Math.max(err[c], Math.abs(v * (s.length === 1 ? s[0] : s[c]) - w[i]));
          max[c] = Math.max(max[c], Math.abs(w[i]));
        });
        return err.map((e, c) => e / max[c]);
      };
      const perTensor = await columnErrors(tensor.dest);
      const perChannel = await columnErrors(channel.dest);
      for (let c = 0; c < 8; c++) assert.ok(perChannel[c] <= 0.5 / 127 + 1e-6, `column ${c}: ${perChannel[c]}`);
      assert.ok(
        perTensor.slice(1).some((e) => e > 0.1),
        `per-tensor small columns: ${perTensor}`,
      );
      assert.ok(
        channel.report.maxAbsError <= tensor.report.maxAbsError,
        `${channel.report.maxAbsError} > ${tensor.report.maxAbsError}`,
      );
    });

    it('falls back to per tensor below opset 13, and says so', async () => {
      const src = path.join(dir, 'mlp-opset11.onnx');
      await writeFile(src, mlpBytes({ opset: 11 }));
      const { report, logs, dest } = await run(onnxInt8, src, { per_channel: 'true' });
      assert.equal(report.perChannel, false);
      assert.ok(
        logs.some((l) => /opset 13.*opset 11.*per tensor/.test(l)),
        logs.join('\n'),
      );
      const m = await decode(dest);
      assert.deepEqual(
        m.opset_import.map((o: Decoded) => o.version),
        [11],
      );
    });

    it('skips weights smaller than min_elements, and says why when nothing is left', async () => {
      const { report } = await run(onnxInt8, mlp, { min_elements: '5000' });
      assert.equal(report.weightsQuantized, 1); // only W2 (128x64)
      await rejectsInput(
        run(onnxInt8, mlp, { min_elements: '100000' }),
        mlp,
        /nothing to quantize.*3 smaller than min_elements=100000/,
      );
    });
  });

  describe('bad input', () => {
    for (const c of [onnxFp16, onnxInt8]) {
      it(`${c.id}: a non-ONNX file and a truncated model give InputErrors naming the file`, async () => {
        const text = path.join(dir, `${c.id}-text.onnx`);
        await writeFile(text, 'hello, this is not a model\n');
        await rejectsInput(run(c, text), text, /not an ONNX model/);
        const cut = path.join(dir, `${c.id}-cut.onnx`);
        const bytes = mlpBytes();
        await writeFile(cut, bytes.subarray(0, bytes.length >> 1));
        await rejectsInput(run(c, cut), cut, /truncated/);
      });
    }

    it('refuses external data', async () => {
      const src = path.join(dir, 'external.onnx');
      await writeFile(
        src,
        modelBytes({
          name: 'external',
          node: [node('MatMul', ['x', 'W'], ['y'])],
          initializer: [
            {
              name: 'W',
              dims: [16, 8],
              data_type: FLOAT,
              data_location: 1,
              external_data: [
                { key: 'location', value: 'weights.bin' },
                { key: 'length', value: '512' },
              ],
            },
          ],
          input: [vi('x', FLOAT, [1, 16])],
          output: [vi('y', FLOAT, [1, 8])],
        }),
      );
      await rejectsInput(run(onnxFp16, src), src, /external data is not supported/);
      await rejectsInput(run(onnxInt8, src), src, /external data is not supported/);
    });

    it('refuses a model with a field it does not know instead of dropping it', async () => {
      const GraphProto = root.lookupType('onnx.GraphProto');
      const graph = Buffer.from(
        GraphProto.encode(GraphProto.fromObject({ name: 'g', initializer: [floatTensor('W', [1], [1])] })).finish(),
      );
      const w = protobuf.Writer.create();
      w.uint32((1 << 3) | 0).int64(8);
      w.uint32((8 << 3) | 2)
        .fork()
        .uint32((2 << 3) | 0)
        .int64(13)
        .ldelim();
      w.uint32((7 << 3) | 2).bytes(Buffer.concat([graph, Buffer.from([0x98, 0x06, 0x01])])); // + GraphProto field 99 = 1
      const src = path.join(dir, 'future.onnx');
      await writeFile(src, w.finish());
      await rejectsInput(run(onnxFp16, src), src, /GraphProto\.99/);
    });

    it('stops on an aborted signal with CancelledError and writes nothing; reports bytes read otherwise', async () => {
      const ac = new AbortController();
      ac.abort();
      const dest = path.join(dir, 'cancelled.onnx');
      await assert.rejects(
        onnxFp16.convert(mlp, dest, { params: { keep_io_types: 'true' }, signal: ac.signal }),
        CancelledError,
      );
      await assert.rejects(
        onnxInt8.convert(mlp, dest, { params: { per_channel: 'false', min_elements: '64' }, signal: ac.signal }),
        CancelledError,
      );
      assert.ok(!existsSync(dest));
      let read = 0;
      await run(onnxFp16, mlp, {}, { onBytes: (n) => (read += n) });
      assert.equal(read, (await stat(mlp)).size);
    });
  });

  describe('ONNX model zoo: light SqueezeNet (ConstantOfShape weights, opset 9, IR 3)', () => {
    it('converts to float16 and the result loads and runs in onnxruntime', async () => {
      const src = path.join(dir, 'squeezenet.onnx');
      await writeFile(src, await readFile(SQUEEZENET));
      for (const keep of ['true', 'false']) {
        const { dest, report } = await run(onnxFp16, src, { keep_io_types: keep });
        // 13 float initializers + 39 ConstantOfShape values
        assert.equal(report.tensorsConverted, 52);
        assert.ok(report.maxAbsError < 1e-3, `maxAbsError ${report.maxAbsError}`);
        const again = await compareOnnx(src, dest, { runs: 1, seed: 42 });
        assert.deepEqual(again.outputs, ['softmaxout_1']);
        assert.ok(again.maxAbsError < 1e-3);
      }
    });

    it('int8: reports clearly that there is nothing to quantize', async () => {
      const src = path.join(dir, 'squeezenet-int8.onnx');
      await writeFile(src, await readFile(SQUEEZENET));
      await rejectsInput(
        run(onnxInt8, src, { min_elements: '1' }),
        src,
        /nothing to quantize: no float32 MatMul\/Gemm weight initializer/,
      );
    });
  });
});

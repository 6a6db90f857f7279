// Built-in safetensors conversions against references computed here by brute force: the nearest
// representable value among all 65,536 fp16 (or bf16) values, ties to even.
import * as assert from 'assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import {
  convertSafetensors,
  f16BitsToF32,
  f32BitsToBf16,
  f32BitsToF16,
  toFp16,
  toFp32,
} from '../../../../src/core/convert/safetensors';
import { InputError } from '../../../../src/core/errors';
import { convertVersion } from '../../../../src/core/convert/convert';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { safetensorsBytes } from '../../helpers/makeWeights';
import { makeGitRepo, tempDir } from '../../helpers/tmp';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number) => ((f32[0] = x), u32[0]);
const valueOf = (bits: number) => ((u32[0] = bits), f32[0]);

/** fp16 value of a bit pattern, straight from the IEEE definition. */
function f16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * The nearest finite pattern (ties to the even one); at or beyond the largest finite + half an ulp, Inf.
 * Positive finite patterns grow with their value, so a binary search finds the two neighbours.
 */
function nearest(
  x: number,
  count: number,
  value: (b: number) => number,
  max: number,
  halfUlpAtMax: number,
  inf: number,
): number {
  if (Number.isNaN(x)) return -1;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= max + halfUlpAtMax) return sign | inf;
  let lo = 0;
  let hi = count - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (value(mid) <= a) lo = mid;
    else hi = mid;
  }
  const [dl, dh] = [a - value(lo), value(hi) - a];
  return sign | (dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi);
}
const refF16 = (x: number) => nearest(x, 0x7c00, f16Value, 65504, 16, 0x7c00);
const refBf16 = (x: number) =>
  nearest(x, 0x7f80, (b) => valueOf(b << 16), valueOf(0x7f7f0000), 2 ** 127 * 2 ** -8, 0x7f80);

const EDGES = [
  0,
  -0,
  1,
  -1,
  0.1,
  1 / 3,
  65504,
  65519.99,
  65520,
  70000,
  -1e6,
  6.1e-5,
  6.0e-8,
  5.96e-8,
  2.98e-8,
  2.99e-8,
  1e-8,
  1e-40,
  3.4e38,
  2049,
  2051,
  Infinity,
  -Infinity,
];

describe('safetensors conversions', () => {
  it('fp32 → fp16 rounds to nearest even on edge values and 200,000 random ones; NaN stays NaN', () => {
    const rnd = Array.from({ length: 200000 }, (_, i) => Math.fround(Math.sin(i * 12.9898) * 10 ** ((i % 14) - 9)));
    for (const x of [...EDGES.map(Math.fround), ...rnd]) {
      const got = f32BitsToF16(bitsOf(x));
      const want = refF16(x);
      assert.strictEqual(got, want, `fp16 of ${x}: got 0x${got.toString(16)}, want 0x${want.toString(16)}`);
    }
    for (const nan of [0x7fc00000, 0xffc00001, 0x7f800001]) assert.ok(Number.isNaN(f16Value(f32BitsToF16(nan))));
  });

  it('fp32 → bf16 rounds to nearest even; fp16 → fp32 is exact for all 65,536 patterns', () => {
    const rnd = Array.from({ length: 200000 }, (_, i) => Math.fround(Math.cos(i * 7.31) * 10 ** ((i % 60) - 30)));
    for (const x of [...EDGES.map(Math.fround), ...rnd]) {
      assert.strictEqual(f32BitsToBf16(bitsOf(x)), refBf16(x), `bf16 of ${x}`);
    }
    assert.ok(Number.isNaN(valueOf(f32BitsToBf16(0x7f800001) << 16)), 'a signalling NaN stays NaN, not Inf');
    for (let h = 0; h < 65536; h++) {
      const want = f16Value(h);
      const got = valueOf(f16BitsToF32(h));
      assert.ok(
        Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)),
        `0x${h.toString(16)}: ${got} vs ${want}`,
      );
    }
  });

  describe('files', () => {
    let dir: string;
    const values = Float32Array.from([...EDGES, NaN, 123.456]);
    beforeEach(() => {
      dir = tempDir();
      writeFileSync(
        path.join(dir, 'in.safetensors'),
        safetensorsBytes(
          [
            { name: 'layer.weight', dtype: 'F32', shape: [values.length], values },
            { name: 'layer.norm', dtype: 'F32', shape: [2], values: [0.1, 0.2] },
            { name: 'steps', dtype: 'I64', shape: [1], values: [42] },
          ],
          { format: 'pt' },
        ),
      );
    });

    /** header and the bytes of each tensor */
    function parse(file: string) {
      const b = readFileSync(file);
      const n = Number(b.readBigUInt64LE(0));
      const header = JSON.parse(b.subarray(8, 8 + n).toString());
      const data = (name: string) =>
        b.subarray(8 + n + header[name].data_offsets[0], 8 + n + header[name].data_offsets[1]);
      return { header, data, headerLen: n };
    }

    it('writes F16 tensors (others untouched, metadata kept, data 8-byte aligned) and reports overflow', async () => {
      const out = path.join(dir, 'out.safetensors');
      const report = await convertSafetensors(path.join(dir, 'in.safetensors'), out, 'F16', {
        params: { keep: 'norm' },
      });
      const { header, data, headerLen } = parse(out);
      assert.strictEqual((8 + headerLen) % 8, 0);
      assert.deepStrictEqual(header.__metadata__, { format: 'pt' });
      assert.deepStrictEqual(
        [header['layer.weight'].dtype, header['layer.norm'].dtype, header.steps.dtype],
        ['F16', 'F32', 'I64'],
      );
      const w = data('layer.weight');
      const halves = Array.from({ length: values.length }, (_, i) => w.readUInt16LE(2 * i));
      assert.deepStrictEqual(
        halves.slice(0, EDGES.length),
        EDGES.map((x) => refF16(Math.fround(x))),
      );
      assert.ok(Number.isNaN(f16Value(halves[EDGES.length])));
      assert.deepStrictEqual(
        Array.from(new Float32Array(new Uint8Array(data('layer.norm')).buffer)),
        Array.from(Float32Array.from([0.1, 0.2])),
      );
      assert.strictEqual(data('steps').readBigInt64LE(0), 42n);
      // 65520, 70000, -1e6 and 3.4e38 are finite and beyond fp16: counted.
      assert.deepStrictEqual([report.tensors, report.keptTensors, report.overflowToInf], [1, 2, 4]);
    });

    it('round-trips fp32 → bf16 → fp32 to the bf16 values, and fp16 → fp32 exactly', async () => {
      const bf = path.join(dir, 'bf.safetensors');
      const back = path.join(dir, 'back.safetensors');
      await convertSafetensors(path.join(dir, 'in.safetensors'), bf, 'BF16', { params: {} });
      await convertSafetensors(bf, back, 'F32', { params: {} });
      const w = parse(back).data('layer.weight');
      for (let i = 0; i < EDGES.length; i++)
        assert.strictEqual(w.readUInt32LE(4 * i), (refBf16(Math.fround(EDGES[i])) << 16) >>> 0, `value ${EDGES[i]}`);
    });

    it('refuses files with nothing to convert, broken files (naming them), and stops on cancel leaving the dest partial for the caller', async () => {
      const ints = path.join(dir, 'ints.safetensors');
      writeFileSync(ints, safetensorsBytes([{ name: 'i', dtype: 'I32', shape: [4] }]));
      await assert.rejects(
        convertSafetensors(ints, path.join(dir, 'x1'), 'F16', { params: {} }),
        /ints\.safetensors: nothing to convert to F16: its tensors are I32/,
      );
      const cut = path.join(dir, 'cut.safetensors');
      writeFileSync(cut, readFileSync(path.join(dir, 'in.safetensors')).subarray(0, 100));
      await assert.rejects(convertSafetensors(cut, path.join(dir, 'x2'), 'F16', { params: {} }), /cut\.safetensors: /);
      const abort = new AbortController();
      abort.abort();
      await assert.rejects(
        convertSafetensors(path.join(dir, 'in.safetensors'), path.join(dir, 'x3'), 'F16', {
          params: {},
          signal: abort.signal,
        }),
        /cancelled/,
      );
    });
  });

  describe('as a derived version', () => {
    let work: string;
    let r: Registry;
    beforeEach(async () => {
      work = tempDir();
      makeGitRepo(work);
      const out = path.join(work, 'run');
      mkdirSync(out);
      writeFileSync(
        path.join(out, 'model.safetensors'),
        safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [1000], fill: 1.5 }]),
      );
      writeFileSync(path.join(out, 'config.json'), '{"model_type": "mlp"}');
      writeFileSync(path.join(out, 'metrics.json'), '{"accuracy": 0.9}');
      r = await Registry.open(path.join(work, '.modelreg'));
      await importTrainingOutput(r, out, { model: 'mlp' });
    });
    afterEach(() => r.close());

    it('makes vN+1 with parent, converter, parameters and numbers; other files are shared, not copied', async () => {
      const lines: string[] = [];
      const progress: number[] = [];
      const v = await convertVersion(r, 'mlp@v1', toFp16, {
        log: (l) => lines.push(l),
        onProgress: (d) => progress.push(d),
      });
      const parent = await r.resolve('mlp@v1');
      assert.strictEqual(v.ref, 'mlp@v2');
      assert.deepStrictEqual(
        [v.parentId, v.parentKind, v.source.kind, v.format],
        [parent.id, 'conversion', 'conversion', 'safetensors'],
      );
      assert.strictEqual(v.git?.commit, parent.git?.commit);
      const c = v.details.conversion as {
        converter: string;
        params: Record<string, string>;
        sizeBefore: number;
        sizeAfter: number;
        files: Record<string, { overflowToInf: number }>;
      };
      assert.deepStrictEqual([c.converter, c.params], ['fp16', { keep: '' }]);
      assert.ok(c.sizeAfter < c.sizeBefore * 0.55, `${c.sizeAfter} vs ${c.sizeBefore}`);
      assert.strictEqual(c.files['model.safetensors'].overflowToInf, 0);
      const [before, after] = [await r.files(parent.id), await r.files(v.id)];
      assert.strictEqual(
        after.find((f) => f.path === 'config.json')!.sha256,
        before.find((f) => f.path === 'config.json')!.sha256,
      );
      assert.notStrictEqual(
        after.find((f) => f.path === 'model.safetensors')!.sha256,
        before.find((f) => f.path === 'model.safetensors')!.sha256,
      );
      assert.deepStrictEqual(
        (await r.lineage('mlp@v2')).edges.map((e) => e.kind),
        ['conversion'],
      );
      assert.strictEqual(progress[progress.length - 1], before.find((f) => f.path === 'model.safetensors')!.size);
      assert.ok(
        lines.some((l) => /4,?000 values|1,000 values → F16/.test(l)),
        lines.join('\n'),
      );
      assert.deepStrictEqual((await r.verify()).problems, []);
    });

    it("names the version's file in the log and in errors, never the store object", async () => {
      const lines: string[] = [];
      const v2 = await convertVersion(r, 'mlp@v1', toFp16, { log: (l) => lines.push(l) });
      assert.ok(
        lines.some((l) => l.startsWith('mlp@v1:model.safetensors: 1,000 values → F16')),
        lines.join('\n'),
      );
      assert.ok(!lines.some((l) => /objects|\.modelreg/.test(l)), lines.join('\n'));
      await assert.rejects(convertVersion(r, v2.ref, toFp16), (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.strictEqual(e.file, 'mlp@v2:model.safetensors');
        assert.strictEqual(e.message, 'mlp@v2:model.safetensors: nothing to convert to F16: its tensors are F16');
        return true;
      });
    });

    it('records every converted file, so a conversion of a conversion finds all shards', async () => {
      const out = path.join(work, 'sharded');
      mkdirSync(out);
      writeFileSync(
        path.join(out, 'model-00001-of-00002.safetensors'),
        safetensorsBytes([{ name: 'a', dtype: 'F32', shape: [8] }]),
      );
      writeFileSync(
        path.join(out, 'model-00002-of-00002.safetensors'),
        safetensorsBytes([{ name: 'b', dtype: 'F32', shape: [4] }]),
      );
      const v1 = await importTrainingOutput(r, out, { model: 'big' });
      assert.strictEqual(v1.parameterCount, 12);
      const half = await convertVersion(r, 'big@v1', toFp16);
      assert.deepStrictEqual(
        (half.details.weights as { path: string; format: string }[]).map((w) => [w.path, w.format]),
        [
          ['model-00001-of-00002.safetensors', 'safetensors'],
          ['model-00002-of-00002.safetensors', 'safetensors'],
        ],
      );
      const back = await convertVersion(r, half.ref, toFp32);
      assert.deepStrictEqual(
        Object.keys((back.details.conversion as { files: Record<string, unknown> }).files).sort(),
        ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'],
      );
    });

    it('leaves no version and no temp file when cancelled or refused', async () => {
      const abort = new AbortController();
      abort.abort();
      await assert.rejects(convertVersion(r, 'mlp@v1', toFp16, { signal: abort.signal }), /cancelled/);
      await assert.rejects(
        convertVersion(r, 'mlp@v1', toFp16, { params: { nope: '1' } }),
        /fp16 has no parameter 'nope'/,
      );
      const v2 = await convertVersion(r, 'mlp@v1', toFp16);
      await assert.rejects(convertVersion(r, v2.ref, toFp16), /nothing to convert to F16: its tensors are F16/);
      assert.deepStrictEqual(
        (await r.listVersions('mlp')).map((v) => v.number),
        [2, 1],
      );
      assert.deepStrictEqual(readdirSync(path.join(work, '.modelreg', 'tmp')), []);
      assert.ok(!existsSync(path.join(work, '.modelreg', 'tmp', 'x')));
    });
  });
});

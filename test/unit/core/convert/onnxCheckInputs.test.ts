import * as assert from 'assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { parseInputsParam, readInputsFile } from '../../../../src/core/convert/checkInputs';
import { convertVersion } from '../../../../src/core/convert/convert';
import { onnxFp16, onnxInt8 } from '../../../../src/core/convert/onnx';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { rejectsInput } from '../../helpers/assertions';
import { FLOAT, floatTensor, modelBytes, node, vi } from '../../helpers/onnxModels';
import { makeGitRepo, tempDir } from '../../helpers/tmp';
import { repoPath } from '../../helpers/paths';

// Shaped like Silero VAD, with a branch on sr (test/fixtures/onnx-check/make_vad_like.py).
const FIXTURES = repoPath('test/fixtures/onnx-check');
const VAD = path.join(FIXTURES, 'vad_like.onnx');

let n = 0;
async function fp16(src: string, params: Record<string, string> = {}) {
  const dest = `${src}.${++n}.fp16.onnx`;
  const logs: string[] = [];
  const report: any = await onnxFp16.convert(src, dest, {
    params: { keep_io_types: 'true', inputs: '', verify: 'check', ...params },
    log: (l) => logs.push(l),
  });
  return { report, logs };
}

describe('conversion checks: the inputs they feed', function () {
  this.timeout(120000);
  let dir: string;
  let vad: string;
  before(() => {
    dir = tempDir('modelreg-onnx-check-');
    vad = path.join(dir, 'vad_like.onnx');
    copyFileSync(VAD, vad);
  });

  describe('a Silero-VAD-shaped model (input [1, samples], sr int64 scalar, state [2, 1, 128])', () => {
    it('fails on the original with the old guesses (sr 0..3): the model branches on sr', async () => {
      await rejectsInput(
        fp16(vad, { inputs: 'sr=3' }),
        vad,
        /cannot check the conversion, onnxruntime fails on the original: .*Reshape.*Give the check example inputs/,
      );
    });

    it('converts with the derived defaults: sr 16000 (a rate), state zeros, 512 samples after 1 is refused', async () => {
      const { report, logs } = await fp16(vad);
      assert.equal(report.verified, true);
      assert.deepEqual(report.checkInputs, {
        input: '[1, 512] random',
        sr: '16000 (rate)',
        state: '[2, 1, 128] zeros (state)',
      });
      assert.equal(report.inputsTried, 3);
      assert.ok(report.maxAbsError > 0 && report.maxAbsError < 1e-2, `maxAbsError ${report.maxAbsError}`);
      assert.ok(report.maxRelError > 0 && report.maxRelError < 1e-2, `maxRelError ${report.maxRelError}`);
      assert.ok(
        logs.some((l) => /refused symbolic dimensions of 1; checked with 512/.test(l)),
        logs.join('\n'),
      );
      assert.ok(
        logs.some((l) =>
          /max abs error \S+ \(relative \S+\) over 3 input sets \(input \[1, 512\] random, sr 16000 \(rate\), state \[2, 1, 128\] zeros \(state\)\)/.test(
            l,
          ),
        ),
        logs.join('\n'),
      );
    });

    it('converts with inputs the user gives: the short form and JSON (8 kHz, frames of 256)', async () => {
      const short = await fp16(vad, { inputs: 'input=[1,256]; sr=8000' });
      assert.deepEqual(short.report.checkInputs, {
        input: '[1, 256] random',
        sr: '8000 given',
        state: '[2, 1, 128] zeros (state)',
      });
      assert.ok(short.report.maxAbsError < 1e-2);
      const json = await fp16(vad, {
        inputs: JSON.stringify({
          input: { shape: [1, 256], fill: 0.25 },
          sr: 8000,
          state: { shape: [2, 1, 128], fill: 0.5 },
        }),
      });
      assert.deepEqual(json.report.checkInputs, {
        input: '[1, 256] given',
        sr: '8000 given',
        state: '[2, 1, 128] given',
      });
      assert.equal(json.report.inputsTried, 1, 'fixed inputs: one run says all');
      // int8 takes the same parameters (it quantizes the output layer's Gemm weight, 128 values).
      const int8: any = await onnxInt8.convert(vad, path.join(dir, 'int8.onnx'), {
        params: { per_channel: 'false', min_elements: '64', inputs: 'input=[1,256]; sr=8000', verify: 'check' },
      });
      assert.deepEqual([int8.weightsQuantized, int8.verified, int8.checkInputs.sr], [1, true, '8000 given']);
    });

    it('refuses given inputs it cannot use, naming the model', async () => {
      await rejectsInput(
        fp16(vad, { inputs: 'audio=[1,512]' }),
        vad,
        /example input 'audio' is not an input of the model \(its inputs: input, sr, state\)/,
      );
      await rejectsInput(
        fp16(vad, { inputs: 'input=[1,512' }),
        vad,
        /inputs: '\[1,512' in 'input=\[1,512' is not a number/,
      );
      await rejectsInput(fp16(vad, { inputs: '{"input": [[1, 2], [3]]}' }), vad, /ragged/);
      await rejectsInput(fp16(vad, { inputs: '{"input": ' }), vad, /inputs is not valid JSON/);
      await rejectsInput(
        fp16(vad, { inputs: 'state=[2,1,128]:zero' }),
        vad,
        /'zero' in 'state=\[2,1,128\]:zero' is not a number/,
      );
      await rejectsInput(
        fp16(vad, { inputs: 'example_inputs.npz' }),
        vad,
        /the version has no file example_inputs\.npz/,
      );
    });
  });

  describe('example inputs stored with the version, and verify=skip', () => {
    let work: string;
    let r: Registry;
    before(async () => {
      work = tempDir('modelreg-onnx-check-reg-');
      makeGitRepo(work);
      const out = path.join(work, 'run');
      mkdirSync(out);
      copyFileSync(VAD, path.join(out, 'model.onnx'));
      copyFileSync(path.join(FIXTURES, 'example_inputs.npz'), path.join(out, 'example_inputs.npz'));
      r = await Registry.open(path.join(work, '.modelreg'));
      await importTrainingOutput(r, out, { model: 'vad' });
    });
    after(() => r.close());

    it('checks with example_inputs.npz beside the model, records it, and keeps the file in the new version', async () => {
      const logs: string[] = [];
      const v = await convertVersion(r, 'vad@v1', onnxFp16, { log: (l) => logs.push(l) });
      const report = (v.details.conversion as any).files['model.onnx'];
      assert.equal(report.verified, true);
      assert.equal(report.exampleInputs, 'example_inputs.npz');
      // np.savez'd: input [1, 256] at sr 8000, state zeros; all fixed, so one run.
      assert.deepEqual(report.checkInputs, { input: '[1, 256] given', sr: '8000 given', state: '[2, 1, 128] given' });
      assert.equal(report.inputsTried, 1);
      assert.ok(report.maxAbsError < 1e-2);
      assert.ok(
        logs.some((l) => /checking with the example inputs in example_inputs\.npz/.test(l)),
        logs.join('\n'),
      );
      assert.ok(
        (await r.files(v.id)).some((f) => f.path === 'example_inputs.npz'),
        'serving can reuse them',
      );
    });

    it('verify=skip converts without running onnxruntime and records the version as unverified', async () => {
      const logs: string[] = [];
      // sr=3 would fail the check; with verify=skip no check runs at all.
      const v = await convertVersion(r, 'vad@v1', onnxFp16, {
        params: { verify: 'skip', inputs: 'sr=3' },
        log: (l) => logs.push(l),
      });
      const c = v.details.conversion as any;
      assert.equal(c.params.verify, 'skip');
      assert.deepEqual(Object.keys(c.files['model.onnx']).sort(), [
        'bytesAfter',
        'bytesBefore',
        'tensorsConverted',
        'verified',
      ]);
      assert.equal(c.files['model.onnx'].verified, false);
      assert.ok(
        logs.some((l) => /NOT verified \(verify=skip\)/.test(l)),
        logs.join('\n'),
      );
      await assert.rejects(
        convertVersion(r, 'vad@v1', onnxFp16, { params: { verify: 'maybe' } }),
        /verify must be one of "check", "skip", not 'maybe'/,
      );
    });
  });

  describe('what the check reports', () => {
    it('warns when an output is constant over every input tried (a saturated model checks nothing)', async () => {
      // y = Sigmoid(1e4·x + 2e4): 1 for every x in [-1, 1)
      const src = path.join(dir, 'saturated.onnx');
      writeFileSync(
        src,
        modelBytes({
          name: 'saturated',
          node: [
            node('Mul', ['x', 'k'], ['a']),
            node('Add', ['a', 'b'], ['z']),
            node('Sigmoid', ['z'], ['y']),
            node('Mul', ['x', 'k'], ['raw']),
          ],
          initializer: [floatTensor('k', [], [1e4]), floatTensor('b', [], [2e4])],
          input: [vi('x', FLOAT, [1, 8])],
          output: [vi('y', FLOAT, [1, 8]), vi('raw', FLOAT, [1, 8])],
        }),
      );
      const { report, logs } = await fp16(src);
      assert.deepEqual(report.constantOutputs, ['y']);
      assert.ok(
        logs.some((l) =>
          /warning: output y of the original did not change over the inputs tried \(a saturated model\?\)/.test(l),
        ),
        logs.join('\n'),
      );
      const { report: fine } = await fp16(vad);
      assert.equal(fine.constantOutputs, undefined);
    });

    it('reports the relative error next to the absolute one: large outputs, small relative error', async () => {
      // y = 1000.3·x: k is stored as 1000.5 in fp16, so y is off by up to 0.2, a relative error of ~2e-4
      const src = path.join(dir, 'scaled.onnx');
      writeFileSync(
        src,
        modelBytes({
          name: 'scaled',
          node: [node('Mul', ['x', 'k'], ['y'])],
          initializer: [floatTensor('k', [], [1000.3])],
          input: [vi('x', FLOAT, [1, 64])],
          output: [vi('y', FLOAT, [1, 64])],
        }),
      );
      const { report } = await fp16(src);
      assert.ok(report.maxAbsError > 0.01, `maxAbsError ${report.maxAbsError}`);
      assert.ok(report.maxRelError > 0 && report.maxRelError < 1e-3, `maxRelError ${report.maxRelError}`);
      assert.ok(report.maxRelError >= report.maxAbsError / 1000.3, 'relative to max |y| < 1000.3');
    });
  });

  describe('reading given inputs', () => {
    it('the short form: shapes, fills and scalars', () => {
      assert.deepEqual(parseInputsParam(' x=[1, 512] ; sr=16000; state=[2,1,128]:0 ;', 'm.onnx'), {
        x: { shape: [1, 512] },
        sr: { values: [16000] },
        state: { shape: [2, 1, 128], fill: 0 },
      });
      assert.deepEqual(parseInputsParam('s=[]:3', 'm.onnx'), { s: { shape: [], fill: 3 } });
    });

    it('an .npz (np.savez) and a .json file', async () => {
      const npz = await readInputsFile(path.join(FIXTURES, 'example_inputs.npz'), 'example_inputs.npz');
      assert.deepEqual(Object.keys(npz).sort(), ['input', 'sr', 'state']);
      assert.deepEqual([npz.sr.shape, npz.sr.values], [[], [8000]]);
      assert.deepEqual(npz.input.shape, [1, 256]);
      assert.equal(npz.input.values!.length, 256);
      assert.ok(npz.state.values!.every((v) => v === 0));
      const json = path.join(dir, 'inputs.json');
      writeFileSync(json, JSON.stringify({ x: [[1, 2, 3]], sr: 16000, s: { shape: [2], values: [5, 6] } }));
      assert.deepEqual(await readInputsFile(json, 'inputs.json'), {
        x: { shape: [1, 3], values: [1, 2, 3] },
        sr: { values: [16000] },
        s: { shape: [2], values: [5, 6] },
      });
      writeFileSync(json, '{"s": {"shape": [3], "values": [1, 2]}}');
      await rejectsInput(
        readInputsFile(json, 'inputs.json'),
        'inputs.json',
        /input s: 2 values do not fill shape \[3\]/,
      );
      writeFileSync(json, '{"s": {"dims": [3]}}');
      await rejectsInput(readInputsFile(json, 'inputs.json'), 'inputs.json', /unknown key "dims"/);
    });
  });
});

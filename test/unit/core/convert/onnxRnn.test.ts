import * as assert from 'assert/strict';
import { copyFileSync, mkdirSync, readdirSync } from 'fs';
import { readFile } from 'fs/promises';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import { convertVersion } from '../../../../src/core/convert/convert';
import { ONNX_FULL_PROTO, onnxFp16 } from '../../../../src/core/convert/onnx';
import { InputError } from '../../../../src/core/errors';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { ortProcesses } from '../../../../src/core/onnxrt/session';
import { Registry } from '../../../../src/core/registry/registry';
import { makeGitRepo, tempDir } from '../../helpers/tmp';
import { repoPath } from '../../helpers/paths';
import { sqlOf } from '../../helpers/sql';

// Real recurrent graphs from torch.onnx.export (test/fixtures/onnx-rnn/make_rnn.py).
const FIXTURES = repoPath('test/fixtures/onnx-rnn');
const ModelProto = protobuf.parse(ONNX_FULL_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
const FLOAT = 1;
const FLOAT16 = 10;

type Decoded = any;
async function decode(file: string): Promise<Decoded> {
  return ModelProto.toObject(ModelProto.decode(await readFile(file)), { longs: Number, arrays: true, defaults: false });
}

const CASES = [
  { file: 'gru.onnx', op: 'GRU', outputs: 2 },
  { file: 'gru_bidirectional.onnx', op: 'GRU', outputs: 2 },
  { file: 'lstm.onnx', op: 'LSTM', outputs: 3 },
  { file: 'rnn.onnx', op: 'RNN', outputs: 2 },
];

describe('onnx-fp16 on recurrent graphs exported by torch (GRU, bidirectional GRU, LSTM, RNN)', function () {
  this.timeout(120000);
  let dir: string;
  before(() => {
    dir = tempDir('modelreg-onnx-rnn-');
  });

  for (const c of CASES) {
    for (const keep of ['true', 'false']) {
      it(`${c.file}, keep_io_types=${keep}: the ${c.op} stays float32 between Casts, onnxruntime checks it, error small`, async () => {
        const src = path.join(dir, c.file);
        copyFileSync(path.join(FIXTURES, c.file), src);
        const dest = path.join(dir, `${c.file}.${keep}.fp16.onnx`);
        const logs: string[] = [];
        // A batch of 2 sequences of 7 steps: the recurrence runs, not just one step.
        const report: any = await onnxFp16.convert(src, dest, {
          params: { keep_io_types: keep, inputs: 'x=[2,7,8]', verify: 'check' },
          log: (l) => logs.push(l),
        });
        assert.equal(report.verified, true);
        assert.deepEqual(report.keptFloat32, [c.op]);
        assert.deepEqual(report.checkInputs, { x: '[2, 7, 8] random' });
        // fp16 weights through 7 steps: measured ~1e-4..4e-4; 1e-2 leaves room and still catches a broken graph.
        assert.ok(report.maxAbsError > 0 && report.maxAbsError < 1e-2, `maxAbsError ${report.maxAbsError}`);
        assert.ok(report.maxRelError < 1e-2, `maxRelError ${report.maxRelError}`);
        assert.match(logs.join('\n'), new RegExp(`kept float32: ${c.op}.*relative`));

        const m = await decode(dest);
        const rnn = m.graph.node.filter((n: Decoded) => n.op_type === c.op);
        assert.equal(rnn.length, 1);
        const producer = (v: string) => m.graph.node.find((n: Decoded) => n.output.includes(v));
        // X, W, R, B (and no initial state: torch passes '' there) come from Casts to float32...
        for (const input of rnn[0].input.filter((i: string, k: number) => i && k !== 4)) {
          const p = producer(input);
          assert.deepEqual([p?.op_type, p?.attribute[0].i], ['Cast', FLOAT], `${c.op} input ${input}`);
        }
        // ...its weights are stored as float16 all the same (the file halves)...
        const weights = rnn[0].input.slice(1, 4).map((i: string) => producer(i).input[0]);
        for (const w of weights.filter(Boolean))
          assert.equal(m.graph.initializer.find((t: Decoded) => t.name === w)?.data_type, FLOAT16, w);
        // ...and each of its outputs is cast back to float16 for the rest of the graph.
        for (const out of rnn[0].output.filter(Boolean)) {
          const users = m.graph.node.filter((n: Decoded) => n.input.includes(out));
          assert.ok(
            users.length >= 1 && users.every((u: Decoded) => u.op_type === 'Cast' && u.attribute[0].i === FLOAT16),
            `${c.op} output ${out}`,
          );
        }
        assert.equal(rnn[0].output.filter(Boolean).length, c.outputs);
      });
    }
  }

  describe('when onnxruntime crashes on the converted model', () => {
    let work: string;
    let r: Registry;
    before(async () => {
      work = tempDir('modelreg-onnx-crash-');
      makeGitRepo(work);
      const out = path.join(work, 'run');
      mkdirSync(out);
      copyFileSync(path.join(FIXTURES, 'gru.onnx'), path.join(out, 'model.onnx'));
      r = await Registry.open(path.join(work, '.modelreg'));
      await importTrainingOutput(r, out, { model: 'gru' });
    });
    after(() => r.close());

    it('the conversion fails with a clear error, nothing is registered, and this process lives on', async () => {
      // A real SIGSEGV delivered to the child that loads the converted model (it is not a stored object).
      const objects = path.join(work, '.modelreg', 'objects');
      const crash = ({ pid, file }: { pid: number; file: string }) => {
        if (!file.startsWith(objects)) process.kill(pid, 'SIGSEGV');
      };
      ortProcesses.on('spawn', crash);
      try {
        await assert.rejects(convertVersion(r, 'gru@v1', onnxFp16), (e: Error) => {
          assert.ok(e instanceof InputError, String(e));
          assert.match(
            e.problem,
            /^onnxruntime crashed \(SIGSEGV\) loading the converted model; nothing was registered$/,
          );
          return true;
        });
      } finally {
        ortProcesses.off('spawn', crash);
      }
      const rows = await sqlOf(r).all<{ number: number; status: string }>(
        'SELECT number, status FROM versions ORDER BY number',
      );
      assert.deepEqual(
        rows.map((v) => [v.number, v.status]),
        [[1, 'ready']],
        'no version left in importing',
      );
      assert.deepEqual(
        readdirSync(path.join(work, '.modelreg', 'tmp')).filter((f) => !f.startsWith('.')),
        [],
      );
      // The same conversion without the crash succeeds: the registry is fine.
      const v = await convertVersion(r, 'gru@v1', onnxFp16);
      assert.equal(v.ref, 'gru@v2');
    });
  });
});

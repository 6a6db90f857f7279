import * as assert from 'assert/strict';
import { spawn } from 'child_process';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { CancelledError } from '../../../../src/core/errors';
import {
  OrtCrashError,
  OrtError,
  ortProcesses,
  OrtSession,
  OrtTimeoutError,
} from '../../../../src/core/onnxrt/session';
import { eventually, sleep } from '../../../helpers/eventually';
import { loopBytes, mixedBytes } from '../../helpers/onnxModels';
import { tempDir } from '../../helpers/tmp';
import { compiled } from '../../helpers/paths';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** Whether `pid` ends within `ms`. */
const gone = (pid: number, ms = 15000): Promise<boolean> =>
  eventually(() => assert.ok(!alive(pid)), { timeout: ms, interval: 50 }).then(
    () => true,
    () => false,
  );

describe('OrtSession: onnxruntime in a child process', function () {
  this.timeout(60000);
  let dir: string;
  let mixed: string;
  let loop: string;

  before(() => {
    dir = tempDir('modelreg-ortsession-');
    mixed = path.join(dir, 'mixed.onnx');
    loop = path.join(dir, 'loop.onnx');
    writeFileSync(mixed, mixedBytes());
    writeFileSync(loop, loopBytes(10n ** 15n));
  });

  it('loads in a child, gives the metadata, and passes float32, int64 and float16 tensors both ways', async () => {
    const s = await OrtSession.create(mixed);
    try {
      assert.ok(s.pid && s.pid !== process.pid && alive(s.pid));
      assert.deepEqual(s.inputs, [
        { name: 'x', isTensor: true, type: 'float32', shape: ['batch', 3] },
        { name: 'k', isTensor: true, type: 'int64', shape: [2] },
      ]);
      assert.deepEqual(s.outputNames, ['out', 'n', 'h']);
      const out = await s.run({
        x: { type: 'float32', dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) },
        k: { type: 'int64', dims: [2], data: BigInt64Array.from([7n, 2n ** 40n]) },
      });
      assert.deepEqual(
        [out.out.type, out.out.dims, [...(out.out.data as Float32Array)]],
        ['float32', [2, 3], [2, 4, 6, 8, 10, 13]],
      );
      assert.deepEqual([out.n.type, [...(out.n.data as BigInt64Array)]], ['int64', [8n, 2n ** 40n + 1n]]);
      assert.ok(out.n.data instanceof BigInt64Array);
      // float16 arrives as its bits: 1 → 0x3c00, 6.5 → 0x4680
      assert.deepEqual(
        [out.h.type, (out.h.data as Uint16Array)[0], (out.h.data as Uint16Array)[5]],
        ['float16', 0x3c00, 0x4680],
      );
    } finally {
      await s.release();
    }
    assert.ok(await gone(s.pid!), 'release() ends the child');
  });

  it('reports what onnxruntime refuses as OrtError, and the session still runs after a bad feed', async () => {
    const bad = path.join(dir, 'bad.onnx');
    writeFileSync(bad, 'not a model');
    await assert.rejects(
      OrtSession.create(bad),
      (e: Error) => e instanceof OrtError && /protobuf|parse|Load model/i.test(e.message),
    );
    const s = await OrtSession.create(mixed);
    try {
      await assert.rejects(s.run({ x: { type: 'float32', dims: [1, 3], data: new Float32Array(3) } }), OrtError); // k missing
      const out = await s.run({
        x: { type: 'float32', dims: [1, 3], data: new Float32Array(3) },
        k: { type: 'int64', dims: [2], data: new BigInt64Array(2) },
      });
      assert.deepEqual([...(out.n.data as BigInt64Array)], [1n, 1n]);
    } finally {
      await s.release();
    }
  });

  it('turns a SIGSEGV while running into OrtCrashError, and the session refuses further work', async () => {
    const s = await OrtSession.create(loop);
    const running = s.run({ x: { type: 'float32', dims: [4], data: new Float32Array(4) } });
    await sleep(300); // inside the Loop, in native code
    process.kill(s.pid!, 'SIGSEGV');
    await assert.rejects(
      running,
      (e: Error) =>
        e instanceof OrtCrashError &&
        e.message === 'onnxruntime crashed (SIGSEGV) running the model' &&
        e.phase === 'running',
    );
    await assert.rejects(
      s.run({ x: { type: 'float32', dims: [4], data: new Float32Array(4) } }),
      /has ended \(SIGSEGV\)/,
    );
    await s.release();
  });

  it('turns a crash while loading into OrtCrashError (phase loading)', async () => {
    const kill = ({ pid, file }: { pid: number; file: string }) => {
      if (file === mixed) process.kill(pid, 'SIGSEGV');
    };
    ortProcesses.on('spawn', kill);
    try {
      await assert.rejects(
        OrtSession.create(mixed),
        (e: Error) => e instanceof OrtCrashError && e.message === 'onnxruntime crashed (SIGSEGV) loading the model',
      );
    } finally {
      ortProcesses.off('spawn', kill);
    }
  });

  it('kills a child that hangs: after the run timeout, and on cancel', async () => {
    const s = await OrtSession.create(loop, { runTimeoutMs: 500 });
    await assert.rejects(
      s.run({ x: { type: 'float32', dims: [4], data: new Float32Array(4) } }),
      (e: Error) =>
        e instanceof OrtTimeoutError && /did not finish running the model within 1 s; it was stopped/.test(e.message),
    );
    assert.ok(await gone(s.pid!), 'the timed-out child is killed');
    await s.release();

    const ac = new AbortController();
    const c = await OrtSession.create(loop, { signal: ac.signal });
    const running = c.run({ x: { type: 'float32', dims: [4], data: new Float32Array(4) } });
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(running, CancelledError);
    assert.ok(await gone(c.pid!), 'the cancelled child is killed');
    await c.release();
  });

  it('dies with its parent, also while busy in native code', async () => {
    // A parent process that opens a session on the endless Loop, starts a run, prints the child's pid and waits.
    const script = path.join(dir, 'parent.js');
    writeFileSync(
      script,
      `
      const { OrtSession } = require(${JSON.stringify(compiled('src/core/onnxrt/session.js'))});
      OrtSession.create(${JSON.stringify(loop)}).then((s) => {
        s.run({ x: { type: 'float32', dims: [4], data: new Float32Array(4) } }).catch(() => {});
        console.log(s.pid);
      });
      setInterval(() => {}, 1000);
    `,
    );
    const parent = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      parent.stdout.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
      parent.once('exit', () => reject(new Error('parent exited early')));
    });
    assert.ok(alive(pid));
    await sleep(300); // the child is inside session.run
    parent.kill('SIGKILL');
    assert.ok(await gone(pid), `child ${pid} outlived its parent`);
  });
});

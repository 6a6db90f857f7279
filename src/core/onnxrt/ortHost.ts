/**
 * The child process that hosts one onnxruntime session for OrtSession (session.ts), so that a native
 * crash in onnxruntime (SIGSEGV, abort) ends this process and not the editor or the CLI. Started by
 * child_process.fork with 'advanced' serialization: tensors arrive and leave as typed arrays.
 */
import { Worker } from 'worker_threads';
import type * as Ort from 'onnxruntime-node';
import type { HostReply, HostRequest, TensorData } from './protocol';

// Die with the parent. 'disconnect' covers a parent that exits or is killed while this process is idle;
// the watchdog thread covers a main thread stuck in native code, which never sees 'disconnect'.
process.on('disconnect', () => process.exit(0));
const parent = process.ppid;
new Worker(
  `const p = ${parent}; setInterval(() => { if (process.ppid !== p) process.kill(process.pid, 'SIGKILL'); }, 500).unref();
   require('worker_threads').parentPort.on('message', () => {});`,
  { eval: true },
).unref();

let ort: typeof Ort | undefined;
let session: Ort.InferenceSession | undefined;

/** A typed array that owns its whole buffer, so structured clone copies exactly its bytes. */
function own<T extends ArrayBufferView>(a: T): T {
  if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a;
  return (a as unknown as { slice(): T }).slice();
}

async function handle(m: HostRequest): Promise<unknown> {
  switch (m.op) {
    case 'create': {
      // Loaded on the first request so a host that never runs a model never loads the native code.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ort ??= require('onnxruntime-node') as typeof Ort;
      session = await ort.InferenceSession.create(m.file, { logSeverityLevel: 3, ...m.options });
      const meta = (list: readonly Ort.InferenceSession.ValueMetadata[]) =>
        list.map((v) => ({
          name: v.name,
          isTensor: v.isTensor,
          type: v.isTensor ? v.type : undefined,
          shape: v.isTensor ? [...v.shape] : [],
        }));
      return { inputs: meta(session.inputMetadata), outputs: meta(session.outputMetadata) };
    }
    case 'run': {
      if (!session || !ort) throw new Error('no session');
      const feeds: Record<string, Ort.Tensor> = {};
      for (const [name, t] of Object.entries(m.feeds))
        feeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      const out = await session.run(feeds);
      const result: Record<string, TensorData> = {};
      for (const [name, t] of Object.entries(out)) {
        result[name] = {
          type: t.type,
          dims: [...t.dims],
          data: Array.isArray(t.data) ? t.data : (own(t.data as ArrayBufferView) as TensorData['data']),
        };
      }
      return result;
    }
    case 'release':
      await session?.release();
      session = undefined;
      return null;
  }
}

process.on('message', (m: HostRequest) => {
  handle(m).then(
    (result) => process.send!({ id: m.id, ok: true, result } satisfies HostReply),
    (e: Error) => process.send!({ id: m.id, ok: false, error: String(e?.message ?? e) } satisfies HostReply),
  );
});

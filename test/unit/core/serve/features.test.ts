// What `modelreg serve` adds to the OIP server, over real HTTP and onnxruntime: dynamic batching
// (64 concurrent single-row requests in at most 8 executions, each answer its own), a full queue
// answered 503 while the server keeps serving, Prometheus /metrics, and MLflow's /invocations and /ping.
import * as assert from 'assert';
import * as path from 'path';
import { Registry } from '../../../../src/core/registry/registry';
import { batchable, servingFeatures } from '../../../../src/core/serve/features';
import { serve, ServerHandle } from '../../../../src/core/serve/server';
import { importOnnxModel } from '../../helpers/importModel';
import { tempDir } from '../../helpers/tmp';
import { affineBytes } from './models';

const A = [1, 2, 3];
const B = [10, 20, 30];
const affine = (row: number[]) => row.map((x, i) => Math.fround(Math.fround(x * A[i]) + B[i]));

/** A sample's value in Prometheus text: `name{labels} value`, summed over the lines that match. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (!Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) continue;
    sum += Number(m[3]);
    found = true;
  }
  assert.ok(found, `no sample ${name} ${JSON.stringify(labels)} in:\n${text}`);
  return sum;
}

describe('modelreg serve: batching, metrics, MLflow routes', function () {
  this.timeout(120_000);
  let r: Registry;
  let server: ServerHandle;

  const infer = (model: string, rows: number[][]) =>
    fetch(`${server.url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [rows.length, 3], datatype: 'FP32', data: rows.flat() }] }),
    });
  const metrics = async () => (await fetch(`${server.url}/metrics`)).text();

  before(async () => {
    const work = tempDir();
    r = await Registry.open(path.join(work, 'registry'));
    await importOnnxModel(r, work, 'affine', affineBytes(A, B));
    await importOnnxModel(r, work, 'fixed', affineBytes([2, 2, 2], [0, 0, 0], 1));
    // A long delay, so the 64 requests below meet in full batches whatever the machine's load.
    const { options } = servingFeatures({ port: 0, maxBatch: 16, batchDelayMs: 200 });
    server = await serve(r, ['affine@v1', 'fixed@v1'], options);
  });
  after(async () => {
    await server?.close();
    await r?.close();
  });

  it('batches only models whose inputs and outputs all have a dynamic first axis', () => {
    const t = (shape: (number | string)[]) => ({ name: 'x', isTensor: true, type: 'float32', shape });
    assert.strictEqual(batchable([t(['batch', 3])], [t(['batch', 3])]), true);
    assert.strictEqual(batchable([t([-1, 3])], [t(['', 3])]), true);
    assert.strictEqual(batchable([t([1, 3])], [t([1, 3])]), false);
    assert.strictEqual(
      batchable([t(['batch', 3])], [t([3])]),
      false,
      'an output without the batch axis cannot be split',
    );
  });

  it('64 concurrent single-row requests with --max-batch 16: every answer its own, in at most 8 executions', async () => {
    const before = await metrics();
    const execBefore = sample(before, 'nv_inference_exec_count', { model: 'affine' });
    const rows = Array.from({ length: 64 }, (_, i) => [i, i + 0.5, -i]);
    const answers = await Promise.all(
      rows.map(async (row) => {
        const res = await infer('affine', [row]);
        assert.strictEqual(res.status, 200, await res.clone().text());
        return ((await res.json()) as { outputs: { data: number[] }[] }).outputs[0].data;
      }),
    );
    answers.forEach((got, i) => assert.deepStrictEqual(got, affine(rows[i]), `answer ${i}`));
    const after = await metrics();
    const executions = sample(after, 'nv_inference_exec_count', { model: 'affine' }) - execBefore;
    assert.ok(executions <= 8, `${executions} executions for 64 requests`);
    assert.ok(executions >= 4, `at most 16 rows a batch: ${executions} executions`);
    assert.strictEqual(sample(after, 'nv_inference_count', { model: 'affine', version: '1' }), 64);
    assert.strictEqual(sample(after, 'nv_inference_request_success', { model: 'affine', version: '1' }), 64);
  });

  it('a fixed-batch model is not batched: it answers each request on its own', async () => {
    const res = await infer('fixed', [[1, 2, 3]]);
    assert.strictEqual(res.status, 200, await res.clone().text());
    assert.deepStrictEqual(((await res.json()) as { outputs: { data: number[] }[] }).outputs[0].data, [2, 4, 6]);
    assert.strictEqual(sample(await metrics(), 'nv_inference_exec_count', { model: 'fixed' }), 1);
  });

  it('GET /metrics: Prometheus text with failures, durations and the latency histogram per model and version', async () => {
    const bad = await infer('affine', [[1, 2]]); // 2 values for a row of 3
    assert.strictEqual(bad.status, 400);
    const res = await fetch(`${server.url}/metrics`);
    assert.strictEqual(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.ok(sample(text, 'nv_inference_request_failure', { model: 'affine', version: '1' }) >= 1);
    assert.ok(sample(text, 'nv_inference_compute_infer_duration_us', { model: 'affine' }) > 0);
    assert.ok(sample(text, 'modelreg_request_duration_seconds_count', { model: 'affine' }) >= 64);
    assert.match(text, /^# TYPE nv_inference_request_success counter$/m);
    assert.strictEqual((await fetch(`${server.url}/metrics`, { method: 'POST' })).status, 405);
  });

  it('MLflow: /ping, and /invocations with inputs, instances, dataframe_split, dataframe_records and CSV', async () => {
    assert.strictEqual((await fetch(`${server.url}/ping`)).status, 200);
    const rows = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const expected = { predictions: rows.map(affine) };
    const bodies: [string, string][] = [
      ['application/json', JSON.stringify({ inputs: rows })],
      ['application/json', JSON.stringify({ instances: rows })],
      ['application/json', JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c'], data: rows } })],
      ['application/json', JSON.stringify({ dataframe_records: rows.map(([a, b, c]) => ({ a, b, c })) })],
      ['text/csv', 'a,b,c\n1,2,3\n4,5,6\n'],
    ];
    for (const [type, body] of bodies) {
      const res = await fetch(`${server.url}/invocations`, { method: 'POST', headers: { 'Content-Type': type }, body });
      const text = await res.text();
      assert.strictEqual(res.status, 200, `${type} ${body}: ${text}`);
      assert.deepStrictEqual(JSON.parse(text), expected, body);
    }
    const bad = await fetch(`${server.url}/invocations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ rows }),
    });
    assert.strictEqual(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /inputs|instances|dataframe/);
    const wrongType = await fetch(`${server.url}/invocations`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: 'x',
    });
    assert.strictEqual(wrongType.status, 415);
    assert.ok(sample(await metrics(), 'nv_inference_request_success', { model: 'affine' }) >= 64 + bodies.length);
  });

  it('a full queue answers 503 with Retry-After, and the server keeps serving', async () => {
    const work = tempDir();
    const r2 = await Registry.open(path.join(work, 'registry'));
    await importOnnxModel(r2, work, 'affine', affineBytes(A, B));
    // A batch of up to 64 rows waits 1.5 s for more: the first 4 requests wait in the queue, the rest
    // (sent well within that time) find it full, whatever the machine's speed.
    const { options } = servingFeatures({ port: 0, maxBatch: 64, batchDelayMs: 1500, maxQueue: 4 });
    const small = await serve(r2, ['affine@v1'], options);
    try {
      const post = () =>
        fetch(`${small.url}/v2/models/affine/infer`, {
          method: 'POST',
          body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 1, 1] }] }),
        });
      const results = await Promise.all(Array.from({ length: 40 }, post));
      const refused = results.filter((res) => res.status === 503);
      assert.ok(refused.length > 0, 'some requests found the queue full');
      assert.ok(
        results.some((res) => res.status === 200),
        'the queued ones were answered',
      );
      assert.ok(results.every((res) => res.status === 200 || res.status === 503));
      assert.strictEqual(refused[0].headers.get('retry-after'), '1');
      assert.match(((await refused[0].json()) as { error: string }).error, /queue is full/);
      const after = await post();
      assert.strictEqual(after.status, 200, 'still serving');
    } finally {
      await small.close();
      await r2.close();
    }
  });
});

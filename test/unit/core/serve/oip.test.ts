// The Open Inference Protocol v2 (REST) server over real HTTP (node's fetch) and real onnxruntime:
// every route of specification/protocol/inference_rest.md, its errors, and the binary tensor extension.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import { Registry } from '../../../../src/core/registry/registry';
import { ortProcesses } from '../../../../src/core/onnxrt/session';
import { HttpError, RequestEvent, serve, ServerHandle, startServer } from '../../../../src/core/serve/server';
import { f16BitsToF32, f32BitsToF16 } from '../../../../src/core/convert/safetensors';
import { importOnnxModel } from '../../helpers/importModel';
import { loopBytes } from '../../helpers/onnxModels';
import { repoPath } from '../../helpers/paths';
import { tempDir } from '../../helpers/tmp';
import { eventually } from '../../../helpers/eventually';
import { affineBytes, mixedBytes, textBytes } from './models';

const half = (x: number) => f32BitsToF16(new Uint32Array(Float32Array.of(x).buffer)[0]);
const fromHalf = (h: number) => new Float32Array(Uint32Array.of(f16BitsToF32(h)).buffer)[0];
const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));
const json = async (res: Response, status: number) => {
  const text = await res.text();
  assert.strictEqual(res.status, status, text);
  return JSON.parse(text) as Record<string, unknown> & { error?: string };
};

describe('modelreg serve: Open Inference Protocol v2 over HTTP', function () {
  this.timeout(120_000);
  let r: Registry;
  let server: ServerHandle;
  const logs: string[] = [];

  const get = (p: string, headers: Record<string, string> = {}) => fetch(server.url + p, { headers });
  const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(server.url + p, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const infer = (model: string, inputs: unknown[], extra: Record<string, unknown> = {}) =>
    post(`/v2/models/${model}/infer`, { inputs, ...extra });
  const x = (data: unknown, shape = [2, 3], datatype = 'FP32') => ({ name: 'x', shape, datatype, data });

  before(async () => {
    const work = tempDir();
    r = await Registry.open(path.join(work, 'registry'));
    await importOnnxModel(r, work, 'affine', affineBytes([1, 2, 3], [10, 20, 30]));
    await importOnnxModel(r, work, 'fixed', affineBytes([2, 2, 2], [0, 0, 0], 2));
    await importOnnxModel(r, work, 'mixed', mixedBytes());
    await importOnnxModel(r, work, 'text', textBytes());
    await importOnnxModel(
      r,
      work,
      'squeezenet',
      readFileSync(repoPath('test/fixtures/onnx-model-zoo/light_squeezenet.onnx')),
    );
    server = await serve(r, ['affine@v1', 'fixed', 'mixed@latest', 'text@v1', 'squeezenet@v1'], {
      port: 0,
      maxBodyBytes: 1024 * 1024,
      log: (l) => logs.push(l),
    });
  });
  after(async () => {
    await server?.close();
    await r?.close();
  });

  it('GET /v2: server metadata with the binary tensor extension', async () => {
    const m = await json(await get('/v2'), 200);
    assert.strictEqual(m.name, 'modelreg');
    assert.strictEqual(typeof m.version, 'string');
    assert.ok((m.extensions as string[]).includes('binary_tensor_data'));
  });

  it('GET /v2/health/live and /v2/health/ready', async () => {
    assert.deepStrictEqual(await json(await get('/v2/health/live'), 200), { live: true });
    assert.deepStrictEqual(await json(await get('/v2/health/ready'), 200), { ready: true });
  });

  it('GET /v2/models/{name}[/versions/{version}]: name, versions, platform, tensors with −1 for dynamic dims', async () => {
    const expected = {
      name: 'affine',
      versions: ['1'],
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }],
    };
    assert.deepStrictEqual(await json(await get('/v2/models/affine'), 200), expected);
    assert.deepStrictEqual(await json(await get('/v2/models/affine/versions/1'), 200), expected);
    const fixed = await json(await get('/v2/models/fixed'), 200);
    assert.deepStrictEqual(fixed.inputs, [{ name: 'x', datatype: 'FP32', shape: [2, 3] }]);
    const mixed = await json(await get('/v2/models/mixed'), 200);
    assert.deepStrictEqual(
      (mixed.inputs as { datatype: string }[]).map((t) => t.datatype),
      ['FP32', 'FP16', 'INT64', 'BOOL'],
    );
    assert.deepStrictEqual((await json(await get('/v2/models/text'), 200)).outputs, [
      { name: 'text', datatype: 'BYTES', shape: [-1] },
    ]);
  });

  it('GET …/ready per model and version', async () => {
    assert.deepStrictEqual(await json(await get('/v2/models/affine/ready'), 200), { name: 'affine', ready: true });
    assert.deepStrictEqual(await json(await get('/v2/models/affine/versions/1/ready'), 200), {
      name: 'affine',
      ready: true,
    });
    await json(await get('/v2/models/affine/versions/2/ready'), 404);
  });

  it('unknown model, version and route are 404 with {"error"}; a wrong method 405', async () => {
    assert.match((await json(await get('/v2/models/nope'), 404)).error!, /no model 'nope' is served/);
    assert.match(
      (await json(await get('/v2/models/affine/versions/7'), 404)).error!,
      /model 'affine' has no version '7' served; served: 1/,
    );
    await json(await infer('nope', [x([1, 2, 3, 4, 5, 6])]), 404);
    await json(await post('/v2/models/affine/versions/9/infer', { inputs: [x([1, 2, 3, 4, 5, 6])] }), 404);
    assert.match((await json(await get('/v3/elsewhere'), 404)).error!, /no such route: GET \/v3\/elsewhere/);
    const wrong = await get('/v2/models/affine/infer');
    assert.strictEqual(wrong.headers.get('allow'), 'POST');
    assert.match((await json(wrong, 405)).error!, /takes POST/);
    await json(await post('/v2/health/live', {}), 405);
  });

  it('POST …/infer: y = a·x + b, flat or nested data, id echoed, parameters accepted', async () => {
    const expected = f32([11, 24, 39, 14, 30, 48]);
    const flat = await json(
      await infer('affine', [x([1, 2, 3, 4, 5, 6])], { id: 'req-42', parameters: { priority: 1, note: 'x' } }),
      200,
    );
    assert.deepStrictEqual(flat, {
      model_name: 'affine',
      model_version: '1',
      id: 'req-42',
      outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 3], data: expected }],
    });
    const nested = await json(
      await post('/v2/models/affine/versions/1/infer', {
        inputs: [
          {
            ...x([
              [1, 2, 3],
              [4, 5, 6],
            ]),
            parameters: {},
          },
        ],
      }),
      200,
    );
    assert.deepStrictEqual((nested.outputs as { data: number[] }[])[0].data, expected);
    assert.strictEqual(nested.id, undefined);
    // A batch of 1 on the dynamic axis, and the fixed-batch model at its batch.
    const one = await json(await infer('affine', [x([0, 0, 0], [1, 3])]), 200);
    assert.deepStrictEqual((one.outputs as { data: number[] }[])[0].data, [10, 20, 30]);
    const fixed = await json(await infer('fixed', [x([1, 2, 3, 4, 5, 6])]), 200);
    assert.deepStrictEqual((fixed.outputs as { data: number[] }[])[0].data, [2, 4, 6, 8, 10, 12]);
  });

  it('refuses wrong input names, shapes, datatypes, data, outputs and JSON with 400, naming what was expected and what came', async () => {
    const refusals: [Response, RegExp][] = [
      [
        await infer('affine', [{ ...x([1, 2, 3, 4, 5, 6]), name: 'input' }]),
        /affine version 1 has no input 'input'; its inputs: 'x'/,
      ],
      [
        await infer('affine', [x([1, 2, 3, 4], [2, 2])]),
        /input 'x' of affine version 1: the model expects shape \[-1, 3\] \(−1: any size\); the request has \[2, 2\]/,
      ],
      [
        await infer('fixed', [x([1, 2, 3], [1, 3])]),
        /input 'x' of fixed version 1: the model expects shape \[2, 3\].*the request has \[1, 3\]/,
      ],
      [
        await infer('affine', [x([1, 2, 3, 4, 5, 6], [2, 3], 'INT32')]),
        /input 'x' of affine version 1: the model expects datatype FP32; the request has INT32/,
      ],
      [await infer('affine', [x([1, 2, 3, 4, 5, 6], [2, 3], 'FLOAT')]), /datatype 'FLOAT' is not an OIP datatype/],
      [await infer('affine', [x([1, 2, 3, 4, 5])]), /shape \[2, 3\] holds 6 elements; data has 5/],
      [
        await infer('affine', [
          x([
            [1, 2],
            [3, 4, 5],
          ]),
        ]),
        /nested data does not match shape \[2, 3\]: at \[0\] expected 3 elements, found 2/,
      ],
      [await infer('affine', [x([1, 2, 'three', 4, 5, 6])]), /element 2 is not a number \(found a string\)/],
      [await infer('affine', []), /"inputs" must be a non-empty array of tensors; affine version 1 takes 'x'/],
      [
        await infer('affine', [x([1, 2, 3, 4, 5, 6])], { outputs: [{ name: 'z' }] }),
        /affine version 1 has no output 'z'; its outputs: 'y'/,
      ],
      [await infer('mixed', [x([1, 2, 3, 4, 5, 6])]), /mixed version 1 needs inputs 'h', 'k', 'flag'/],
      [await post('/v2/models/affine/infer', '{"inputs": [ {"name": "x", '), /the request body is not valid JSON/],
      [await post('/v2/models/affine/infer', '[1, 2]'), /must be a JSON object with "inputs"/],
      [await infer('affine', [x([1, 2, 3, 4, 5, 6])], { id: 7 }), /"id" must be a string/],
    ];
    for (const [res, message] of refusals) {
      const body = await json(res, 400);
      assert.match(body.error!, message);
      assert.deepStrictEqual(Object.keys(body), ['error']);
    }
    // The payload is never echoed: a secret value in the data does not come back.
    const secret = await json(await infer('affine', [x([1, 2, 'sk-SECRET-123', 4, 5, 6])]), 400);
    assert.doesNotMatch(secret.error!, /SECRET/);
    const badJson = await json(await post('/v2/models/affine/infer', '{"inputs": sk-SECRET-123}'), 400);
    assert.doesNotMatch(badJson.error!, /SECRET/);
    // Still serving after every refusal.
    await json(await infer('affine', [x([1, 2, 3, 4, 5, 6])]), 200);
    assert.ok(!logs.some((l) => l.includes('SECRET')));
  });

  it('outputs selection returns only the named outputs, in the order asked', async () => {
    const inputs = [
      x([1, 2, 3, 4, 5, 6]),
      { name: 'h', shape: [2, 3], datatype: 'FP16', data: [0.5, 0.25, -1, 2, 0, 1000] },
      { name: 'k', shape: [2], datatype: 'INT64', data: [41, -9007199254740991] },
      { name: 'flag', shape: [2], datatype: 'BOOL', data: [true, false] },
    ];
    const res = await json(await infer('mixed', inputs, { outputs: [{ name: 'not' }, { name: 'n' }] }), 200);
    assert.deepStrictEqual(res.outputs, [
      { name: 'not', datatype: 'BOOL', shape: [2], data: [false, true] },
      { name: 'n', datatype: 'INT64', shape: [2], data: [42, -9007199254740990] },
    ]);
  });

  it('FP16 in and out as JSON numbers (IEEE half values); INT64 beyond 2^53 as decimal strings, refused as numbers', async () => {
    const inputs = [
      x([0, 0, 0, 1, 1, 1]),
      { name: 'h', shape: [2, 3], datatype: 'FP16', data: [0.1, 0.25, -1, 2, 65504, 1 / 3] },
      { name: 'k', shape: [2], datatype: 'INT64', data: ['9223372036854775806', '-5'] },
      { name: 'flag', shape: [2], datatype: 'BOOL', data: [0, 1] },
    ];
    const res = await json(await infer('mixed', inputs), 200);
    const out = Object.fromEntries((res.outputs as { name: string; data: unknown[] }[]).map((o) => [o.name, o]));
    const h = [0.1, 0.25, -1, 2, 65504, 1 / 3].map((v) => fromHalf(half(v)));
    assert.deepStrictEqual(out.sum, {
      name: 'sum',
      datatype: 'FP32',
      shape: [2, 3],
      data: [h[0], h[1], h[2], 3, 65505, h[5] + 1].map(Math.fround),
    });
    assert.strictEqual((out.half as unknown as { datatype: string }).datatype, 'FP16');
    assert.deepStrictEqual(out.half.data, [h[0], h[1], h[2], 3, 65504, fromHalf(half(h[5] + 1))]);
    // int64 results are written exactly, beyond what a double holds.
    const raw = await (await infer('mixed', inputs, { outputs: [{ name: 'n' }] })).text();
    assert.match(raw, /"data":\[9223372036854775807,-4\]/);
    const big = await json(
      await infer('mixed', [
        ...inputs.slice(0, 2),
        { name: 'k', shape: [2], datatype: 'INT64', data: [2 ** 60, 1] },
        inputs[3],
      ]),
      400,
    );
    assert.match(big.error!, /input 'k' of mixed version 1: element 0 is beyond ±2\^53.*decimal string or in binary/);
  });

  it('BYTES: strings in and out as JSON', async () => {
    const res = await json(
      await infer('text', [{ name: 's', shape: [3], datatype: 'BYTES', data: ['héllo', '', 'wörld ✓'] }]),
      200,
    );
    assert.deepStrictEqual(res.outputs, [
      { name: 'text', datatype: 'BYTES', shape: [3], data: ['héllo', '', 'wörld ✓'] },
    ]);
  });

  it('binary tensor extension: binary request and binary response round trip, per output or for all', async () => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } }],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
      }),
    );
    const body = Buffer.concat([header, Buffer.from(Float32Array.of(1, 2, 3, 4, 5, 6).buffer)]);
    const res = await post('/v2/models/affine/infer', body, {
      'Content-Type': 'application/octet-stream',
      'Inference-Header-Content-Length': String(header.length),
    });
    assert.strictEqual(res.status, 200);
    const n = Number(res.headers.get('inference-header-content-length'));
    const bytes = Buffer.from(await res.arrayBuffer());
    const head = JSON.parse(bytes.subarray(0, n).toString()) as { outputs: Record<string, unknown>[] };
    assert.deepStrictEqual(head.outputs, [
      { name: 'y', datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: 24 } },
    ]);
    const y = new Float32Array(bytes.subarray(n).buffer.slice(bytes.byteOffset + n, bytes.byteOffset + n + 24));
    assert.deepStrictEqual(Array.from(y), f32([11, 24, 39, 14, 30, 48]));

    // A JSON request with binary_data_output: every output binary, in the order of the outputs.
    const strings = ['a', 'bcd'];
    const all = await infer('text', [{ name: 's', shape: [2], datatype: 'BYTES', data: strings }], {
      parameters: { binary_data_output: true },
    });
    const m = Number(all.headers.get('inference-header-content-length'));
    const allBytes = Buffer.from(await all.arrayBuffer());
    assert.deepStrictEqual(JSON.parse(allBytes.subarray(0, m).toString()).outputs, [
      { name: 'text', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: 12 } },
    ]);
    // 4-byte little-endian lengths, then the bytes.
    assert.deepStrictEqual(allBytes.subarray(m), Buffer.from([1, 0, 0, 0, 0x61, 3, 0, 0, 0, 0x62, 0x63, 0x64]));

    // Binary BYTES in: the same framing.
    const h2 = Buffer.from(
      JSON.stringify({ inputs: [{ name: 's', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: 12 } }] }),
    );
    const back = await post('/v2/models/text/infer', Buffer.concat([h2, allBytes.subarray(m)]), {
      'Inference-Header-Content-Length': String(h2.length),
    });
    assert.deepStrictEqual((await json(back, 200)).outputs, [
      { name: 'text', datatype: 'BYTES', shape: [2], data: strings },
    ]);

    // Sizes that do not add up are refused.
    const short = await post('/v2/models/affine/infer', Buffer.concat([header, Buffer.alloc(20)]), {
      'Inference-Header-Content-Length': String(header.length),
    });
    assert.match((await json(short, 400)).error!, /binary_data_size 24 goes past the end of the body/);
    const h3 = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 20 } }],
      }),
    );
    const wrongSize = await post('/v2/models/affine/infer', Buffer.concat([h3, Buffer.alloc(20)]), {
      'Inference-Header-Content-Length': String(h3.length),
    });
    assert.match(
      (await json(wrongSize, 400)).error!,
      /holds 6 elements of 4 bytes \(24 bytes\); binary_data_size is 20/,
    );
  });

  it('a body over the size limit is 413, and the server keeps serving', async () => {
    const big = await post('/v2/models/affine/infer', Buffer.alloc(2 * 1024 * 1024, 0x20));
    assert.match((await json(big, 413)).error!, /larger than 1048576 bytes/);
    // Chunked, with no Content-Length to refuse up front: counted as it arrives.
    const chunk = new Uint8Array(256 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull: (c) => (sent++ < 8 ? c.enqueue(chunk) : c.close()),
    });
    const chunked = await fetch(`${server.url}/v2/models/affine/infer`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit).catch((e: Error) => e);
    // The server answers 413 and closes; a client still sending may see the reset instead.
    if (!(chunked instanceof Error)) assert.match((await json(chunked, 413)).error!, /larger than 1048576 bytes/);
    await json(await infer('affine', [x([1, 2, 3, 4, 5, 6])]), 200);
  });

  it('a real model-zoo graph (SqueezeNet): metadata and an answer of the right shape', async () => {
    const meta = await json(await get('/v2/models/squeezenet'), 200);
    assert.deepStrictEqual(meta.inputs, [{ name: 'data_0', datatype: 'FP32', shape: [1, 3, 224, 224] }]);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'data_0',
            shape: [1, 3, 224, 224],
            datatype: 'FP32',
            parameters: { binary_data_size: 4 * 3 * 224 * 224 },
          },
        ],
      }),
    );
    const res = await post('/v2/models/squeezenet/infer', Buffer.concat([header, Buffer.alloc(4 * 3 * 224 * 224)]), {
      'Inference-Header-Content-Length': String(header.length),
    });
    const out = (await json(res, 200)).outputs as { name: string; shape: number[]; data: number[] }[];
    assert.strictEqual(out[0].name, 'softmaxout_1');
    assert.deepStrictEqual(out[0].shape, [1, 1000, 1, 1]);
    assert.strictEqual(out[0].data.length, 1000);
  });

  it('logs one line per request: time, method, path, model, version, status, latency', async () => {
    logs.length = 0;
    await json(await infer('affine', [x([1, 2, 3, 4, 5, 6])]), 200);
    await json(await get('/v2/models/nope'), 404);
    assert.strictEqual(logs.length, 2);
    assert.match(logs[0], /^\d{4}-\d\d-\d\dT\S+Z POST \/v2\/models\/affine\/infer affine 1 200 \d+(\.\d)?ms$/);
    assert.match(logs[1], /^\S+ GET \/v2\/models\/nope nope - 404 \S+ms$/);
  });
});

describe('modelreg serve: readiness, tokens and closing', function () {
  this.timeout(120_000);
  let r: Registry;
  let work: string;
  before(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, 'registry'));
    await importOnnxModel(r, work, 'affine', affineBytes([1, 1, 1], [0, 0, 0]));
    // A Loop of 10^15 trips: its warm-up never ends within the test, so it never gets ready.
    await importOnnxModel(r, work, 'slow', loopBytes(10n ** 15n));
  });
  after(() => r?.close());

  it('answers 503 while a model is not warmed up, and closes without waiting for it', async () => {
    const s = await startServer(r, ['affine@v1', 'slow@v1'], { port: 0 });
    try {
      const res = await fetch(`${s.url}/v2/health/ready`);
      assert.strictEqual(res.status, 503);
      assert.deepStrictEqual(await res.json(), { ready: false });
      assert.strictEqual((await fetch(`${s.url}/v2/health/live`)).status, 200);
      const model = await fetch(`${s.url}/v2/models/slow/ready`);
      assert.strictEqual(model.status, 503);
      assert.deepStrictEqual(await model.json(), { name: 'slow', ready: false });
      const inf = await fetch(`${s.url}/v2/models/slow/infer`, {
        method: 'POST',
        body: JSON.stringify({ inputs: [{ name: 'x', shape: [4], datatype: 'FP32', data: [1, 2, 3, 4] }] }),
      });
      assert.strictEqual(inf.status, 503);
      assert.match(((await inf.json()) as { error: string }).error, /model 'slow' is not ready yet/);
    } finally {
      await s.close();
    }
  });

  it('with a token every route needs Authorization: Bearer; another host gets a generated token', async () => {
    const s = await serve(r, ['affine@v1'], { port: 0, token: 'letmein' });
    try {
      for (const p of ['/v2', '/v2/health/live', '/v2/models/affine', '/v2/nothing']) {
        const res = await fetch(s.url + p);
        assert.strictEqual(res.status, 401, p);
        assert.match(((await res.json()) as { error: string }).error, /needs Authorization: Bearer/);
      }
      assert.strictEqual((await fetch(`${s.url}/v2`, { headers: { Authorization: 'Bearer wrong' } })).status, 401);
      assert.strictEqual((await fetch(`${s.url}/v2`, { headers: { Authorization: 'Bearer letmein' } })).status, 200);
      assert.strictEqual(s.tokenGenerated, false);
    } finally {
      await s.close();
    }
    const open = await serve(r, ['affine@v1'], { port: 0, host: '0.0.0.0' });
    try {
      assert.strictEqual(open.tokenGenerated, true);
      assert.ok(open.token && open.token.length >= 32);
      const url = `http://127.0.0.1:${open.port}`;
      assert.strictEqual((await fetch(`${url}/v2/health/live`)).status, 401);
      const ok = await fetch(`${url}/v2/health/live`, { headers: { Authorization: `Bearer ${open.token}` } });
      assert.strictEqual(ok.status, 200);
    } finally {
      await open.close();
    }
  });

  it('refuses to serve a ref that does not resolve, before listening', async () => {
    await assert.rejects(serve(r, ['affine@v9'], { port: 0 }), /model .affine. has no version v9/);
  });

  it('plugged-in routes and runner: a route beside OIP runs feeds on a served version; events for every request', async () => {
    const events: RequestEvent[] = [];
    const runs: number[] = [];
    const s = await serve(r, ['affine@v1'], {
      port: 0,
      token: 't',
      observe: (e) => events.push(e),
      // Where the batcher goes: every run passes here, the warm-up not (it is the session's own).
      runner: (v) => ({ run: (feeds) => (runs.push(feeds.x.dims[0]), v.session.run(feeds)) }),
      routes: [
        async (ctx) => {
          if (ctx.url.pathname !== '/sum') return undefined;
          if (ctx.method !== 'POST') throw new HttpError(405, '/sum takes POST', { Allow: 'POST' });
          const xs = JSON.parse((await ctx.body()).toString()) as number[];
          const out = await ctx.model().run({ x: { type: 'float32', dims: [1, 3], data: Float32Array.from(xs) } });
          return { status: 200, body: { y: Array.from(out.y.data as Float32Array) } };
        },
      ],
    });
    const auth = { Authorization: 'Bearer t' };
    try {
      const res = await fetch(`${s.url}/sum`, { method: 'POST', body: '[1, 2, 3]', headers: auth });
      assert.deepStrictEqual(await json(res, 200), { y: [1, 2, 3] });
      assert.strictEqual((await fetch(`${s.url}/sum`, { method: 'POST', body: '[1, 2, 3]' })).status, 401);
      assert.strictEqual((await fetch(`${s.url}/sum`, { headers: auth })).status, 405);
      assert.strictEqual((await fetch(`${s.url}/other`, { headers: auth })).status, 404);
      const body = JSON.stringify({
        inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0] }],
      });
      await json(await fetch(`${s.url}/v2/models/affine/infer`, { method: 'POST', body, headers: auth }), 200);
      assert.deepStrictEqual(runs, [1, 2]);
      assert.deepStrictEqual(
        events.map((e) => [e.method, e.path, e.route, e.model, e.version, e.status]),
        [
          ['POST', '/sum', 'unknown', 'affine', '1', 200],
          ['POST', '/sum', 'unknown', undefined, undefined, 401],
          ['GET', '/sum', 'unknown', undefined, undefined, 405],
          ['GET', '/other', 'unknown', undefined, undefined, 404],
          ['POST', '/v2/models/affine/infer', 'infer', 'affine', '1', 200],
        ],
      );
      assert.ok(events[4].inferMs! >= 0 && events[4].ms >= events[4].inferMs!);
    } finally {
      await s.close();
    }
  });

  it('a crashed onnxruntime process answers 500 once, then the version is loaded again and answers', async () => {
    const pids: number[] = [];
    const onSpawn = (p: { pid: number }) => pids.push(p.pid);
    ortProcesses.on('spawn', onSpawn);
    const logs: string[] = [];
    const s = await serve(r, ['affine@v1'], { port: 0, log: (l) => logs.push(l) });
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] });
    const infer = () => fetch(`${s.url}/v2/models/affine/infer`, { method: 'POST', body });
    try {
      assert.strictEqual(pids.length, 1);
      process.kill(pids[0], 'SIGKILL');
      await eventually(() => assert.throws(() => process.kill(pids[0], 0)));
      assert.match((await json(await infer(), 500)).error!, /affine version 1: .*ended.*; it is being loaded again/);
      await eventually(async () => assert.strictEqual((await infer()).status, 200));
      assert.strictEqual(pids.length, 2);
      assert.ok(logs.some((l) => l.includes('affine@v1: loaded again')));
    } finally {
      ortProcesses.off('spawn', onSpawn);
      await s.close();
    }
  });

  it('closing lets a request in flight finish, then refuses connections', async () => {
    const s = await serve(r, ['affine@v1'], { port: 0 });
    const body = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }),
    );
    let upload!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({ start: (c) => void (upload = c) });
    const answer = fetch(`${s.url}/v2/models/affine/infer`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    // Half the body sent: the server is handling the request when it is told to close.
    upload.enqueue(body.subarray(0, 20));
    await eventually(() => assert.strictEqual(s.stats().active, 1));
    const closing = s.close();
    upload.enqueue(body.subarray(20));
    upload.close();
    const res = await answer;
    assert.deepStrictEqual(((await json(res, 200)).outputs as { data: number[] }[])[0].data, [1, 2, 3]);
    await closing;
    await assert.rejects(fetch(`${s.url}/v2/health/live`));
  });
});

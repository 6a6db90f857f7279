// Serving benchmark (not a test): `modelreg serve` (serve() with servingFeatures: the dynamic batcher,
// metrics, MLflow routes) answering OIP JSON infer requests of one row over HTTP, against a bare loop
// on one OrtSession (the same child-process onnxruntime the server runs, session.run of one row, no
// HTTP, no JSON), both measured in the same run at 1, 8 and 64 concurrent callers. The model is a small
// MLP with a dynamic batch axis (x [batch, 64] → MatMul 64×256 → Relu → MatMul 256×10 → y), written with
// the unit tests' ONNX helpers (out/test/unit/helpers/onnxModels.js, from `npm run compile`). Also: the
// server without batching (maxBatch 1), the HTTP floor (a bare node:http server parsing the same JSON,
// no model), and the time to ready (serve() resolving) against OrtSession.create + one run. The HTTP
// clients (node:http, keep-alive) run on a worker thread, as another process's clients would not share
// the server's event loop. Only ratios to the references are meaningful across machines.
// BENCH_SERVE_SECONDS (default 2.5) per line, after a warm-up of a fifth of that; BENCH_SERVE_HIDDEN
// (default 256) widens the hidden layer, for a model whose compute outweighs HTTP.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { createRequire } from 'module';
import { fileURLToPath } from 'url';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';

const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 2.5);
const WARMUP = SECONDS / 5;
const IN = 64;
const HIDDEN = Number(process.env.BENCH_SERVE_HIDDEN ?? 256);
const OUT = 10;
const CONCURRENCY = [1, 8, 64];

/** `concurrency` callers each awaiting `call()` in turn for `seconds`: requests/s and the latencies (ms). */
async function load(call, concurrency, seconds) {
  const latencies = [];
  let failures = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (await call()) latencies.push(performance.now() - t);
        else failures++;
      }
    }),
  );
  return { rps: latencies.length / ((performance.now() - t0) / 1000), latencies, failures };
}

if (!isMainThread) {
  // The HTTP load generator: one row per request, OIP JSON, on keep-alive connections. node:http rather
  // than fetch: fetch (undici) tops out near 2k req/s on this kind of machine against a server that does
  // nothing, so it would measure itself; node:http does several times that.
  const { url, body } = workerData;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
  const call = () =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  parentPort.on('message', async ({ concurrency, seconds, warmup }) => {
    await load(call, concurrency, warmup);
    const r = await load(call, concurrency, seconds);
    parentPort.postMessage({ rps: r.rps, latencies: Float64Array.from(r.latencies), failures: r.failures });
  });
} else {
  const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const require = createRequire(import.meta.url);
  const core = require(path.join(repo, 'out/src/core/index.js'));
  const { OrtSession } = require(path.join(repo, 'out/src/core/onnxrt/session.js'));
  const { modelBytes, node, vi, floatTensor, FLOAT } = require(path.join(repo, 'out/test/unit/helpers/onnxModels.js'));

  const rng = (seed) => () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5;
  const r = rng(3);
  const weights = (rows, cols) => Array.from({ length: rows * cols }, () => r() * 0.2);
  const mlp = modelBytes({
    name: 'bench_mlp',
    node: [node('MatMul', ['x', 'W1'], ['h']), node('Relu', ['h'], ['a']), node('MatMul', ['a', 'W2'], ['y'])],
    initializer: [
      floatTensor('W1', [IN, HIDDEN], weights(IN, HIDDEN)),
      floatTensor('W2', [HIDDEN, OUT], weights(HIDDEN, OUT)),
    ],
    input: [vi('x', FLOAT, ['batch', IN])],
    output: [vi('y', FLOAT, ['batch', OUT])],
  });

  const work = mkdtempSync(path.join(os.tmpdir(), 'modelreg-bench-serve-'));
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const pct = (xs, p) => {
    const s = Float64Array.from(xs).sort();
    return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
  };
  const row = Array.from({ length: IN }, (_, i) => Math.sin(i));

  try {
    const modelDir = path.join(work, 'output');
    mkdirSync(modelDir);
    const onnxFile = path.join(modelDir, 'model.onnx');
    writeFileSync(onnxFile, mlp);
    const registry = await core.Registry.open(path.join(work, 'registry'));
    await core.importTrainingOutput(registry, modelDir, { model: 'm' });

    // ---- time to ready: OrtSession.create + one run (the floor) vs serve() resolving; median of 3 each
    const feeds = { x: { type: 'float32', dims: [1, IN], data: Float32Array.from(row) } };
    const startup = { bare: [], serve: [] };
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      const s = await OrtSession.create(onnxFile);
      await s.run(feeds);
      startup.bare.push(performance.now() - t);
      await s.release();
      t = performance.now();
      const h = await core.serve(
        registry,
        ['m@v1'],
        core.servingFeatures({ port: 0, maxBatch: 64, batchDelayMs: 2 }).options,
      );
      startup.serve.push(performance.now() - t);
      await h.close();
    }

    // ---- the reference: one OrtSession, session.run of one row, by 1, 8 and 64 callers at once
    const session = await OrtSession.create(onnxFile);
    const bare = {};
    for (const c of CONCURRENCY) {
      const call = async () => (await session.run(feeds)).y.dims[0] === 1;
      await load(call, c, WARMUP);
      bare[c] = await load(call, c, SECONDS);
    }
    await session.release();

    // ---- over HTTP, clients on a worker thread: the server batched (maxBatch 64, 2 ms) and not
    // (maxBatch 1); and the HTTP floor, a bare node:http server that parses the same JSON and answers
    // a fixed body of the same shape, no model (what any Node server pays before inference)
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, IN], datatype: 'FP32', data: row }] });
    const counter = (text, name) =>
      [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} ([0-9.e+]+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
    async function drive(url, concurrencies, metrics) {
      const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { url, body } });
      const out = {};
      try {
        for (const c of concurrencies) {
          const before = metrics?.render() ?? '';
          const res = await new Promise((resolve, reject) => {
            worker.once('message', resolve);
            worker.once('error', reject);
            worker.postMessage({ concurrency: c, seconds: SECONDS, warmup: WARMUP });
          });
          const after = metrics?.render() ?? '';
          const rows = counter(after, 'nv_inference_count') - counter(before, 'nv_inference_count');
          const runs = counter(after, 'nv_inference_exec_count') - counter(before, 'nv_inference_exec_count');
          out[c] = { ...res, batch: runs ? rows / runs : NaN };
        }
      } finally {
        await worker.terminate();
      }
      return out;
    }
    async function server(maxBatch, concurrencies) {
      const features = core.servingFeatures({ port: 0, maxBatch, batchDelayMs: 2 });
      const h = await core.serve(registry, ['m@v1'], features.options);
      try {
        return await drive(`${h.url}/v2/models/m/infer`, concurrencies, features.metrics);
      } finally {
        await h.close();
      }
    }
    const batched = await server(64, CONCURRENCY);
    const unbatched = await server(1, [1, 64]);
    await registry.close();

    const answer = Buffer.from(
      JSON.stringify({
        model_name: 'm',
        model_version: '1',
        outputs: [{ name: 'y', datatype: 'FP32', shape: [1, OUT], data: row.slice(0, OUT) }],
      }),
    );
    const floorServer = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString());
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': answer.length });
        res.end(answer);
      });
    });
    await new Promise((resolve) => floorServer.listen(0, '127.0.0.1', resolve));
    const floor = await drive(`http://127.0.0.1:${floorServer.address().port}/`, [1, 64]);
    floorServer.closeAllConnections();
    await new Promise((resolve) => floorServer.close(resolve));

    // ---- the table
    const ms = (x) => `${x.toFixed(2).padStart(6)} ms`;
    const rps = (x) => `${x.toFixed(0).padStart(6)} req/s`;
    const cell = (x) => `${rps(x.rps)}  p50 ${ms(pct(x.latencies, 50))}  p95 ${ms(pct(x.latencies, 95))}`;
    console.log(
      `\nServe: an MLP ${IN}→${HIDDEN}→${OUT} (FP32, dynamic batch), OIP JSON requests of one row, ${SECONDS} s per line after ${WARMUP} s of warm-up, ${os.cpus().length} CPUs`,
    );
    console.log(`  reference = a bare loop of OrtSession.run (one row) on one session, the same callers at once`);
    for (const c of CONCURRENCY) {
      const b = bare[c];
      console.log(`  ${c} concurrent caller${c > 1 ? 's' : ''}`);
      console.log(`    ${'bare session.run'.padEnd(16)} ${cell(b)}`);
      const lines = [['serve batched', batched[c]]];
      if (unbatched[c]) lines.push(['serve maxBatch 1', unbatched[c]]);
      if (floor[c]) lines.push(['HTTP floor', floor[c]]);
      for (const [label, s] of lines) {
        const fails = s.failures ? `  ${s.failures} failed` : '';
        const batch = Number.isNaN(s.batch) ? '(no model)' : `batch ${s.batch.toFixed(1).padStart(4)} rows`;
        console.log(
          `    ${label.padEnd(16)} ${cell(s)}  ${(s.rps / b.rps).toFixed(2).padStart(5)}× bare  ${batch}${fails}`,
        );
      }
    }
    const gain = batched[64].rps / unbatched[64].rps;
    console.log(
      `  batching at 64 clients: ${gain.toFixed(2)}× the throughput of maxBatch 1; serve batched / HTTP floor ${(batched[64].rps / floor[64].rps).toFixed(2)}×`,
    );
    console.log(
      `  at 1 client, serve (maxBatch 1) adds +${(pct(unbatched[1].latencies, 50) - pct(bare[1].latencies, 50)).toFixed(2)} ms p50 to the bare run (the HTTP floor alone: ${pct(floor[1].latencies, 50).toFixed(2)} ms); the 2 ms batch delay adds +${(pct(batched[1].latencies, 50) - pct(unbatched[1].latencies, 50)).toFixed(2)} ms`,
    );
    const [sb, ss] = [median(startup.bare), median(startup.serve)];
    console.log(
      `  time to ready: serve() ${ss.toFixed(0)} ms   OrtSession.create + one run ${sb.toFixed(0)} ms   ${(ss / sb).toFixed(2)}× (median of 3)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * What `modelreg serve` adds to the OIP server (server.ts) through its plug-in points:
 * - `runner`: the dynamic batcher (batcher.ts) for versions whose inputs and outputs all have a
 *   dynamic first axis, when maxBatch > 1; otherwise each request runs on its own;
 * - `observe` and the batcher's hook: the Prometheus metrics (metrics.ts), served at `GET /metrics`;
 * - `routes`: MLflow's `POST /invocations` and `GET /ping` (mlflow.ts), on the first version given.
 *
 *   const features = servingFeatures({ maxBatch: 16, batchDelayMs: 2 });
 *   const server = await serve(registry, refs, features.options);
 *   features.metrics.summary(); // requests, failures, p50/p95 per model and version
 */
import type { TensorData, ValueMeta } from '../onnxrt/protocol';
import { OrtError } from '../onnxrt/session';
import { BatcherClosedError, DynamicBatcher, QueueFullError, TensorShapeError } from './batcher';
import { METRICS_CONTENT_TYPE, ServeMetrics } from './metrics';
import { formatPredictions, InvocationError, parseInvocation } from './mlflow';
import { ExtraRoute, HttpError, LoadedVersion, refusedInputs, Runner, ServeOptions } from './server';

/** Requests that may wait for a batch, per version, before the server answers 503. */
export const DEFAULT_MAX_QUEUE = 1024;

/** A dimension that takes any size: a symbolic name, −1, or '' (how onnxruntime reports dim_value −1). */
const dynamic = (d: number | string | undefined) => typeof d === 'string' || (typeof d === 'number' && d < 0);

/** Batching splits outputs along axis 0: every input and output must have a dynamic first axis. */
export function batchable(inputs: ValueMeta[], outputs: ValueMeta[]): boolean {
  return [...inputs, ...outputs].every((m) => m.isTensor && m.shape.length > 0 && dynamic(m.shape[0]));
}

const rowsOf = (feeds: Record<string, TensorData>) => Object.values(feeds)[0]?.dims[0] ?? 1;

export function servingFeatures(opts: ServeOptions & { maxQueue?: number } = {}): {
  options: ServeOptions;
  metrics: ServeMetrics;
} {
  const metrics = new ServeMetrics();
  const maxBatch = opts.maxBatch ?? 1;

  const runner = (v: LoadedVersion): Runner => {
    metrics.track(v.name, v.version);
    const direct = async (feeds: Record<string, TensorData>) => {
      const t0 = performance.now();
      const out = await v.session.run(feeds);
      metrics.execution(v.name, v.version, rowsOf(feeds), performance.now() - t0);
      return out;
    };
    if (maxBatch <= 1 || !batchable(v.inputs, v.outputs)) return { run: direct };
    const batcher = new DynamicBatcher(
      { maxBatch, delayMs: opts.batchDelayMs ?? 0, maxQueue: opts.maxQueue ?? DEFAULT_MAX_QUEUE },
      (feeds) => v.session.run(feeds),
      {
        onExecution(rows, requests, queueMs, computeMs) {
          for (const ms of queueMs) metrics.queued(v.name, v.version, ms);
          metrics.execution(v.name, v.version, rows, computeMs, requests);
        },
      },
    );
    return {
      run: (feeds) =>
        batcher.submit(feeds).catch((e: unknown) => {
          // The server's own answers for what the batcher refuses; onnxruntime's errors pass as they are.
          if (e instanceof QueueFullError) throw new HttpError(503, e.message, { 'Retry-After': '1' });
          if (e instanceof BatcherClosedError)
            throw new HttpError(503, `${v.name} version ${v.version} is being replaced`);
          if (e instanceof TensorShapeError) throw new HttpError(400, e.message);
          throw e;
        }),
      close: () => batcher.close(),
    };
  };

  const routes: ExtraRoute[] = [
    (ctx) => {
      if (ctx.url.pathname !== '/metrics') return undefined;
      if (ctx.method !== 'GET') throw new HttpError(405, 'use GET /metrics', { Allow: 'GET' });
      return { status: 200, body: Buffer.from(metrics.render()), headers: { 'Content-Type': METRICS_CONTENT_TYPE } };
    },
    (ctx) => {
      if (ctx.url.pathname !== '/ping') return undefined;
      if (ctx.method !== 'GET') throw new HttpError(405, 'use GET /ping', { Allow: 'GET' });
      ctx.model(); // 503 until the first version is ready
      return { status: 200, body: Buffer.from('\n'), headers: { 'Content-Type': 'application/json' } };
    },
    async (ctx) => {
      if (ctx.url.pathname !== '/invocations') return undefined;
      if (ctx.method !== 'POST') throw new HttpError(405, 'use POST /invocations', { Allow: 'POST' });
      const v = ctx.model();
      ctx.event.model = v.name;
      ctx.event.version = v.version;
      const body = await ctx.body();
      let feeds: Record<string, TensorData>;
      try {
        feeds = parseInvocation(body, String(ctx.headers['content-type'] ?? ''), v.inputs);
      } catch (e) {
        if (e instanceof InvocationError) throw new HttpError(e.status, e.message);
        throw e;
      }
      try {
        return { status: 200, body: formatPredictions(await v.run(feeds)) };
      } catch (e) {
        if (e instanceof OrtError) throw refusedInputs(v, e);
        throw e;
      }
    },
  ];

  return {
    metrics,
    options: {
      ...opts,
      runner: opts.runner ?? runner,
      observe: (e) => {
        // Inference: OIP's infer, and the routes plugged in that run a model (/invocations, the model's own API).
        if (e.model && e.version && (e.route === 'infer' || e.route === 'unknown'))
          metrics.request(e.model, e.version, e.status < 400, e.ms);
        opts.observe?.(e);
      },
      routes: [...(opts.routes ?? []), ...routes],
    },
  };
}

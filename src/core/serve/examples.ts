/**
 * Examples as a regression check: a request is sent to a version and kept with its answer
 * (recordExample, or the request panel saving what it got); replayExamples sends the same requests
 * to another version and tells, per example, whether every output is the same within a tolerance.
 * Both go through a real server (serve on a free loopback port), so an example means exactly what a
 * client of `modelreg serve` would see.
 */
import { InputError, RegistryError } from '../errors';
import type { Registry } from '../registry/registry';
import type { VersionExample, VersionRecord } from '../registry/types';
import { MAX_EXAMPLE_BYTES } from '../registry/examples';
import { parseJsonBounded } from '../util/json';
import { readRegularText } from '../util/readFile';
import { serve, ServerHandle } from './server';

/** Outputs match when |got − saved| ≤ tolerance · max(1, |saved|): absolute near zero, relative beyond. */
export const DEFAULT_TOLERANCE = 1e-4;

interface OutputTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export interface ExampleComparison {
  same: boolean;
  /** The largest |got − saved| over numeric outputs (0 when there are none). */
  maxDiff: number;
  /** What differs, one line each (empty when same). */
  differences: string[];
}

export interface ReplayResult extends ExampleComparison {
  name: string;
  /** Set when the request itself failed (an HTTP error from the version replayed on). */
  error?: string;
  ms: number;
}

const flat = (data: unknown): unknown[] => (Array.isArray(data) ? (data.flat(Infinity) as unknown[]) : [data]);

function outputsOf(answer: unknown): OutputTensor[] {
  const outputs = (answer as { outputs?: unknown })?.outputs;
  if (!Array.isArray(outputs)) throw new RegistryError('the answer has no "outputs"');
  return outputs as OutputTensor[];
}

/** Compares a saved answer's outputs with a new one's, output by output (by name). */
export function compareAnswers(saved: unknown, got: unknown, tolerance = DEFAULT_TOLERANCE): ExampleComparison {
  const differences: string[] = [];
  let maxDiff = 0;
  const gotByName = new Map(outputsOf(got).map((o) => [o.name, o]));
  for (const s of outputsOf(saved)) {
    const g = gotByName.get(s.name);
    if (!g) {
      differences.push(`output '${s.name}' is missing (got ${[...gotByName.keys()].join(', ') || 'none'})`);
      continue;
    }
    if (JSON.stringify(s.shape) !== JSON.stringify(g.shape)) {
      differences.push(`output '${s.name}' has shape [${g.shape}], the example's has [${s.shape}]`);
      continue;
    }
    const a = flat(s.data);
    const b = flat(g.data);
    if ((s.datatype === 'BYTES') !== (g.datatype === 'BYTES')) {
      differences.push(`output '${s.name}' is ${g.datatype}, the example's is ${s.datatype}`);
      continue;
    }
    if (s.datatype === 'BYTES') {
      const at = a.findIndex((x, i) => x !== b[i]);
      if (at >= 0 || a.length !== b.length)
        differences.push(`output '${s.name}' differs at element ${at >= 0 ? at : Math.min(a.length, b.length)}`);
      continue;
    }
    let worst = -1;
    let worstDiff = -1;
    let over = 0;
    for (let i = 0; i < a.length; i++) {
      const x = Number(a[i]);
      const y = Number(b[i]);
      // NaN on one side only is a difference as large as any; booleans compare as 0/1.
      const d =
        Number.isNaN(x) || Number.isNaN(y) ? (Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity) : Math.abs(y - x);
      if (d === Infinity || d > tolerance * Math.max(1, Math.abs(x))) {
        over++;
        if (d > worstDiff) [worst, worstDiff] = [i, d];
      }
      if (d > maxDiff) maxDiff = d;
    }
    if (a.length !== b.length)
      differences.push(`output '${s.name}' has ${b.length} values, the example's has ${a.length}`);
    else if (over)
      differences.push(
        `output '${s.name}': ${over} of ${a.length} values differ by more than the tolerance ${tolerance}; the most at element ${worst}: ${a[worst]} became ${b[worst]}`,
      );
    if (s.datatype !== g.datatype)
      differences.push(
        `output '${s.name}' is ${g.datatype}, the example's is ${s.datatype}`.concat(
          over ? '' : ' (values within the tolerance)',
        ),
      );
  }
  return { same: differences.length === 0, maxDiff, differences };
}

/** Sends an OIP infer request to the version a server serves; the JSON answer, or an error naming the status. */
async function infer(server: ServerHandle, v: VersionRecord, request: unknown): Promise<unknown> {
  const res = await fetch(`${server.url}/v2/models/${encodeURIComponent(v.model)}/versions/${v.number}/infer`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(server.token ? { Authorization: `Bearer ${server.token}` } : {}),
    },
    body: JSON.stringify(request),
  });
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/json'))
    throw new RegistryError(
      `${v.ref} answered with ${type || 'no content type'}; examples keep JSON answers (no binary_data outputs)`,
    );
  const body = (await res.json()) as { error?: string };
  if (res.status !== 200)
    throw new RegistryError(`${v.ref} refused the request (HTTP ${res.status}): ${body.error ?? 'no message'}`);
  return body;
}

/** Serves the version (pinned, on a free loopback port) for the length of `fn`. */
async function withServer<T>(registry: Registry, v: VersionRecord, fn: (s: ServerHandle) => Promise<T>): Promise<T> {
  const server = await serve(registry, [v.ref], { port: 0 });
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

/** Sends `request` to the version `ref` names now and keeps it with the answer as example `name`. */
export async function recordExample(
  registry: Registry,
  ref: string,
  name: string,
  request: VersionExample['request'],
  opts: { replace?: boolean } = {},
): Promise<VersionExample> {
  const v = await registry.resolve(ref); // an alias is pinned: the example belongs to the version it named
  if (!Array.isArray(request?.inputs))
    throw new RegistryError(
      `example '${name}': the request has no "inputs" (an Open Inference Protocol infer request)`,
    );
  const response = await withServer(registry, v, (s) => infer(s, v, request));
  return registry.saveExample(v.ref, { name, request, response: response as VersionExample['response'] }, opts);
}

/** Replays examples on the version `onRef` names; one result per example, in the order given. */
export async function replayExamples(
  registry: Registry,
  examples: VersionExample[],
  onRef: string,
  tolerance = DEFAULT_TOLERANCE,
): Promise<{ on: VersionRecord; results: ReplayResult[] }> {
  if (!(tolerance >= 0)) throw new RegistryError(`the tolerance must be a number ≥ 0, got ${tolerance}`);
  const on = await registry.resolve(onRef);
  const results = await withServer(registry, on, async (server) => {
    const out: ReplayResult[] = [];
    for (const e of examples) {
      const start = performance.now();
      try {
        const got = await infer(server, on, e.request);
        out.push({ name: e.name, ...compareAnswers(e.response, got, tolerance), ms: performance.now() - start });
      } catch (err) {
        const error = (err as Error).message;
        out.push({ name: e.name, same: false, maxDiff: 0, differences: [error], error, ms: performance.now() - start });
      }
    }
    return out;
  });
  return { on, results };
}

/** An OIP infer request from a JSON file (`-` is not accepted: examples are files you keep). */
export async function readInferRequest(file: string): Promise<VersionExample['request']> {
  const text = await readRegularText(file, { maxBytes: MAX_EXAMPLE_BYTES });
  const req = parseJsonBounded(text, file, { what: 'the request' }) as VersionExample['request'];
  if (typeof req !== 'object' || req === null || !Array.isArray(req.inputs) || req.inputs.length === 0)
    throw new InputError(
      file,
      'is not an Open Inference Protocol infer request: expected {"inputs": [{"name", "shape", "datatype", "data"}, …]}',
    );
  return req;
}

/**
 * The Open Inference Protocol v2 over REST (kserve/open-inference-protocol,
 * specification/protocol/inference_rest.md): which route a request names, the bodies of metadata
 * answers, and an inference request read into onnxruntime feeds and its outputs back into a response,
 * with Triton's binary tensor extension. No sockets here: server.ts does the HTTP.
 */
import type { TensorData, ValueMeta } from '../onnxrt/protocol';
import {
  binaryInputs,
  decodeInput,
  encodeOutput,
  OipTensor,
  oipDatatype,
  oipShape,
  splitBinaryBody,
  TensorError,
} from './tensors';

export const PLATFORM = 'onnx_onnxv1';
export const EXTENSIONS = ['binary_tensor_data'];
/** The request and response header of the binary tensor extension. */
export const HEADER_LENGTH = 'inference-header-content-length';

export type Route =
  | { kind: 'server'; allow: 'GET' }
  | { kind: 'live'; allow: 'GET' }
  | { kind: 'ready'; allow: 'GET' }
  | { kind: 'model'; allow: 'GET'; model: string; version?: string }
  | { kind: 'modelReady'; allow: 'GET'; model: string; version?: string }
  | { kind: 'infer'; allow: 'POST'; model: string; version?: string };

/** The route a path names (whatever the method: a wrong method is 405, an unknown path 404); undefined for none. */
export function matchRoute(pathname: string): Route | undefined {
  const p = pathname.replace(/\/+$/, '');
  if (p === '/v2') return { kind: 'server', allow: 'GET' };
  if (p === '/v2/health/live') return { kind: 'live', allow: 'GET' };
  if (p === '/v2/health/ready') return { kind: 'ready', allow: 'GET' };
  const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer))?$/.exec(p);
  if (!m) return undefined;
  let model: string, version: string | undefined;
  try {
    model = decodeURIComponent(m[1]);
    version = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  } catch {
    return undefined;
  }
  if (m[3] === 'infer') return { kind: 'infer', allow: 'POST', model, version };
  if (m[3] === 'ready') return { kind: 'modelReady', allow: 'GET', model, version };
  return { kind: 'model', allow: 'GET', model, version };
}

export interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

/** A model input or output as model metadata lists it (−1 for a dynamic dimension). */
export function metadataTensor(v: ValueMeta): MetadataTensor {
  return { name: v.name, datatype: oipDatatype(v.type) ?? String(v.type ?? 'unknown'), shape: oipShape(v.shape) };
}

export interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: OipTensor[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}

/** What a request asks of a model, checked against it: the feeds, and which outputs to return and how. */
export interface ParsedInfer {
  id?: string;
  parameters?: Record<string, unknown>;
  feeds: Record<string, TensorData>;
  /** Output names in answer order, each with whether it goes back in binary. */
  outputs: { name: string; binary: boolean }[];
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Position N from JSON.parse's message, which in Node 20 otherwise quotes the text around it. */
function jsonError(e: unknown): TensorError {
  const at = /position (\d+)/.exec(String((e as Error)?.message));
  return new TensorError(`the request body is not valid JSON${at ? ` (at byte ${at[1]})` : ''}`);
}

/**
 * Reads an inference request for a model with these inputs and outputs. `headerLength` is the
 * `Inference-Header-Content-Length` request header when the body carries binary tensors.
 */
export function parseInfer(
  body: Buffer,
  headerLength: string | undefined,
  model: { label: string; inputs: ValueMeta[]; outputs: ValueMeta[] },
): ParsedInfer {
  const { json, rest } =
    headerLength === undefined ? { json: body, rest: Buffer.alloc(0) } : splitBinaryBody(body, headerLength);
  let req: unknown;
  try {
    req = JSON.parse(json.toString('utf8'));
  } catch (e) {
    throw jsonError(e);
  }
  if (!isObject(req)) throw new TensorError('the request body must be a JSON object with "inputs"');
  if (req.id !== undefined && typeof req.id !== 'string') throw new TensorError('"id" must be a string');
  if (req.parameters !== undefined && !isObject(req.parameters))
    throw new TensorError('"parameters" must be an object of name/value pairs');
  if (!Array.isArray(req.inputs) || req.inputs.length === 0)
    throw new TensorError(
      `"inputs" must be a non-empty array of tensors; ${model.label} takes ${model.inputs.map((i) => `'${i.name}'`).join(', ')}`,
    );
  const inputs = req.inputs as unknown[];
  for (const t of inputs) {
    if (!isObject(t) || typeof t.name !== 'string') throw new TensorError('each input must be an object with a "name"');
    if (t.parameters !== undefined && !isObject(t.parameters))
      throw new TensorError(`input '${t.name}': "parameters" must be an object`);
  }
  const tensors = inputs as OipTensor[];
  const binaries = binaryInputs(tensors, rest);
  const byName = new Map(model.inputs.map((m) => [m.name, m]));
  const feeds: Record<string, TensorData> = {};
  for (const t of tensors) {
    const meta = byName.get(t.name);
    if (!meta)
      throw new TensorError(
        `${model.label} has no input '${t.name.slice(0, 100)}'; its inputs: ${model.inputs.map((i) => `'${i.name}'`).join(', ')}`,
      );
    if (feeds[t.name]) throw new TensorError(`input '${t.name}' is given twice`);
    feeds[t.name] = decodeInput(t, meta, model.label, binaries.get(t));
  }
  const missing = model.inputs.filter((m) => !feeds[m.name]);
  if (missing.length)
    throw new TensorError(
      `${model.label} needs input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m.name}'`).join(', ')}, which the request lacks`,
    );

  const allBinary = (req.parameters as Record<string, unknown> | undefined)?.binary_data_output === true;
  let outputs: ParsedInfer['outputs'];
  if (req.outputs === undefined) outputs = model.outputs.map((o) => ({ name: o.name, binary: allBinary }));
  else {
    if (!Array.isArray(req.outputs)) throw new TensorError('"outputs" must be an array of {"name": ...}');
    const known = new Set(model.outputs.map((o) => o.name));
    outputs = (req.outputs as unknown[]).map((o) => {
      if (!isObject(o) || typeof o.name !== 'string') throw new TensorError('each requested output must have a "name"');
      if (o.parameters !== undefined && !isObject(o.parameters))
        throw new TensorError(`output '${o.name}': "parameters" must be an object`);
      if (!known.has(o.name))
        throw new TensorError(
          `${model.label} has no output '${o.name.slice(0, 100)}'; its outputs: ${model.outputs.map((m) => `'${m.name}'`).join(', ')}`,
        );
      const own = (o.parameters as Record<string, unknown> | undefined)?.binary_data;
      return { name: o.name, binary: typeof own === 'boolean' ? own : allBinary };
    });
  }
  return {
    id: req.id as string | undefined,
    parameters: req.parameters as Record<string, unknown> | undefined,
    feeds,
    outputs,
  };
}

/**
 * The response body: JSON alone, or (when an output is binary) the JSON header followed by the
 * binary outputs in order, with `headerLength` for the `Inference-Header-Content-Length` response header.
 */
export function inferResponse(
  model: string,
  version: string,
  parsed: ParsedInfer,
  results: Record<string, TensorData>,
): { body: Buffer; headerLength?: number } {
  const parts = parsed.outputs.map((o) => {
    const t = results[o.name];
    if (!t) throw new Error(`the model did not produce output '${o.name}'`);
    return encodeOutput(o.name, t, o.binary);
  });
  const head: Record<string, unknown> = { model_name: model, model_version: version };
  if (parsed.id !== undefined) head.id = parsed.id;
  const json = Buffer.from(`${JSON.stringify(head).slice(0, -1)},"outputs":[${parts.map((p) => p.json).join(',')}]}`);
  const bytes = parts.flatMap((p) => (p.bytes ? [p.bytes] : []));
  if (bytes.length === 0) return { body: json };
  return { body: Buffer.concat([json, ...bytes]), headerLength: json.length };
}

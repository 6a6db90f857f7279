/**
 * The model's own API, from its config.json `apis` (ModelArts' shape: protocol, url, method, and JSON
 * Schemas of the request and response bodies). For an image classifier, the API takes an image,
 * as a multipart upload or base64 in JSON, and answers with labels and scores. The image is
 * preprocessed, scored and labelled as the evaluator does it: the version's `preprocessing`, its
 * labels, softmax unless the outputs are already probabilities. Requests and answers are checked
 * against the declared schemas.
 * It serves the first ref given (as /invocations does) and follows it when an alias moves.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import { imageShape, preprocessFromConfig, preprocessImageBytes } from '../datasets/samples';
import { modelLabels, versionConfig } from '../evaluate/evaluate';
import { toProbabilities } from '../evaluate/metrics';
import { InputError } from '../errors';
import { OrtError } from '../onnxrt/session';
import type { Registry } from '../registry/registry';
import { metadataTensor } from './oip';
import { rankClasses, takesImage } from './requestInputs';
import { ExtraRoute, HttpError, LoadedVersion, refusedInputs } from './server';

interface ApiSpec {
  url: string;
  method: string;
  request: { 'Content-type': string; data: object };
  response: { 'Content-type': string; data: object };
}

/** What a version's config declares, ready to answer: its APIs with compiled schemas, its labels and preprocessing. */
interface VersionApis {
  apis: { spec: ApiSpec; index: number; request: ValidateFunction; response: ValidateFunction }[];
  labels?: string[];
  config: unknown;
  /** Why the APIs are not served (said once in the log), e.g. a model that does not take an image. */
  skipped?: string;
}

/** How many labelled scores an answer lists, best first. */
const TOP = 5;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function compileApis(config: unknown, v: LoadedVersion): VersionApis {
  const declared = isObject(config) && Array.isArray(config.apis) ? config.apis : [];
  const ajv = new Ajv({ strict: false, allErrors: false, formats: { binary: true, byte: true } });
  const apis: VersionApis['apis'] = [];
  declared.forEach((a: unknown, index) => {
    const s = a as ApiSpec;
    if (!isObject(a) || typeof s.url !== 'string' || !isObject(s.request) || !isObject(s.response)) return;
    try {
      apis.push({
        spec: s,
        index,
        request: ajv.compile(s.request.data ?? {}),
        response: ajv.compile(s.response.data ?? {}),
      });
    } catch (e) {
      throw new InputError(
        'config.json',
        `apis[${index}] of ${v.record.ref} has a schema that does not compile: ${(e as Error).message}`,
      );
    }
  });
  const skipped =
    apis.length && !takesImage(v.inputs.map(metadataTensor))
      ? `${v.record.ref}: config.json declares apis, but modelreg serve answers them for image models only (one input of 4 axes with 3 channels); use /v2 or /invocations`
      : undefined;
  return { apis: skipped ? [] : apis, labels: modelLabels(config), config, skipped };
}

/** The first field of a schema's properties that holds the image: binary (multipart) or base64 (JSON). */
function imageField(schema: object): string | undefined {
  const props =
    (schema as { properties?: Record<string, { format?: string; contentEncoding?: string }> }).properties ?? {};
  return Object.keys(props).find(
    (k) => props[k]?.format === 'binary' || props[k]?.format === 'byte' || props[k]?.contentEncoding === 'base64',
  );
}

/** The request's fields: multipart form fields (a file as its bytes), or a JSON object's (base64 images decoded). */
async function readFields(
  body: Buffer,
  contentType: string,
  image: string,
): Promise<{ check: Record<string, unknown>; bytes: Buffer; name: string }> {
  if (contentType.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'Content-Type': contentType } }).formData();
    } catch (e) {
      throw new HttpError(400, `the multipart body cannot be read: ${(e as Error).message}`);
    }
    const check: Record<string, unknown> = {};
    let file: File | undefined;
    for (const [k, value] of form.entries()) {
      if (typeof value === 'string') check[k] = value;
      else {
        check[k] = value.name || k; // a file stands as its name: "format": "binary" strings
        if (k === image) file = value;
      }
    }
    if (!file) throw new HttpError(400, `the form has no file field '${image}' (the image)`);
    return { check, bytes: Buffer.from(await file.arrayBuffer()), name: file.name || image };
  }
  if (contentType.startsWith('application/json') || contentType === '') {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new HttpError(400, `the body is not JSON: ${(e as Error).message}`);
    }
    if (!isObject(json)) throw new HttpError(400, 'the body must be a JSON object');
    const value = json[image];
    if (typeof value !== 'string') throw new HttpError(400, `field '${image}' must be the image as a base64 string`);
    return { check: json, bytes: Buffer.from(value.replace(/^data:[^,]*,/, ''), 'base64'), name: image };
  }
  throw new HttpError(
    415,
    `send the image as multipart/form-data or as base64 in application/json, not ${contentType}`,
  );
}

const schemaErrors = (f: ValidateFunction) =>
  (f.errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '(body)'} ${e.message}`)
    .join('; ');

/** The route answering every API the served version's config declares. */
export function modelApiRoute(registry: Registry, log: (line: string) => void = () => undefined): ExtraRoute {
  const cache = new Map<number, Promise<VersionApis>>();
  const told = new Set<number>();
  return async (ctx) => {
    let v: LoadedVersion;
    try {
      v = ctx.model();
    } catch {
      return undefined; // nothing ready: the OIP routes' 404/503 say so
    }
    let apis = cache.get(v.record.id);
    if (!apis) cache.set(v.record.id, (apis = versionConfig(registry, v.record).then((c) => compileApis(c, v))));
    const declared = await apis;
    if (declared.skipped && !told.has(v.record.id)) {
      told.add(v.record.id);
      log(`note: ${declared.skipped}`);
    }
    const api = declared.apis.find((a) => a.spec.url === ctx.url.pathname);
    if (!api) return undefined;
    if (ctx.method.toLowerCase() !== String(api.spec.method).toLowerCase())
      throw new HttpError(405, `use ${String(api.spec.method).toUpperCase()} ${api.spec.url}`, {
        Allow: String(api.spec.method).toUpperCase(),
      });
    ctx.event.model = v.name;
    ctx.event.version = v.version;
    const where = `config.json apis[${api.index}]`;
    const image = imageField(api.spec.request.data);
    if (!image)
      throw new HttpError(
        501,
        `${where}: its request schema names no image field (a property with "format": "binary" or "contentEncoding": "base64")`,
      );

    const fields = await readFields(await ctx.body(), String(ctx.headers['content-type'] ?? ''), image);
    if (!api.request(fields.check))
      throw new HttpError(400, `the request does not match ${where}.request.data: ${schemaErrors(api.request)}`);
    const input = v.inputs[0];
    const pre = preprocessFromConfig(declared.config, metadataTensor(input).shape);
    let pixels: Float32Array;
    try {
      pixels = preprocessImageBytes(fields.name, fields.bytes, pre);
    } catch (e) {
      throw new HttpError(400, (e as Error).message);
    }
    const dims = [1, ...imageShape(pre)];
    let out;
    try {
      out = await v.run({ [input.name]: { type: 'float32', dims, data: pixels } });
    } catch (e) {
      if (e instanceof OrtError) throw refusedInputs(v, e);
      throw e;
    }
    const scores = out[v.outputs[0].name];
    const probs = toProbabilities(Array.from(scores.data as ArrayLike<number>));
    const named = rankClasses(probs, declared.labels, TOP).map((c) => [c.label ?? String(c.index), c.score]);
    const answer = { predicted_label: named[0]?.[0], scores: named };
    if (!api.response(answer))
      throw new HttpError(500, `the answer does not match ${where}.response.data: ${schemaErrors(api.response)}`);
    return { status: 200, body: answer };
  };
}

// The model's own API from its config.json `apis` (here the image-classification template's own
// declaration): an image uploaded as multipart or sent as base64 JSON answers with labels and scores,
// the same the version gives on /v2 for the image preprocessed as the evaluator does; requests and
// answers are checked against the declared schemas; bad input gets a clear 4xx.
import * as assert from 'assert';
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { toProbabilities } from '../../../../src/core/evaluate/metrics';
import { Registry } from '../../../../src/core/registry/registry';
import { servingFeatures } from '../../../../src/core/serve/features';
import { modelApiRoute } from '../../../../src/core/serve/modelApi';
import { imageRequest } from '../../../../src/core/serve/requestInputs';
import { serve, ServerHandle } from '../../../../src/core/serve/server';
import { importOnnxModel } from '../../helpers/importModel';
import { channelMeanModelBytes, solidPng } from '../../helpers/makeWeights';
import { repoPath } from '../../helpers/paths';
import { tempDir } from '../../helpers/tmp';
import { affineBytes } from './models';

const template = JSON.parse(readFileSync(repoPath('schemas/templates/image-classification/template.json'), 'utf8'));
const [templateApi] = template.defaults.apis;
const preprocessing = { size: [16, 16], scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
const labels = ['red', 'green', 'blue'];

describe('the model API from config.json apis', function () {
  this.timeout(120_000);
  let work: string;
  let r: Registry;
  let server: ServerHandle;
  let features: ReturnType<typeof servingFeatures>;
  const logs: string[] = [];
  const png = solidPng([200, 30, 90], 20, 10);

  async function start(refs: string[]) {
    features = servingFeatures({ port: 0, log: (l) => logs.push(l) });
    features.options.routes = [...features.options.routes!, modelApiRoute(r, (l) => logs.push(l))];
    server = await serve(r, refs, features.options);
  }
  before(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, 'registry'));
    const base64Api = {
      protocol: 'http',
      url: '/predict',
      method: 'post',
      request: {
        'Content-type': 'application/json',
        data: {
          type: 'object',
          required: ['image'],
          properties: { image: { type: 'string', contentEncoding: 'base64' }, top: { type: 'integer' } },
        },
      },
      response: templateApi.response,
    };
    const strictApi = {
      ...base64Api,
      url: '/strict',
      request: { ...base64Api.request, data: { ...base64Api.request.data, required: ['image', 'threshold'] } },
    };
    const wrongAnswer = {
      ...base64Api,
      url: '/wrong-answer',
      response: {
        'Content-type': 'application/json',
        data: { type: 'object', properties: { predicted_label: { type: 'number' } } },
      },
    };
    await importOnnxModel(r, work, 'colours', channelMeanModelBytes(16), {
      labels,
      preprocessing,
      apis: [templateApi, base64Api, strictApi, wrongAnswer],
    });
    await importOnnxModel(r, work, 'affine', affineBytes([1, 1, 1], [0, 0, 0]), { apis: [templateApi] });
    await start(['colours@v1', 'affine@v1']);
  });
  after(async () => {
    await server?.close();
    await r?.close();
  });

  /** What the version gives on /v2 for the image as the evaluator preprocesses it, as labelled probabilities. */
  async function viaOip(): Promise<[string, number][]> {
    const file = path.join(work, 'image.png');
    writeFileSync(file, png);
    const m = server.models().find((x) => x.name === 'colours')!;
    const req = await imageRequest(r, await r.resolve('colours@v1'), m.inputs[0], file);
    const res = await fetch(`${server.url}/v2/models/colours/infer`, { method: 'POST', body: JSON.stringify(req) });
    const scores = ((await res.json()) as { outputs: { data: number[] }[] }).outputs[0].data;
    return [...toProbabilities(scores)].map((p, i) => [labels[i], p] as [string, number]).sort((a, b) => b[1] - a[1]);
  }
  const close = (a: [string, number][], b: [string, number][]) => {
    assert.deepStrictEqual(
      a.map((x) => x[0]),
      b.map((x) => x[0]),
    );
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i][1] - b[i][1]) < 1e-5, `${a[i]} vs ${b[i]}`);
  };

  it('the template API: a multipart upload of an image answers predicted_label and labelled scores, as /v2 gives them', async () => {
    const form = new FormData();
    form.append('images', new Blob([png], { type: 'image/png' }), 'purple.png');
    const res = await fetch(`${server.url}/`, { method: 'POST', body: form });
    const body = (await res.json()) as { predicted_label: string; scores: [string, number][] };
    assert.strictEqual(res.status, 200, JSON.stringify(body));
    assert.strictEqual(body.predicted_label, 'red');
    close(body.scores, await viaOip());
    const sum = body.scores.reduce((s, x) => s + x[1], 0);
    assert.ok(Math.abs(sum - 1) < 1e-9, 'softmax over three classes, all listed');
  });

  it('base64 in JSON (a data: URL too) answers the same', async () => {
    for (const image of [png.toString('base64'), `data:image/png;base64,${png.toString('base64')}`]) {
      const res = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ image, top: 2 }),
      });
      const body = (await res.json()) as { scores: [string, number][] };
      assert.strictEqual(res.status, 200, JSON.stringify(body));
      close(body.scores, await viaOip());
    }
  });

  it('bad input: a missing file, not an image, a wrong method, a schema the request or answer breaks', async () => {
    const post = async (url: string, body: string | FormData, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.url}${url}`, { method: 'POST', headers, body });
      return { status: res.status, error: ((await res.json()) as { error: string }).error };
    };
    const noFile = new FormData();
    noFile.append('other', 'x');
    assert.deepStrictEqual(await post('/', noFile), {
      status: 400,
      error: "the form has no file field 'images' (the image)",
    });
    const text = new FormData();
    text.append('images', new Blob([Buffer.from('not an image at all')]), 'notes.txt');
    const notImage = await post('/', text);
    assert.strictEqual(notImage.status, 400);
    assert.match(notImage.error, /^notes\.txt: not a readable PNG\/JPEG image/);
    const json = { 'Content-Type': 'application/json' };
    assert.deepStrictEqual(await post('/predict', '{"image": 3}', json), {
      status: 400,
      error: "field 'image' must be the image as a base64 string",
    });
    assert.deepStrictEqual(await post('/predict', '{"image": "', json), {
      status: 400,
      error: 'the body is not JSON: Unterminated string in JSON at position 11',
    });
    const strict = await post('/strict', JSON.stringify({ image: png.toString('base64') }), json);
    assert.strictEqual(strict.status, 400);
    assert.match(
      strict.error,
      /does not match config\.json apis\[2\]\.request\.data: \(body\) must have required property 'threshold'/,
    );
    const wrong = await post('/wrong-answer', JSON.stringify({ image: png.toString('base64') }), json);
    assert.strictEqual(wrong.status, 500);
    assert.match(
      wrong.error,
      /the answer does not match config\.json apis\[3\]\.response\.data: \/predicted_label must be number/,
    );
    const get = await fetch(`${server.url}/predict`);
    assert.strictEqual(get.status, 405);
    assert.strictEqual(get.headers.get('allow'), 'POST');
    assert.strictEqual((await post('/predict', 'x', { 'Content-Type': 'text/csv' })).status, 415);
  });

  it('metrics count the API requests; a model that takes no image has no API route, and the log says why', async () => {
    const [colours] = features.metrics.summary().filter((m) => m.model === 'colours');
    assert.ok(colours.requests >= 5, JSON.stringify(colours));
    assert.ok(colours.failures >= 4);
    await server.close();
    await start(['affine@v1']);
    const res = await fetch(`${server.url}/`, { method: 'POST', body: 'x' });
    assert.strictEqual(res.status, 404);
    assert.ok(
      logs.some((l) =>
        /note: affine@v1: config\.json declares apis, but modelreg serve answers them for image models only/.test(l),
      ),
      logs.join('\n'),
    );
  });
});

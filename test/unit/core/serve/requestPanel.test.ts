// What the request panel sends and shows, against a real server: made-up inputs of the right shape,
// an image preprocessed as the evaluator does, the top classes with the version's labels, and the
// curl and Python snippets, run for real (curl; python3 with requests).
import * as assert from 'assert';
import { execFile } from 'child_process';
import { promisify } from 'util';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { Registry } from '../../../../src/core/registry/registry';
import {
  generatedRequest,
  imageRequest,
  takesImage,
  topClasses,
  versionLabels,
} from '../../../../src/core/serve/requestInputs';
import { serve, ServerHandle } from '../../../../src/core/serve/server';
import type { RequestTarget } from '../../../../src/shared/request/contract';
import { curlSnippet, INLINE_CHARS, pythonSnippet } from '../../../../src/shared/request/snippets';
import { importOnnxModel } from '../../helpers/importModel';
import { channelMeanModelBytes, solidPng } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';
import { mixedBytes } from './models';

const sh = promisify(execFile);

describe('request panel: inputs, answers and snippets', function () {
  this.timeout(120_000);
  let work: string;
  let r: Registry;
  let server: ServerHandle;
  before(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, 'registry'));
    await importOnnxModel(r, work, 'colours', channelMeanModelBytes(16), {
      labels: ['red', 'green', 'blue'],
      preprocessing: { size: [16, 16], scale: 1 / 255, mean: 0, std: 1 },
    });
    await importOnnxModel(r, work, 'mixed', mixedBytes());
    server = await serve(r, ['colours@v1', 'mixed@v1'], { port: 0 });
  });
  after(async () => {
    await server?.close();
    await r?.close();
  });
  const model = (name: string) => server.models().find((m) => m.name === name)!;
  const infer = async (name: string, request: unknown) => {
    const res = await fetch(`${server.url}/v2/models/${name}/infer`, { method: 'POST', body: JSON.stringify(request) });
    return { status: res.status, body: (await res.json()) as { outputs: { name: string; data: unknown[] }[] } };
  };

  it('zeros and random inputs of every datatype have the shapes the server takes (dynamic axes 1)', async () => {
    const mixed = model('mixed');
    for (const kind of ['zeros', 'random'] as const) {
      const req = generatedRequest(mixed.inputs, kind);
      assert.deepStrictEqual(
        req.inputs.map((i) => [i.name, i.datatype, i.shape]),
        [
          ['x', 'FP32', [1, 3]],
          ['h', 'FP16', [1, 3]],
          ['k', 'INT64', [2]],
          ['flag', 'BOOL', [2]],
        ],
      );
      const a = await infer('mixed', req);
      assert.strictEqual(a.status, 200, JSON.stringify(a.body));
    }
    const zeros = generatedRequest(mixed.inputs, 'zeros');
    assert.deepStrictEqual(zeros.inputs[2].data, [0, 0]);
    const random = generatedRequest(mixed.inputs, 'random', () => 0.73);
    assert.deepStrictEqual(random.inputs[0].data, [0.73, 0.73, 0.73]);
    assert.deepStrictEqual(random.inputs[2].data, [7, 7]);
    assert.deepStrictEqual(random.inputs[3].data, [false, false]);
  });

  it('an image becomes the input as the evaluator makes it; the top class of the answer is its colour, by label', async () => {
    const colours = model('colours');
    assert.ok(takesImage(colours.inputs));
    assert.ok(!takesImage(model('mixed').inputs));
    const file = path.join(work, 'red.png');
    writeFileSync(file, solidPng([250, 10, 60], 16, 12));
    const v = await r.resolve('colours@v1');
    const req = await imageRequest(r, v, colours.inputs[0], file);
    assert.deepStrictEqual(req.inputs[0].shape, [1, 3, 16, 16]);
    assert.ok(Math.abs((req.inputs[0].data[0] as number) - 250 / 255) < 1e-5);
    const a = await infer('colours', req);
    assert.strictEqual(a.status, 200);
    const labels = await versionLabels(r, v);
    assert.deepStrictEqual(labels, ['red', 'green', 'blue']);
    const top = topClasses(a.body, labels)!;
    assert.deepStrictEqual(
      top.map((t) => t.label),
      ['red', 'blue', 'green'],
    );
    assert.ok(top[0].score > top[1].score);
    assert.strictEqual(
      topClasses({ outputs: [{ name: 'n', shape: [2], datatype: 'BYTES', data: ['a', 'b'] }] }),
      undefined,
    );
  });

  const target = (name: string, needsToken = false): RequestTarget => {
    const m = model(name);
    return {
      url: server.url,
      endpoint: `${server.url}/v2/models/${name}/versions/1/infer`,
      model: name,
      version: '1',
      ref: `${name}@v1`,
      needsToken,
      inputs: m.inputs,
      outputs: m.outputs,
      takesImage: takesImage(m.inputs),
    };
  };

  it('the curl snippet runs and gets the answer, inline or from request.json', async () => {
    const small = JSON.stringify(generatedRequest(model('mixed').inputs, 'random'), null, 1);
    // Not execFileSync: the server answers on this process's event loop.
    const run = async (snippet: string) => JSON.parse((await sh('bash', ['-c', snippet], { cwd: work })).stdout);
    const inline = curlSnippet(target('mixed'), small);
    assert.ok(!inline.includes('@request.json'));
    assert.deepStrictEqual(
      (await run(inline)).outputs.map((o: { name: string }) => o.name),
      ['sum', 'half', 'n', 'not'],
    );
    const big = JSON.stringify(generatedRequest(model('colours').inputs, 'random'));
    assert.ok(big.length > INLINE_CHARS);
    writeFileSync(path.join(work, 'request.json'), big);
    const fromFile = curlSnippet(target('colours'), big);
    assert.match(fromFile, /-d @request\.json$/);
    assert.strictEqual((await run(fromFile)).outputs[0].shape[1], 3);
    // A quote in the request is quoted for the shell: the id comes back as it was sent.
    const quoted = JSON.stringify({ ...generatedRequest(model('mixed').inputs, 'zeros'), id: 'it\'s "quoted"' });
    assert.strictEqual((await run(curlSnippet(target('mixed'), quoted))).id, 'it\'s "quoted"');
  });

  it('the Python snippet runs with requests and prints the outputs (true/false become True/False)', async () => {
    const req = JSON.stringify(generatedRequest(model('mixed').inputs, 'random', () => 0.3));
    const snippet = pythonSnippet(target('mixed'), req);
    assert.match(snippet, /True/);
    const { stdout: out } = await sh('python3', ['-c', snippet], { cwd: work });
    assert.match(out, /^sum \[1, 3\] /m);
    assert.match(out, /^not \[2\] \[False, False\]/m); // not(True, True)
    assert.match(pythonSnippet(target('mixed', true), req), /os\.environ\["MODELREG_TOKEN"\]/);
    assert.match(curlSnippet(target('mixed', true), req), /Authorization: Bearer \$MODELREG_TOKEN/);
  });
});

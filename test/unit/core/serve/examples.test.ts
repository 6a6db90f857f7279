// Examples: a request sent to a real server and kept with the answer; replayed on another version,
// the answers are compared within a tolerance (and a NaN, a string or a shape that changed is told).
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { InputError } from '../../../../src/core/errors';
import { Registry } from '../../../../src/core/registry/registry';
import { compareAnswers, readInferRequest, recordExample, replayExamples } from '../../../../src/core/serve/examples';
import { importOnnxModel } from '../../helpers/importModel';
import { tempDir } from '../../helpers/tmp';
import { affineBytes, textBytes } from './models';

const request = { inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] }] };

describe('examples: record and replay', function () {
  this.timeout(120_000);
  let work: string;
  let r: Registry;
  before(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, 'registry'));
    await importOnnxModel(r, work, 'm', affineBytes([2, 2, 2], [1, 1, 1]));
    await importOnnxModel(r, work, 'm', affineBytes([2, 2, 2], [1, 1, 1.001])); // v2: one value moves by 0.001
    await r.setAlias('m@v1', 'production');
  });
  after(() => r.close());

  it('keeps what the version answered, under the version an alias names; replays same on it and on a close version', async () => {
    const saved = await recordExample(r, 'm@production', 'two-rows', request);
    assert.deepStrictEqual((saved.response.outputs as { data: number[] }[])[0].data, [3, 5, 7, 9, 11, 13]);
    const v1 = await r.resolve('m@v1');
    const [kept] = await r.examples(v1.id);
    assert.strictEqual(kept.name, 'two-rows');
    assert.deepStrictEqual(kept.request, request);
    assert.deepStrictEqual(kept.response, saved.response);
    assert.deepStrictEqual(await r.examples((await r.resolve('m@v2')).id), [], 'the alias was pinned to v1');

    const same = await replayExamples(r, [kept], 'm@v1');
    assert.strictEqual(same.on.ref, 'm@v1');
    assert.deepStrictEqual(
      same.results.map((x) => [x.name, x.same, x.maxDiff]),
      [['two-rows', true, 0]],
    );
    // v2 differs by 0.001 on the third column: beyond 1e-4 · |7|, within 1e-4 · |13| and 1e-3 · |7|.
    const strict = await replayExamples(r, [kept], 'm@v2');
    assert.strictEqual(strict.results[0].same, false);
    assert.match(
      strict.results[0].differences[0],
      /output 'y': 1 of 6 values differ by more than the tolerance 0\.0001; the most at element 2: 7 became 7\.000999/,
    );
    assert.ok(Math.abs(strict.results[0].maxDiff - 0.001) < 1e-5, String(strict.results[0].maxDiff));
    const loose = await replayExamples(r, [kept], 'm@v2', 1e-3);
    assert.strictEqual(loose.results[0].same, true, loose.results[0].differences.join('; '));
  });

  it('a request the version refuses saves nothing and says why; a replay on a version that refuses it is an error', async () => {
    const wrong = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
    await assert.rejects(
      recordExample(r, 'm@v2', 'wrong', wrong),
      /m@v2 refused the request \(HTTP 400\): .*x.*\[1,4\]|shape/,
    );
    assert.deepStrictEqual(await r.examples((await r.resolve('m@v2')).id), []);
    const replay = await replayExamples(
      r,
      [{ name: 'wrong', request: wrong, response: { outputs: [] }, createdAt: '', createdBy: '' }],
      'm@v2',
    );
    assert.strictEqual(replay.results[0].same, false);
    assert.match(replay.results[0].error ?? '', /HTTP 400/);
  });

  it('names are checked, an existing one is refused unless replaced, and rm names the ones there are', async () => {
    await assert.rejects(recordExample(r, 'm@v1', '../x', request), /cannot name an example '\.\.\/x'/);
    await assert.rejects(recordExample(r, 'm@v1', 'two-rows', request), /m@v1 already has an example 'two-rows'/);
    const other = { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [0, 0, 0] }] };
    await recordExample(r, 'm@v1', 'two-rows', other, { replace: true });
    const v1 = await r.resolve('m@v1');
    assert.deepStrictEqual((await r.examples(v1.id))[0].request, other);
    await assert.rejects(r.removeExample('m@v1', 'nope'), /m@v1 has no example 'nope'; it has: two-rows/);
    await r.removeExample('m@v1', 'two-rows');
    assert.deepStrictEqual(await r.examples(v1.id), []);
  });

  it('strings are compared exactly', async () => {
    await importOnnxModel(r, work, 'text', textBytes());
    const req = { inputs: [{ name: 's', shape: [2], datatype: 'BYTES', data: ['ab', 'c'] }] };
    const e = await recordExample(r, 'text@v1', 'words', req);
    const replay = await replayExamples(r, [e], 'text@v1');
    assert.strictEqual(replay.results[0].same, true, replay.results[0].differences.join('; '));
    const changed = { outputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['ab', 'd'] }] };
    assert.deepStrictEqual(compareAnswers(e.response, changed).differences, ["output 'text' differs at element 1"]);
  });
});

describe('examples: comparing answers', () => {
  const answer = (data: unknown[], shape = [data.length], datatype = 'FP32') => ({
    outputs: [{ name: 'y', shape, datatype, data }],
  });

  it('within tolerance · max(1, |saved|): absolute near zero, relative for large values', () => {
    assert.ok(compareAnswers(answer([0, 1000]), answer([0.00009, 1000.09])).same);
    assert.deepStrictEqual(compareAnswers(answer([0, 1000]), answer([0.0002, 1000])).differences, [
      "output 'y': 1 of 2 values differ by more than the tolerance 0.0001; the most at element 0: 0 became 0.0002",
    ]);
  });

  it('a NaN where a number was differs; NaN where NaN was does not', () => {
    assert.strictEqual(compareAnswers(answer([1, 2]), answer([1, NaN])).same, false);
    assert.ok(compareAnswers(answer([NaN]), answer([NaN])).same);
  });

  it('a missing output, another shape, a string for a number, nested data', () => {
    assert.deepStrictEqual(compareAnswers(answer([1]), { outputs: [] }).differences, [
      "output 'y' is missing (got none)",
    ]);
    assert.deepStrictEqual(compareAnswers(answer([1, 2], [1, 2]), answer([1, 2], [2, 1])).differences, [
      "output 'y' has shape [2,1], the example's has [1,2]",
    ]);
    assert.deepStrictEqual(compareAnswers(answer([1]), answer(['1'], [1], 'BYTES')).differences, [
      "output 'y' is BYTES, the example's is FP32",
    ]);
    assert.ok(compareAnswers(answer([[1, 2]], [1, 2]), answer([1, 2], [1, 2])).same, 'nested data is read row-major');
  });

  it('another numeric type with the same values is told, and still within tolerance', () => {
    assert.deepStrictEqual(compareAnswers(answer([1, 2]), answer([1, 2], [2], 'FP16')).differences, [
      "output 'y' is FP16, the example's is FP32 (values within the tolerance)",
    ]);
  });
});

describe('examples: request files', () => {
  it('reads an infer request; refuses a file that is not one, too deep, or a FIFO, naming the file', async () => {
    const dir = tempDir();
    const ok = path.join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify(request));
    assert.deepStrictEqual(await readInferRequest(ok), request);
    const notOne = path.join(dir, 'not-one.json');
    writeFileSync(notOne, '{"instances": [[1, 2, 3]]}');
    await assert.rejects(
      readInferRequest(notOne),
      (e: Error) => e instanceof InputError && e.message.startsWith(notOne) && /"inputs"/.test(e.message),
    );
    const deep = path.join(dir, 'deep.json');
    writeFileSync(deep, '['.repeat(100_000) + ']'.repeat(100_000));
    await assert.rejects(readInferRequest(deep), (e: Error) => e instanceof InputError && /nest/.test(e.message));
    const fifo = path.join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(
      readInferRequest(fifo),
      (e: Error) => e instanceof InputError && e.message.includes('fifo.json'),
    );
  });
});

import * as assert from 'assert/strict';
import { writeFileSync } from 'fs';
import * as path from 'path';
import type { TensorData, ValueMeta } from '../../../../src/core/onnxrt/protocol';
import { OrtSession } from '../../../../src/core/onnxrt/session';
import { Registry } from '../../../../src/core/registry/registry';
import { servingFeatures } from '../../../../src/core/serve/features';
import { serve } from '../../../../src/core/serve/server';
import { importOnnxModel } from '../../helpers/importModel';
import { affineBytes } from './models';
import { formatPredictions, InvocationError, parseInvocation } from '../../../../src/core/serve/mlflow';
import { mixedBytes } from '../../helpers/onnxModels';
import { tempDir } from '../../helpers/tmp';

const JSON_CT = 'application/json';
const meta = (name: string, type: string, shape: (number | string)[]): ValueMeta => ({
  name,
  isTensor: true,
  type,
  shape,
});
/** A single-input model: x float32 [batch, 3]. */
const ONE = [meta('x', 'float32', ['batch', 3])];
/** Two inputs: a float32 [N, 2], b int64 [N]. */
const TWO = [meta('a', 'float32', ['N', 2]), meta('b', 'int64', [-1])];

const json = (doc: unknown, inputs: ValueMeta[], ct = JSON_CT) =>
  parseInvocation(Buffer.from(JSON.stringify(doc)), ct, inputs);
const values = (t: TensorData) => Array.from(t.data as ArrayLike<number | bigint | string>);

/** Asserts an InvocationError with `status` whose message matches `re`. */
function refuses(fn: () => unknown, re: RegExp, status = 400): InvocationError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof InvocationError, `expected an InvocationError, got ${String(caught)}`);
  assert.match(caught.message, re);
  assert.equal(caught.status, status);
  return caught;
}

describe('MLflow /invocations: parseInvocation', () => {
  describe('inputs', () => {
    it('a nested list feeds a single-input model', () => {
      const f = json(
        {
          inputs: [
            [1, 2, 3],
            [4, 5, 6.5],
          ],
        },
        ONE,
      );
      assert.deepEqual(Object.keys(f), ['x']);
      assert.equal(f.x.type, 'float32');
      assert.deepEqual(f.x.dims, [2, 3]);
      assert.ok(f.x.data instanceof Float32Array);
      assert.deepEqual(values(f.x), [1, 2, 3, 4, 5, 6.5]);
    });

    it('an object name → nested list feeds each input with its own type (int64, float16, bool, string)', () => {
      const inputs = [
        ...TWO,
        meta('h', 'float16', [2]),
        meta('flag', 'bool', ['N']),
        meta('s', 'string', ['N']),
        meta('u', 'uint8', []),
      ];
      const f = json(
        {
          inputs: {
            b: [7, -9007199254740991],
            a: [
              [1, 2],
              [3, 4],
            ],
            h: [1.5, -2],
            flag: [true, 0],
            s: ['é', ''],
            u: 255,
          },
        },
        inputs,
      );
      assert.deepEqual(Object.keys(f), ['a', 'b', 'h', 'flag', 's', 'u']);
      assert.ok(f.b.data instanceof BigInt64Array);
      assert.deepEqual(values(f.b), [7n, -9007199254740991n]);
      assert.ok(f.h.data instanceof Uint16Array);
      assert.deepEqual(values(f.h), [0x3e00, 0xc000]);
      assert.deepEqual(values(f.flag), [1, 0]);
      assert.deepEqual(f.s.data, ['é', '']);
      // A scalar for an input of unknown shape.
      assert.deepEqual(f.u.dims, []);
      assert.deepEqual(values(f.u), [255]);
    });

    it('a list for a model with several inputs is refused, naming them', () => {
      refuses(
        () => json({ inputs: [[1, 2]] }, TWO),
        /this model has 2 inputs \("a", "b"\), so inputs must be an object/,
      );
    });

    it('missing and unknown input names are named', () => {
      refuses(
        () => json({ inputs: { a: [[1, 2]], c: [1] } }, TWO),
        /expected the model's inputs "a", "b"; missing "b"; unknown "c"/,
      );
    });

    it('ragged lists, wrong element kinds, out-of-range integers and fixed dims that differ are refused', () => {
      refuses(
        () =>
          json(
            {
              inputs: [
                [1, 2, 3],
                [4, 5],
              ],
            },
            ONE,
          ),
        /input "x": ragged nested list: element \[1\] has 2 items, expected 3/,
      );
      refuses(() => json({ inputs: [[1, [2], 3]] }, ONE), /ragged nested list: element \[0\]\[1\] is a list/);
      refuses(
        () => json({ inputs: [[1, 'two', 3]] }, ONE),
        /input "x": element 1 \(row-major\) is a string; float32 expects a number/,
      );
      refuses(
        () => json({ inputs: { a: [[1, 2]], b: [1.5] } }, TWO),
        /input "b": element 0 .* is a number; int64 expects an integer/,
      );
      refuses(() => json({ inputs: { a: [[1, 2]], b: [2 ** 60] } }, TWO), /out of int64's range/);
      refuses(() => json({ inputs: [300] }, [meta('u', 'uint8', ['N'])]), /out of uint8's range \[0, 255\]/);
      refuses(
        () => json({ inputs: [[1, 2]] }, ONE),
        /input "x": shape \[1, 2\] does not fit the input's \[-1, 3\] \(dim 1 is 2, expected 3\)/,
      );
      refuses(() => json({ inputs: [1, 2, 3] }, ONE), /shape \[3\] does not fit .* \(1 dims for 2\)/);
      refuses(
        () => json({ inputs: [{ x: [1, 2, 3] }] }, ONE),
        /got a list of objects; rows of named inputs go under instances/,
      );
    });
  });

  describe('instances', () => {
    it('a list of rows feeds a single-input model', () => {
      const f = json({ instances: [[1, 2, 3]] }, ONE);
      assert.deepEqual(f.x.dims, [1, 3]);
    });

    it('a list of objects is stacked per input along a new axis 0', () => {
      const f = json(
        {
          instances: [
            { a: [1, 2], b: 10 },
            { b: 20, a: [3, 4] },
            { a: [5, 6], b: 30 },
          ],
        },
        TWO,
      );
      assert.deepEqual(f.a.dims, [3, 2]);
      assert.deepEqual(values(f.a), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(f.b.dims, [3]);
      assert.deepEqual(values(f.b), [10n, 20n, 30n]);
    });

    it('an instance without an input, or a mix of objects and lists, is refused saying which', () => {
      refuses(
        () => json({ instances: [{ a: [1, 2], b: 1 }, { a: [3, 4] }] }, TWO),
        /instances\[1\] keys: .*missing "b"/,
      );
      refuses(() => json({ instances: [[1, 2, 3], { x: [1, 2, 3] }] }, ONE), /mixes objects and other values/);
    });
  });

  describe('dataframe_split', () => {
    it('a frame feeds a single-input model as a [rows, columns] matrix', () => {
      const f = json(
        {
          dataframe_split: {
            columns: ['f0', 'f1', 'f2'],
            data: [
              [1, 2, 3],
              [4, 5, 6],
            ],
            index: [0, 1],
          },
        },
        ONE,
      );
      assert.deepEqual(f.x.dims, [2, 3]);
      assert.deepEqual(values(f.x), [1, 2, 3, 4, 5, 6]);
      // Columns are optional.
      assert.deepEqual(json({ dataframe_split: { data: [[1, 2, 3]] } }, ONE).x.dims, [1, 3]);
    });

    it('columns named as the inputs feed one tensor each, in any order, cells stacked along axis 0', () => {
      const f = json(
        {
          dataframe_split: {
            columns: ['b', 'a'],
            data: [
              [1, [0.5, 1]],
              [2, [1.5, 2]],
            ],
          },
        },
        TWO,
      );
      assert.deepEqual(f.a.dims, [2, 2]);
      assert.deepEqual(values(f.a), [0.5, 1, 1.5, 2]);
      assert.deepEqual(values(f.b), [1n, 2n]);
    });

    it('rows are reshaped to fixed non-batch dims of the same size (a flat row → [1, 2, 2])', () => {
      const img = [meta('pixels', 'float32', ['N', 1, 2, 2])];
      const f = json({ dataframe_split: { columns: ['p0', 'p1', 'p2', 'p3'], data: [[1, 2, 3, 4]] } }, img);
      assert.deepEqual(f.pixels.dims, [1, 1, 2, 2]);
      refuses(
        () => json({ dataframe_split: { data: [[1, 2, 3]] } }, img),
        /dataframe_split: shape \[1, 3\] does not fit the input's \[-1, 1, 2, 2\]/,
      );
    });

    it('refuses other keys, rows of another width, list cells without input columns, and other columns for several inputs', () => {
      refuses(
        () => json({ dataframe_split: { columns: ['a'], rows: [[1]] } }, ONE),
        /expected the keys data and optionally columns, index; got "columns", "rows"/,
      );
      refuses(
        () =>
          json(
            {
              dataframe_split: {
                columns: ['f0', 'f1', 'f2'],
                data: [
                  [1, 2, 3],
                  [4, 5],
                ],
              },
            },
            ONE,
          ),
        /data\[1\]: 2 values for 3 columns/,
      );
      refuses(
        () => json({ dataframe_split: { columns: ['c'], data: [[[1, 2, 3]]] } }, ONE),
        /row 0, column 0 holds a list of 3; a list per cell is read only when the columns are named as the inputs \("x"\)/,
      );
      refuses(
        () => json({ dataframe_split: { columns: ['a', 'c'], data: [[1, 2]] } }, TWO),
        /this model has 2 inputs, so the columns must be their names \("a", "b"\); got "a", "c"/,
      );
      refuses(() => json({ dataframe_split: [[1, 2, 3]] }, ONE), /dataframe_split: expected an object/);
    });
  });

  describe('dataframe_records', () => {
    it('records feed a single-input model as a matrix, columns in order of first appearance', () => {
      const f = json(
        {
          dataframe_records: [
            { f0: 1, f1: 2, f2: 3 },
            { f0: 4, f1: 5, f2: 6 },
          ],
        },
        ONE,
      );
      assert.deepEqual(f.x.dims, [2, 3]);
      assert.deepEqual(values(f.x), [1, 2, 3, 4, 5, 6]);
    });

    it('records keyed by input name feed each input', () => {
      const f = json(
        {
          dataframe_records: [
            { a: [1, 2], b: 3 },
            { a: [4, 5], b: 6 },
          ],
        },
        TWO,
      );
      assert.deepEqual(f.a.dims, [2, 2]);
      assert.deepEqual(values(f.b), [3n, 6n]);
    });

    it('a record without a column is refused, naming record and column', () => {
      refuses(
        () =>
          json(
            {
              dataframe_records: [
                { f0: 1, f1: 2, f2: 3 },
                { f0: 4, f2: 6 },
              ],
            },
            ONE,
          ),
        /dataframe_records\[1\]: no value for column "f1"/,
      );
      refuses(
        () => json({ dataframe_records: { f0: [1] } }, ONE),
        /expected a list of records \(objects\); got an object/,
      );
    });
  });

  describe('text/csv', () => {
    const csv = (text: string, inputs: ValueMeta[], ct = 'text/csv') => parseInvocation(Buffer.from(text), ct, inputs);

    it('a header and rows feed a single-input model as a matrix, numbers read as the input type', () => {
      const f = csv('f0,f1,f2\n1,2.5,-3e2\n4,5,NaN\n', ONE);
      assert.deepEqual(f.x.dims, [2, 3]);
      assert.deepEqual(values(f.x), [1, 2.5, -300, 4, 5, NaN]);
      assert.deepEqual(csv('f0,f1,f2\r\n1,2,3', ONE, 'text/csv; charset=UTF-8').x.dims, [1, 3]);
    });

    it('columns named as the inputs feed each input (int64, bool from True/False)', () => {
      const inputs = [meta('n', 'int64', ['N']), meta('ok', 'bool', ['N', 1])];
      const f = csv('ok,n\nTrue,5\nfalse,-6\n', inputs);
      assert.deepEqual(values(f.n), [5n, -6n]);
      assert.deepEqual(f.ok.dims, [2, 1]); // a scalar per row reshaped to the input's [N, 1]
      assert.deepEqual(values(f.ok), [1, 0]);
    });

    it('refuses cells that are not numbers, rows of another width and an empty body', () => {
      refuses(() => csv('f0,f1,f2\n1,two,3\n', ONE), /element 1 \(row-major\) is a string; float32 expects a number/);
      refuses(() => csv('f0,f1,f2\n1,2\n', ONE), /the CSV body cannot be read \(line 2\)/);
      refuses(() => csv('', ONE), /the CSV body is empty/);
    });
  });

  describe('content types and bodies', () => {
    it('takes application/json with a utf-8 charset, and ignores params', () => {
      const f = json({ inputs: [[1, 2, 3]], params: { temperature: 1 } }, ONE, 'Application/JSON; charset="utf-8"');
      assert.deepEqual(f.x.dims, [1, 3]);
    });

    it("refuses MLflow 1's format=pandas-split, other types and charsets with 415", () => {
      refuses(
        () => json({ dataframe_split: { data: [[1, 2, 3]] } }, ONE, 'application/json; format=pandas-split'),
        /unsupported content type parameter "format".*dataframe_split or dataframe_records/,
        415,
      );
      refuses(
        () => json({ inputs: [[1, 2, 3]] }, ONE, 'text/plain'),
        /unsupported content type "text\/plain": send application\/json or text\/csv/,
        415,
      );
      refuses(() => json({ inputs: [[1, 2, 3]] }, ONE, ''), /unsupported content type \(none\)/, 415);
      refuses(
        () => json({ inputs: [[1, 2, 3]] }, ONE, 'application/json; charset=latin-1'),
        /unsupported charset "latin-1"/,
        415,
      );
    });

    it('refuses bodies that are not one format key, saying what was expected and what came', () => {
      refuses(
        () => parseInvocation(Buffer.from('{"inputs": [1,'), JSON_CT, ONE),
        /the body is not valid JSON \(14 bytes\)/,
      );
      refuses(
        () => json([[1, 2, 3]], ONE),
        /expected a JSON object with one of the keys inputs, instances, dataframe_split, dataframe_records; got a list of 1/,
      );
      refuses(
        () => json({ data: [[1, 2, 3]] }, ONE),
        /expected one of the keys inputs, instances, dataframe_split, dataframe_records; got "data"/,
      );
      refuses(
        () => json({ inputs: [[1, 2, 3]], instances: [[1, 2, 3]] }, ONE),
        /exactly one of the keys .*; got inputs and instances/,
      );
      refuses(
        () => json({ inputs: [[1, 2, 3]] }, [{ name: 'seq', isTensor: false, shape: [] }]),
        /input "seq" is not a tensor/,
      );
    });

    it('never repeats a value from the payload in an error', () => {
      const secret = 'SECRET-9f3a';
      const bodies: [string, ValueMeta[], string][] = [
        [`{"inputs": [[1, "${secret}", 3]]}`, ONE, JSON_CT],
        [`{"inputs": [[1, 2]], "note": "${secret}"}`, ONE, JSON_CT],
        [`{"inputs": [[1, 2, 3]], "oops": "${secret}"`, ONE, JSON_CT],
        [`{"instances": [{"a": [1, 2], "b": "${secret}"}]}`, TWO, JSON_CT],
        [`{"dataframe_split": {"columns": ["f0"], "data": [["${secret}"]]}}`, ONE, JSON_CT],
        [`{"dataframe_records": [{"f0": "${secret}", "f1": 1, "f2": 2}]}`, ONE, JSON_CT],
        [`{"inputs": "${secret}"}`, ONE, JSON_CT],
        [`f0,f1,f2\n1,${secret},3\n`, ONE, 'text/csv'],
        [`f0,f1,f2\n1,"${secret}\n`, ONE, 'text/csv'],
      ];
      for (const [body, inputs, ct] of bodies) {
        const e = refuses(() => parseInvocation(Buffer.from(body), ct, inputs), /./);
        assert.ok(!e.message.includes(secret), e.message);
      }
    });
  });
});

describe('MLflow /invocations: formatPredictions', () => {
  it('one output gives predictions as a nested list', () => {
    const out = formatPredictions({ y: { type: 'float32', dims: [2, 2], data: Float32Array.of(1, 2, 3, 4.5) } });
    assert.deepEqual(out, {
      predictions: [
        [1, 2],
        [3, 4.5],
      ],
    });
  });

  it('several outputs give predictions name → nested list; float16, int64 and bool as JSON values', () => {
    const out = formatPredictions({
      h: { type: 'float16', dims: [2], data: Uint16Array.of(0x3e00, 0xc000) },
      n: { type: 'int64', dims: [1, 2], data: BigInt64Array.of(7n, -3n) },
      ok: { type: 'bool', dims: [2], data: Uint8Array.of(1, 0) },
      label: { type: 'string', dims: [1], data: ['cat'] },
      total: { type: 'float64', dims: [], data: Float64Array.of(0.25) },
    });
    assert.deepEqual(out, {
      predictions: { h: [1.5, -2], n: [[7, -3]], ok: [true, false], label: ['cat'], total: 0.25 },
    });
    assert.doesNotThrow(() => JSON.stringify(out));
  });

  it('parses, runs on a real onnxruntime session and answers as MLflow does', async function () {
    this.timeout(60000);
    const file = path.join(tempDir('modelreg-mlflow-'), 'mixed.onnx');
    writeFileSync(file, mixedBytes());
    const s = await OrtSession.create(file);
    try {
      const feeds = json({ inputs: { x: [[1, 2, 3]], k: [7, 40] } }, s.inputs);
      const out = formatPredictions(await s.run(feeds));
      assert.deepEqual(out, { predictions: { out: [[2, 4, 6]], n: [8, 41], h: [[1, 2, 3]] } });
    } finally {
      await s.release();
    }
  });
});

describe('MLflow /invocations over HTTP: bad input', function () {
  this.timeout(60_000);
  it('answers 4xx with what was expected, never the payload, and the server keeps answering', async () => {
    const work = tempDir();
    const r = await Registry.open(path.join(work, 'registry'));
    await importOnnxModel(r, work, 'm', affineBytes([1, 1, 1], [0, 0, 0]));
    const server = await serve(r, ['m@v1'], servingFeatures({ port: 0, maxBodyBytes: 4096 }).options);
    const post = async (body: string, type = 'application/json') => {
      const res = await fetch(`${server.url}/invocations`, { method: 'POST', headers: { 'Content-Type': type }, body });
      return { status: res.status, error: ((await res.json()) as { error?: string }).error ?? '' };
    };
    try {
      const secret = 'SECRET-4711';
      const cases: [string, string, number, RegExp][] = [
        [`{"inputs": [[1, 2, "${secret}"]]}`, 'application/json', 400, /x|number/],
        [`{"inputs": [[1, 2]]}`, 'application/json', 400, /x/],
        [
          `{"instances": [[1, 2, 3]], "inputs": [["${secret}"]]}`,
          'application/json',
          400,
          /inputs|instances|dataframe/,
        ],
        [`{"inputs": [[1, 2, 3]`, 'application/json', 400, /JSON/],
        [`a,b,c\n1,2,${secret}\n`, 'text/csv', 400, /./],
        [`<x>${secret}</x>`, 'application/xml', 415, /application\/json|text\/csv/],
        [`{"inputs": [${'[1, 2, 3],'.repeat(500)}[1, 2, 3]]}`, 'application/json', 413, /larger than 4096 bytes/],
      ];
      for (const [body, type, status, error] of cases) {
        const a = await post(body, type);
        assert.equal(a.status, status, `${type} ${body.slice(0, 40)}: ${a.error}`);
        assert.match(a.error, error);
        assert.ok(!a.error.includes(secret), `the error repeats the payload: ${a.error}`);
      }
      const get = await fetch(`${server.url}/invocations`);
      assert.equal(get.status, 405);
      const ok = await post('{"inputs": [[1, 2, 3]]}');
      assert.equal(ok.status, 200, ok.error);
    } finally {
      await server.close();
      await r.close();
    }
  });
});

// OIP tensors ⇄ onnxruntime TensorData, without a server: every datatype, the binary forms, the refusals.
import * as assert from 'assert';
import type { ValueMeta } from '../../../../src/core/onnxrt/protocol';
import {
  binaryInputs,
  decodeInput,
  encodeOutput,
  OIP_DATATYPES,
  oipDatatype,
  oipShape,
  splitBinaryBody,
  tensorBytes,
  TensorError,
  zerosFor,
} from '../../../../src/core/serve/tensors';

const meta = (type: string, shape: (number | string)[]): ValueMeta => ({ name: 'in', isTensor: true, type, shape });
const decode = (datatype: string, type: string, shape: number[], data: unknown, binary?: Buffer) =>
  decodeInput(
    { name: 'in', datatype, shape, data },
    meta(
      type,
      shape.map(() => 'd'),
    ),
    'm version 1',
    binary,
  );
const refused = (f: () => unknown, message: RegExp) =>
  assert.throws(f, (e: Error) => e instanceof TensorError && message.test(e.message));

describe('serve tensors', () => {
  it('maps every OIP datatype to an onnxruntime type and back', () => {
    assert.deepStrictEqual(OIP_DATATYPES, [
      'BOOL',
      'UINT8',
      'UINT16',
      'UINT32',
      'UINT64',
      'INT8',
      'INT16',
      'INT32',
      'INT64',
      'FP16',
      'FP32',
      'FP64',
      'BYTES',
    ]);
    const ort = [
      'bool',
      'uint8',
      'uint16',
      'uint32',
      'uint64',
      'int8',
      'int16',
      'int32',
      'int64',
      'float16',
      'float32',
      'float64',
      'string',
    ];
    assert.deepStrictEqual(ort.map(oipDatatype), OIP_DATATYPES);
    assert.strictEqual(oipDatatype('bfloat16'), undefined);
    assert.deepStrictEqual(oipShape(['batch', 3, -1]), [-1, 3, -1]);
  });

  it('decodes JSON data of each type into the typed array onnxruntime takes', () => {
    const cases: [string, string, unknown[], unknown][] = [
      ['BOOL', 'bool', [true, false, 1], Uint8Array.of(1, 0, 1)],
      ['UINT8', 'uint8', [0, 255, 7], Uint8Array.of(0, 255, 7)],
      ['UINT16', 'uint16', [0, 65535, 7], Uint16Array.of(0, 65535, 7)],
      ['UINT32', 'uint32', [0, 4294967295, 7], Uint32Array.of(0, 4294967295, 7)],
      ['UINT64', 'uint64', [0, '18446744073709551615', 7], BigUint64Array.of(0n, 2n ** 64n - 1n, 7n)],
      ['INT8', 'int8', [-128, 127, 0], Int8Array.of(-128, 127, 0)],
      ['INT16', 'int16', [-32768, 32767, 0], Int16Array.of(-32768, 32767, 0)],
      ['INT32', 'int32', [-2147483648, 2147483647, 0], Int32Array.of(-2147483648, 2147483647, 0)],
      [
        'INT64',
        'int64',
        [-9007199254740991, '-9223372036854775808', 3],
        BigInt64Array.of(-9007199254740991n, -(2n ** 63n), 3n),
      ],
      ['FP16', 'float16', [1, -2, 0.5], Uint16Array.of(0x3c00, 0xc000, 0x3800)],
      ['FP32', 'float32', [1.5, -2, 1e-3], Float32Array.of(1.5, -2, 1e-3)],
      ['FP64', 'float64', [1.5, -2, 1e-300], Float64Array.of(1.5, -2, 1e-300)],
      ['BYTES', 'string', ['a', '', 'ü'], ['a', '', 'ü']],
    ];
    for (const [dt, type, data, expected] of cases) {
      const t = decode(dt, type, [3], data);
      assert.strictEqual(t.type, type);
      assert.deepStrictEqual(t.dims, [3]);
      assert.deepStrictEqual(t.data, expected, dt);
    }
  });

  it('refuses values that do not fit the type, naming the input and the element, never the value', () => {
    refused(
      () => decode('UINT8', 'uint8', [1], [256]),
      /input 'in' of m version 1: element 0 is out of range for uint8/,
    );
    refused(() => decode('INT32', 'int32', [1], [1.5]), /element 0 is not an integer/);
    refused(() => decode('BOOL', 'bool', [1], ['yes']), /element 0 is not a boolean \(found a string\)/);
    refused(() => decode('BYTES', 'string', [1], [5]), /element 0 is not a string \(found a number\)/);
    refused(() => decode('FP32', 'float32', [1], [null]), /element 0 is not a number \(found a null\)/);
    refused(() => decode('INT64', 'int64', [1], [2 ** 53 + 2]), /element 0 is beyond ±2\^53/);
    refused(() => decode('INT64', 'int64', [1], ['9223372036854775808']), /out of range for int64/);
    refused(() => decode('FP32', 'float32', [2], undefined), /no data \(nor parameters.binary_data_size\)/);
    assert.throws(
      () => decode('INT32', 'int32', [1], ['top-secret-value-1']),
      (e: Error) => e instanceof TensorError && !/top-secret/.test(e.message),
    );
  });

  it('nested data must match the shape exactly; flat data its element count', () => {
    const t = decode(
      'INT32',
      'int32',
      [2, 2],
      [
        [1, 2],
        [3, 4],
      ],
    );
    assert.deepStrictEqual(t.data, Int32Array.of(1, 2, 3, 4));
    refused(() => decode('INT32', 'int32', [2, 2], [[1, 2], [3]]), /at \[1\] expected 2 elements, found 1/);
    refused(() => decode('INT32', 'int32', [2, 2], [[1, 2], 3]), /at \[1\] expected 2 elements, found a single value/);
    refused(() => decode('INT32', 'int32', [2], [[1], [2]]), /nested data is deeper than shape \[2\] at \[0\]/);
    refused(() => decode('INT32', 'int32', [2, 2], [1, 2, 3]), /shape \[2, 2\] holds 4 elements; data has 3/);
  });

  it('checks shape and datatype against the model input: fixed dims exact, symbolic and −1 any', () => {
    const m = meta('float32', ['batch', 3, -1]);
    const t = decodeInput({ name: 'in', datatype: 'FP32', shape: [4, 3, 2], data: new Array(24).fill(0) }, m, 'm');
    assert.deepStrictEqual(t.dims, [4, 3, 2]);
    refused(
      () => decodeInput({ name: 'in', datatype: 'FP32', shape: [4, 2, 2], data: new Array(16).fill(0) }, m, 'm'),
      /input 'in' of m: the model expects shape \[-1, 3, -1\] \(−1: any size\); the request has \[4, 2, 2\]/,
    );
    refused(
      () => decodeInput({ name: 'in', datatype: 'FP32', shape: [3], data: [0, 0, 0] }, m, 'm'),
      /expects shape \[-1, 3, -1\].*has \[3\]/,
    );
    refused(
      () => decodeInput({ name: 'in', datatype: 'FP64', shape: [1, 3, 1], data: [0, 0, 0] }, m, 'm'),
      /expects datatype FP32; the request has FP64/,
    );
    refused(
      () => decodeInput({ name: 'in', datatype: 'FP32', shape: [-1, 3, 1], data: [0, 0, 0] }, m, 'm'),
      /shape must be an array of non-negative integers/,
    );
  });

  it('encodes outputs as JSON: FP16 as numbers, INT64 exactly, BOOL as booleans, BYTES as strings', () => {
    const j = (t: Parameters<typeof encodeOutput>[1]) =>
      JSON.parse(encodeOutput('o', t, false).json) as { data: unknown[] };
    assert.deepStrictEqual(
      j({ type: 'float16', dims: [3], data: Uint16Array.of(0x3c00, 0x3555, 0x7bff) }).data,
      [1, 0.333251953125, 65504],
    );
    assert.strictEqual(
      encodeOutput('o', { type: 'int64', dims: [2], data: BigInt64Array.of(2n ** 62n + 1n, -1n) }, false).json,
      '{"name":"o","datatype":"INT64","shape":[2],"data":[4611686018427387905,-1]}',
    );
    assert.deepStrictEqual(j({ type: 'bool', dims: [2], data: Uint8Array.of(1, 0) }).data, [true, false]);
    assert.deepStrictEqual(j({ type: 'string', dims: [2], data: ['x', '"q"'] }).data, ['x', '"q"']);
    assert.deepStrictEqual(j({ type: 'float32', dims: [2], data: Float32Array.of(NaN, 2) }).data, [null, 2]);
  });

  it('BYTES in binary: 4-byte little-endian lengths, decoded back; a short or ragged buffer refused', () => {
    const strings = ['', 'abc', 'ünï'];
    const bytes = tensorBytes({ type: 'string', dims: [3], data: strings });
    assert.strictEqual(bytes.readUInt32LE(0), 0);
    assert.strictEqual(bytes.readUInt32LE(4), 3);
    assert.strictEqual(bytes.readUInt32LE(11), Buffer.byteLength('ünï'));
    assert.deepStrictEqual(decode('BYTES', 'string', [3], undefined, bytes).data, strings);
    refused(
      () => decode('BYTES', 'string', [2], undefined, bytes),
      /the shape holds 2 elements; the binary BYTES data has 3/,
    );
    refused(
      () => decode('BYTES', 'string', [3], undefined, bytes.subarray(0, 9)),
      /element 1 is longer than the data left/,
    );
    refused(() => decode('BYTES', 'string', [3], undefined, bytes.subarray(0, 2)), /ends inside a length prefix/);
  });

  it('binary numeric tensors: exact byte counts, copies not views, BOOL bytes 0/1', () => {
    const raw = Buffer.from(Float32Array.of(1, 2, 3).buffer);
    const t = decode('FP32', 'float32', [3], undefined, raw);
    assert.deepStrictEqual(t.data, Float32Array.of(1, 2, 3));
    raw.fill(0);
    assert.deepStrictEqual(t.data, Float32Array.of(1, 2, 3));
    refused(
      () => decode('FP32', 'float32', [4], undefined, Buffer.alloc(12)),
      /4 elements of 4 bytes \(16 bytes\); binary_data_size is 12/,
    );
    refused(() => decode('BOOL', 'bool', [2], undefined, Buffer.from([1, 2])), /a byte other than 0 or 1/);
    const out = encodeOutput('o', { type: 'int64', dims: [1], data: BigInt64Array.of(-2n) }, true);
    assert.strictEqual(out.json, '{"name":"o","datatype":"INT64","shape":[1],"parameters":{"binary_data_size":8}}');
    assert.strictEqual(out.bytes!.readBigInt64LE(0), -2n);
  });

  it('splits a binary body by the header length and hands each input its bytes in order', () => {
    const head = Buffer.from('{"x":1}');
    const { json, rest } = splitBinaryBody(Buffer.concat([head, Buffer.from([1, 2, 3, 4, 5])]), String(head.length));
    assert.strictEqual(json.toString(), '{"x":1}');
    const a = { name: 'a', shape: [2], datatype: 'UINT8', parameters: { binary_data_size: 2 } };
    const b = { name: 'b', shape: [1], datatype: 'UINT8', data: [9] };
    const c = { name: 'c', shape: [3], datatype: 'UINT8', parameters: { binary_data_size: 3 } };
    const got = binaryInputs([a, b, c], rest);
    assert.deepStrictEqual([...got.get(a)!], [1, 2]);
    assert.deepStrictEqual([...got.get(c)!], [3, 4, 5]);
    assert.strictEqual(got.has(b), false);
    refused(() => binaryInputs([a], rest), /3 bytes after the JSON header that no input's binary_data_size claims/);
    refused(() => splitBinaryBody(Buffer.alloc(3), '10'), /no larger than the body \(3 bytes\)/);
    refused(() => splitBinaryBody(Buffer.alloc(3), 'x1'), /must be a byte count/);
  });

  it('warm-up zeros: the input shape with dynamic dims 1, empty strings for BYTES', () => {
    assert.deepStrictEqual(zerosFor(meta('float32', ['batch', 3])), {
      type: 'float32',
      dims: [1, 3],
      data: new Float32Array(3),
    });
    assert.deepStrictEqual(zerosFor(meta('int64', [2])), { type: 'int64', dims: [2], data: new BigInt64Array(2) });
    assert.deepStrictEqual(zerosFor(meta('string', [-1, 2])), { type: 'string', dims: [1, 2], data: ['', ''] });
  });
});

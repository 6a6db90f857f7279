/** Small real ONNX models written with protobufjs and the full ONNX schema, for onnxruntime tests. */
import * as protobuf from 'protobufjs';
import { ONNX_FULL_PROTO } from '../../../src/core/convert/onnx';

const root = protobuf.parse(ONNX_FULL_PROTO, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

export const FLOAT = 1;
export const INT64 = 7;
export const BOOL = 9;

export type Obj = Record<string, unknown>;
export const vi = (name: string, elem: number, dims: (number | string)[]): Obj => ({
  name,
  type: {
    tensor_type: {
      elem_type: elem,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
    },
  },
});
export const floatTensor = (name: string, dims: number[], vals: ArrayLike<number>): Obj => ({
  name,
  dims,
  data_type: FLOAT,
  raw_data: Buffer.from(Float32Array.from(vals).buffer),
});
export const int64Tensor = (name: string, dims: number[], vals: bigint[]): Obj => ({
  name,
  dims,
  data_type: INT64,
  raw_data: Buffer.from(BigInt64Array.from(vals).buffer),
});
export const node = (op_type: string, input: string[], output: string[], attribute: Obj[] = []): Obj => ({
  op_type,
  name: `${op_type}_${output[0]}`,
  input,
  output,
  attribute,
});

export function modelBytes(graph: Obj, opset = 13, irVersion = 8): Buffer {
  const model = {
    ir_version: irVersion,
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'modelreg-tests',
    graph,
  };
  const err = ModelProto.verify(model);
  if (err) throw new Error(err);
  return Buffer.from(ModelProto.encode(ModelProto.fromObject(model)).finish());
}

/** y = x + 1, repeated `trips` times by a Loop: with 10^15 trips a run that never ends in a test's lifetime. */
export function loopBytes(trips: bigint): Buffer {
  return modelBytes({
    name: 'loop',
    node: [
      node(
        'Loop',
        ['M', 'cond', 'x'],
        ['y'],
        [
          {
            name: 'body',
            type: 5,
            g: {
              name: 'body',
              node: [node('Identity', ['cond_in'], ['cond_out']), node('Add', ['v_in', 'one'], ['v_out'])],
              input: [vi('iter', INT64, []), vi('cond_in', BOOL, []), vi('v_in', FLOAT, [4])],
              output: [vi('cond_out', BOOL, []), vi('v_out', FLOAT, [4])],
            },
          },
        ],
      ),
    ],
    initializer: [
      int64Tensor('M', [], [trips]),
      { name: 'cond', dims: [], data_type: BOOL, raw_data: Buffer.from([1]) },
      floatTensor('one', [4], [1, 1, 1, 1]),
    ],
    input: [vi('x', FLOAT, [4])],
    output: [vi('y', FLOAT, [4])],
  });
}

/** out = x * 2 (float32), n = k + 1 (int64), h = Cast(x) to float16: three element types through one session. */
export function mixedBytes(): Buffer {
  return modelBytes({
    name: 'mixed',
    node: [
      node('Mul', ['x', 'two'], ['out']),
      node('Add', ['k', 'one'], ['n']),
      node('Cast', ['x'], ['h'], [{ name: 'to', type: 2, i: 10 }]),
    ],
    initializer: [floatTensor('two', [], [2]), int64Tensor('one', [], [1n])],
    input: [vi('x', FLOAT, ['batch', 3]), vi('k', INT64, [2])],
    output: [vi('out', FLOAT, ['batch', 3]), vi('n', INT64, [2]), vi('h', 10, ['batch', 3])],
  });
}

/** Small ONNX models for the serve tests, written with the ONNX schema (helpers/onnxModels.ts). */
import { BOOL, FLOAT, floatTensor, int64Tensor, INT64, modelBytes, node, vi } from '../../helpers/onnxModels';

const FLOAT16 = 10;
const STRING = 8;

/** y = a·x + b over rows of 3; the batch axis is dynamic, or fixed at `batch`. */
export function affineBytes(a: number[], b: number[], batch: number | string = 'batch'): Buffer {
  return modelBytes({
    name: 'affine',
    node: [node('Mul', ['x', 'a'], ['ax']), node('Add', ['ax', 'b'], ['y'])],
    initializer: [floatTensor('a', [3], a), floatTensor('b', [3], b)],
    input: [vi('x', FLOAT, [batch, 3])],
    output: [vi('y', FLOAT, [batch, 3])],
  });
}

/**
 * Four inputs of four types: sum = x + float(h) (FP32), half = fp16(sum) (FP16), n = k + 1 (INT64),
 * not = ¬flag (BOOL).
 */
export function mixedBytes(): Buffer {
  return modelBytes({
    name: 'mixed',
    node: [
      node('Cast', ['h'], ['hf'], [{ name: 'to', type: 2, i: FLOAT }]),
      node('Add', ['x', 'hf'], ['sum']),
      node('Cast', ['sum'], ['half'], [{ name: 'to', type: 2, i: FLOAT16 }]),
      node('Add', ['k', 'one'], ['n']),
      node('Not', ['flag'], ['not']),
    ],
    initializer: [int64Tensor('one', [], [1n])],
    input: [vi('x', FLOAT, ['batch', 3]), vi('h', FLOAT16, ['batch', 3]), vi('k', INT64, [2]), vi('flag', BOOL, [2])],
    output: [
      vi('sum', FLOAT, ['batch', 3]),
      vi('half', FLOAT16, ['batch', 3]),
      vi('n', INT64, [2]),
      vi('not', BOOL, [2]),
    ],
  });
}

/** text = Identity(s): strings in, the same strings out (BYTES). */
export function textBytes(): Buffer {
  return modelBytes({
    name: 'text',
    node: [node('Identity', ['s'], ['text'])],
    input: [vi('s', STRING, ['n'])],
    output: [vi('text', STRING, ['n'])],
  });
}

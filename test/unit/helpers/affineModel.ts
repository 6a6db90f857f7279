import { FLOAT, floatTensor, modelBytes, node, vi } from './onnxModels';

/** y = a·x + b over [batch, 4] with a = [1, 2, 3, 4], b = 0.5; the batch axis named, or fixed at `fixedBatch`. */
export function affineBytes(fixedBatch?: number): Buffer {
  const batch = fixedBatch ?? 'batch';
  return modelBytes({
    name: 'affine',
    node: [node('Mul', ['x', 'a'], ['ax']), node('Add', ['ax', 'b'], ['y'])],
    initializer: [floatTensor('a', [4], [1, 2, 3, 4]), floatTensor('b', [4], [0.5, 0.5, 0.5, 0.5])],
    input: [vi('x', FLOAT, [batch, 4])],
    output: [vi('y', FLOAT, [batch, 4])],
  });
}

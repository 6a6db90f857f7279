import { TensorSpec } from '../inspect/types';

/** What the built-in evaluator feeds: float32 rows of this per-sample shape, batched on the first axis. */
export interface FedInput {
  /** The per-sample dimensions, e.g. [3, 224, 224] for an image after preprocessing. */
  shape: number[];
  /** What the samples are, for the message: "images", "rows", "arrays". */
  what: string;
  /** The dataset's folder or file name, for the message. */
  from: string;
}

const shapeText = (dims: (number | string)[]) => `[${dims.join(', ')}]`;

/**
 * Why the model's inputs (its stored ONNX signature) cannot take what the dataset gives, or
 * undefined when they fit or the signature does not say. Checked before anything runs, so the user
 * reads "colour-net@v1 expects [batch, 16] (input 'input' of model.onnx); the dataset's images give
 * [batch, 3, 224, 224] (colours)" rather than onnxruntime's "Invalid rank for input".
 */
export function inputMismatch(
  model: { ref: string; file: string },
  inputs: TensorSpec[] | undefined,
  fed: FedInput,
): string | undefined {
  if (!inputs?.length) return undefined;
  const spec = inputs[0];
  const batch = typeof spec.shape[0] === 'number' ? spec.shape[0] : 'batch';
  const gives = (dtype: string) =>
    `the dataset's ${fed.what} give ${dtype}${shapeText([batch, ...fed.shape])} (${fed.from})`;
  if (inputs.length > 1)
    return `${model.ref} expects ${inputs.length} inputs (${inputs.map((i) => `${i.name} ${i.dtype}${shapeText(i.shape)}`).join(', ')} of ${model.file}); the built-in evaluator feeds one: ${gives('float32')}`;
  const expects = (dtype: string) =>
    `${model.ref} expects ${dtype}${shapeText(spec.shape)} (input '${spec.name}' of ${model.file})`;
  if (spec.dtype !== 'float32')
    return `${expects(spec.dtype)}; ${gives('float32')}, and the built-in evaluator feeds float32`;
  const fits =
    spec.shape.length === fed.shape.length + 1 &&
    spec.shape.slice(1).every((d, i) => typeof d !== 'number' || d === fed.shape[i]);
  return fits ? undefined : `${expects('')}; ${gives('')}`;
}

/** What the readers report about files in a training output. Plain data, JSON-serialisable. */

export type WeightFormat =
  'safetensors' | 'onnx' | 'gguf' | 'pytorch' | 'keras' | 'h5' | 'savedmodel' | 'tflite' | 'pickle' | 'tfjs';

export interface TensorSpec {
  name: string;
  /** Element type as the format names it, lower-case (float32, int64, f16, ...). */
  dtype: string;
  /** Dimensions; a symbolic or unknown dimension is a string (e.g. "batch", "?"). */
  shape: (number | string)[];
}

/** A model's inputs and outputs, as a version records them. */
export interface Signature {
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
}

/** What a file of a version is for. */
export type FileRole = 'weights' | 'config' | 'metrics' | 'params' | 'other';

export interface WeightInfo {
  format: WeightFormat;
  /** torch | onnx | tensorflow | keras | gguf | tflite | safetensors */
  framework: string;
  /** Total number of scalar parameters, when the header tells it without reading the weights. */
  parameterCount?: number;
  tensorCount?: number;
  /** dtype -> number of tensors of that dtype. */
  dtypes?: Record<string, number>;
  /** Model inputs/outputs (the signature), when the format declares them. */
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
  /** Format-specific facts (opset, producer, architecture, GGUF keys, Keras version, ...). */
  details: Record<string, unknown>;
}

export interface MetricSeries {
  key: string;
  steps: number[];
  values: number[];
  /** Seconds since the epoch, when the log has them; same length as steps. */
  wallTimes?: number[];
}

export interface MetricLog {
  /** Path of the log file relative to the imported root. */
  source: string;
  /** When the log was read from several files (TensorBoard event files), all of them; source is then their common folder. */
  files?: string[];
  series: MetricSeries[];
  /** When the log names a best value (e.g. HF trainer best_metric), it overrides "last value" as final. */
  best?: { key: string; value: number; step?: number };
}

import { FileEntry } from '../registry/types';

/** A parameter of a converter, shown in the QuickPick/form with its default; values arrive as strings. */
export interface ParamSpec {
  name: string;
  description: string;
  default: string;
  /** When set, the only accepted values. */
  choices?: string[];
}

export interface ConvertOptions {
  /** Every declared parameter, defaults filled in. */
  params: Record<string, string>;
  signal?: AbortSignal;
  /** Bytes of the input read since the last call. */
  onBytes?: (n: number) => void;
  /** A line for the conversion log (output channel, stderr). */
  log?: (line: string) => void;
  /** How messages and written metadata name the input: the version's file (resnet@v2:model.pt), not the object path. */
  name?: string;
  /** The converted file's path in the version (model/net.onnx), for messages and files beside it. */
  path?: string;
  /** Where another file of the same version is on disk, by its path in the version (example inputs…). */
  versionFile?: (path: string) => string | undefined;
}

/**
 * Rewrites one kind of weight file. A conversion runs it on every file of a version it accepts and
 * keeps the other files as they are (same objects, nothing copied); the result is a new version whose
 * parent is the input.
 */
export interface FileConverter {
  /** What `modelreg convert --to` names: fp16, bf16, fp32, onnx-fp16, onnx-int8, safetensors. */
  id: string;
  title: string;
  description: string;
  /** The format the converted files have (the new version's format). */
  targetFormat: string;
  /** The element type it writes the weights in (fp16, int8…), recorded as details.conversion.dtype; unset when it keeps them. */
  targetDtype?: string;
  params: ParamSpec[];
  /** Whether this converter rewrites that file of a version. */
  accepts(file: FileEntry): boolean;
  /** When set, it reads only files the version's reader recognised as this format (details.weights). */
  inputFormat?: string;
  /** The converted file's path in the new version (e.g. model.pt → model.safetensors). */
  outputPath(path: string): string;
  /**
   * Reads `src`, writes the converted file to `dest` (which does not exist yet), checks the result by
   * reading it back, and returns numbers worth keeping (sizes, max abs error, tensors converted…).
   * Throws InputError naming `src` when the input is broken; CancelledError on abort.
   */
  convert(src: string, dest: string, opts: ConvertOptions): Promise<Record<string, unknown>>;
}

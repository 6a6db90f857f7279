/** Entry point of the weight readers: pick the reader by file name, let it check the magic bytes. */
import { stat } from 'fs/promises';
import * as path from 'path';
import { InputError } from '../../errors';
import type { WeightInfo } from '../types';
import { readGguf } from './gguf';
import { readHdf5, readKerasArchive } from './keras';
import { readOnnx } from './onnx';
import { readPickleFile } from './pickled';
import { readPytorch } from './pytorch';
import { readAt, withFile } from './read';
import { readSafetensors } from './safetensors';
import { readSavedModel } from './savedmodel';
import { readTfjs } from './tfjs';
import { readTflite } from './tflite';

type Kind = 'safetensors' | 'onnx' | 'gguf' | 'pytorch' | 'keras' | 'h5' | 'savedmodel' | 'tflite' | 'pickle' | 'tfjs';

/** torch.save files of Trainer/Lightning state that hold no model weights. */
const NOT_WEIGHTS = /^(training_args\.bin|optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state(_\d+)?\.pth)$/;

function kindOf(name: string): Kind | undefined {
  const n = name.toLowerCase();
  if (NOT_WEIGHTS.test(n)) return undefined;
  if (n === 'saved_model.pb') return 'savedmodel';
  if (n === 'model.json') return 'tfjs'; // TF.js; the reader says no to other model.json files
  const ext = path.extname(n);
  switch (ext) {
    case '.safetensors':
      return 'safetensors';
    case '.onnx':
      return 'onnx';
    case '.gguf':
      return 'gguf';
    case '.pt':
    case '.pth':
    case '.bin':
    case '.ckpt':
      return 'pytorch';
    case '.keras':
      return 'keras';
    case '.h5':
    case '.hdf5':
      return 'h5';
    case '.tflite':
      return 'tflite';
    case '.pkl':
    case '.pickle':
    case '.joblib':
      return 'pickle';
    default:
      return undefined;
  }
}

/** Cheap, name-only check: is this a file inspectWeights may recognise? */
export function isWeightFileName(name: string): boolean {
  return kindOf(path.basename(name)) !== undefined;
}

/**
 * Describes a weights file from its headers. Undefined when the file is not weights (by name, or a
 * `.bin` that is no torch checkpoint); InputError when it claims a format but is corrupt.
 */
export async function inspectWeights(file: string): Promise<WeightInfo | undefined> {
  const kind = kindOf(path.basename(file));
  if (!kind) return undefined;
  const st = await stat(file);
  if (!st.isFile()) return undefined;
  const head = await withFile(file, (fh) => readAt(fh, 0, 4));
  // llama.cpp models are sometimes named .bin: the magic wins over the extension.
  if (head.toString('latin1') === 'GGUF') return readGguf(file);
  if (kind === 'pytorch') return readPytorch(file); // decides itself about empty and foreign .bin files
  if (st.size === 0) throw new InputError(file, 'empty file');
  switch (kind) {
    case 'safetensors':
      return readSafetensors(file);
    case 'onnx':
      return readOnnx(file);
    case 'gguf':
      return readGguf(file);
    case 'keras':
      return readKerasArchive(file);
    case 'h5':
      return readHdf5(file);
    case 'savedmodel':
      return readSavedModel(file);
    case 'tflite':
      return readTflite(file);
    case 'pickle':
      return readPickleFile(file);
    case 'tfjs':
      return readTfjs(file);
  }
}

export {
  readPickleFile,
  readTfjs,
  readGguf,
  readHdf5,
  readKerasArchive,
  readOnnx,
  readPytorch,
  readSafetensors,
  readSavedModel,
  readTflite,
};

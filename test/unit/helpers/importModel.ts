import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { importTrainingOutput } from '../../../src/core/importers/trainingOutput';
import { Registry } from '../../../src/core/registry/registry';

/** Imports `onnx` (with an optional config.json beside it) from `<work>/models/<name>` as model `name`. */
export async function importOnnxModel(r: Registry, work: string, name: string, onnx: Buffer, config?: unknown) {
  const dir = path.join(work, 'models', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.onnx'), onnx);
  if (config) writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return importTrainingOutput(r, dir, { model: name });
}

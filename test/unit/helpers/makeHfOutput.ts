import { mkdirSync } from 'fs';
import * as path from 'path';
import { writeParamsFile, writeTrainerState } from './makeLogs';
import { writeSafetensors, writeTorchZip } from './makeWeights';

// Weights filled by step, so each checkpoint's file differs from the others and from the final one.
const tensors = (hidden: number, fill: number) => [
  { name: 'bert.embeddings.word_embeddings.weight', dtype: 'F32', shape: [100, hidden], fill },
  { name: 'classifier.weight', dtype: 'F32', shape: [2, hidden], fill },
  { name: 'classifier.bias', dtype: 'F32', shape: [2], fill },
];

/**
 * A Hugging Face Trainer output as `Trainer.train()` + `save_model()` leave it: config.json with
 * architectures, model.safetensors, training_args.json, trainer_state.json, and a checkpoint-N
 * folder per save (its own weights, optimizer.pt, scheduler.pt, rng_state.pth, trainer_state.json).
 * `final: false` leaves out the top-level weights (a run stopped before save_model).
 */
export async function writeHfOutput(
  dir: string,
  opts: { checkpoints?: number[]; final?: boolean } = {},
): Promise<void> {
  const steps = opts.checkpoints ?? [50, 100];
  const total = steps.length ? Math.max(...steps) : 100;
  mkdirSync(dir, { recursive: true });
  const config = {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    hidden_size: 16,
    num_labels: 2,
  };
  const writeRun = async (folder: string, step: number, optimizer: boolean) => {
    mkdirSync(folder, { recursive: true });
    await writeSafetensors(path.join(folder, 'model.safetensors'), tensors(16, optimizer ? step / 1000 : -1), {
      format: 'pt',
    });
    await writeParamsFile(path.join(folder, 'config.json'), config);
    await writeTrainerState(path.join(folder, 'trainer_state.json'), {
      totalSteps: step,
      loggingSteps: 10,
      evalSteps: 50,
    });
    if (!optimizer) return;
    await writeTorchZip(path.join(folder, 'optimizer.pt'), { prefix: 'optimizer', storages: [2 * 16 * 102] });
    await writeTorchZip(path.join(folder, 'scheduler.pt'), { prefix: 'scheduler', storages: [8] });
    await writeTorchZip(path.join(folder, 'rng_state.pth'), { prefix: 'rng_state', storages: [16] });
  };
  for (const step of steps) await writeRun(path.join(dir, `checkpoint-${step}`), step, true);
  if (opts.final ?? true) await writeRun(dir, total, false);
  else await writeParamsFile(path.join(dir, 'config.json'), config);
  await writeParamsFile(path.join(dir, 'training_args.json'), { learning_rate: 5e-5, save_steps: 50, output_dir: dir });
}

/**
 * The detached runner process: `node runnerHost.js REGISTRY_DIR BATCH`. Started by startTraining
 * (runs.ts) in a session of its own; it runs the batch and exits. What it prints goes to
 * `<registry>/runs/<batch>.runner.log`.
 */
import { Registry } from '../registry/registry';
import { runBatch } from './runner';

async function main(): Promise<void> {
  const [dir, batch] = process.argv.slice(2);
  if (!dir || !batch) throw new Error('usage: runnerHost.js REGISTRY_DIR BATCH');
  // A stop signals the training's process group, never this one; SIGHUP from a closing terminal is ignored.
  process.on('SIGHUP', () => undefined);
  const registry = await Registry.open(dir);
  try {
    await runBatch(registry, batch);
  } finally {
    await registry.close();
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`modelreg runner: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);

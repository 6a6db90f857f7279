// Moving a version to serving engines: export --as triton|kserve, and push-image.
import { Command } from 'commander';
import {
  DEFAULT_BATCH_DELAY_MS,
  DEFAULT_MAX_BATCH,
  exportKServe,
  exportTriton,
  INFERENCE_SERVICE_FILE,
  InputError,
  KServeFormat,
  pushImage,
  Registry,
} from '../core';
import { formatBytes } from '../shared/format';
import { withProgress } from './progress';

type WithRegistry = <T>(fn: (r: Registry) => Promise<T>) => Promise<T>;

export interface EngineExportOptions {
  as: string;
  maxBatch?: string;
  batchDelayMs?: string;
  force?: boolean;
  storageUri?: string;
  modelFormat?: string;
  json?: boolean;
}

/** Options of `export` that only --as triton/kserve take. */
export function addEngineExportOptions(cmd: Command): Command {
  return cmd
    .option(
      '--as <kind>',
      'archive, triton (a Triton model repository in the folder DEST), or kserve (that plus inferenceservice.yaml)',
      'archive',
    )
    .option(
      '--max-batch <n>',
      `triton/kserve: the largest batch Triton forms when every input and output has a dynamic first axis; 0 turns batching off (default ${DEFAULT_MAX_BATCH})`,
    )
    .option(
      '--batch-delay-ms <ms>',
      `triton/kserve: how long the dynamic batcher waits to fill a batch (default ${DEFAULT_BATCH_DELAY_MS})`,
    )
    .option('--force', "triton/kserve: replace the model folder's config.pbtxt and version folder (and the manifest)")
    .option(
      '--storage-uri <uri>',
      'kserve: where the repository will be uploaded, s3://BUCKET/PREFIX (default: the team store --store + /triton)',
    )
    .option('--model-format <name>', 'kserve: the predictor modelFormat, triton or onnx', 'triton');
}

function number(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InputError(option, `${JSON.stringify(value)} is not a number`);
  return n;
}

/** export REF --as triton|kserve DEST. */
export async function engineExport(
  r: Registry,
  ref: string,
  dest: string,
  o: EngineExportOptions,
  teamStore: string | undefined,
  print: (value: unknown) => void,
): Promise<void> {
  if (o.as !== 'triton' && o.as !== 'kserve')
    throw new InputError(`--as ${o.as}`, 'is not an export kind; give archive, triton or kserve');
  if (o.modelFormat !== undefined && o.modelFormat !== 'triton' && o.modelFormat !== 'onnx')
    throw new InputError(
      `--model-format ${o.modelFormat}`,
      'is not a KServe model format modelreg writes; give triton or onnx',
    );
  const opts = {
    maxBatch: number(o.maxBatch, '--max-batch'),
    batchDelayMs: number(o.batchDelayMs, '--batch-delay-ms'),
    force: o.force,
  };
  if (o.as === 'triton') {
    // Ctrl+C stops a long copy (another filesystem) cleanly.
    const out = await withProgress('exporting', 'bytes', (signal) => exportTriton(r, ref, dest, { ...opts, signal }));
    if (o.json)
      return print({
        ref: out.version.ref,
        repository: out.repository,
        modelDir: out.modelDir,
        maxBatchSize: out.maxBatchSize,
        files: out.files,
        linked: out.linked,
      });
    console.log(
      `Exported ${out.version.ref} as the Triton model ${out.modelDir} (version ${out.version.number}, max_batch_size ${out.maxBatchSize}, ${out.linked ? 'hard-linked from the store' : 'copied'})`,
    );
    console.log(`  serve it: tritonserver --model-repository ${out.repository}`);
    return;
  }
  const storageUri = o.storageUri ?? (teamStore ? `${teamStore.replace(/\/+$/, '')}/triton` : undefined);
  const out = await withProgress('exporting', 'bytes', (signal) =>
    exportKServe(r, ref, dest, { ...opts, signal, storageUri, modelFormat: o.modelFormat as KServeFormat }),
  );
  if (o.json)
    return print({
      ref: out.version.ref,
      repository: out.repository,
      modelDir: out.modelDir,
      maxBatchSize: out.maxBatchSize,
      manifest: out.manifest,
      storageUri: out.storageUri ?? null,
    });
  console.log(
    `Exported ${out.version.ref} as the Triton model ${out.modelDir} and the KServe manifest ${out.manifest}`,
  );
  if (out.storageUri)
    console.log(
      `  upload, then apply: aws s3 sync ${out.repository} ${out.storageUri} --exclude ${INFERENCE_SERVICE_FILE} && kubectl apply -f ${out.manifest}`,
    );
  else console.error(`modelreg: note: edit storageUri in ${out.manifest} (no --storage-uri and no team store)`);
}

export function registerEngineCommands(program: Command, withRegistry: WithRegistry, print: (value: unknown) => void) {
  program
    .command('push-image')
    .description(
      `push a version as an OCI image: one layer with its files under /model (as import-image --path /model reads them)`,
    )
    .argument('<ref>')
    .argument('<image>', 'REGISTRY/REPOSITORY:TAG')
    .option(
      '--layout <layout>',
      "files: the version's files under /model; triton: a Triton model repository under /models (ONNX versions; KServe reads it from storageUri oci://IMAGE)",
      'files',
    )
    .option('--max-batch <n>', `--layout triton: as for export --as triton (default ${DEFAULT_MAX_BATCH})`)
    .option('--batch-delay-ms <ms>', `--layout triton: as for export --as triton (default ${DEFAULT_BATCH_DELAY_MS})`)
    .option('--username <user>', 'registry user; the password comes from MODELREG_REGISTRY_PASSWORD')
    .option(
      '--allow-token-realm <host...>',
      "let the registry's token service on this host get the credentials (needed when it is not the registry's own host over https)",
      [],
    )
    .option('--json', 'machine-readable output')
    .action(
      async (
        ref: string,
        image: string,
        o: {
          layout: string;
          maxBatch?: string;
          batchDelayMs?: string;
          username?: string;
          allowTokenRealm: string[];
          json?: boolean;
        },
      ) =>
        withRegistry((r) =>
          withProgress('uploading', 'bytes', async (signal, onProgress) => {
            const out = await pushImage(r, ref, image, {
              layout: o.layout as 'files' | 'triton',
              maxBatch: number(o.maxBatch, '--max-batch'),
              batchDelayMs: number(o.batchDelayMs, '--batch-delay-ms'),
              username: o.username,
              password: process.env.MODELREG_REGISTRY_PASSWORD,
              allowTokenRealms: o.allowTokenRealm,
              signal,
              onProgress,
            });
            if (o.json)
              return print({
                ref: out.version.ref,
                image: out.image,
                tag: out.tag,
                digest: out.digest,
                layer: out.layer,
                uploaded: out.uploaded,
                skipped: out.skipped,
              });
            console.log(
              `Pushed ${out.version.ref} as ${out.image} (tag ${out.tag}; files under ${out.root}; layer ${formatBytes(out.layer.size)}, ${out.skipped ? `${out.skipped} of 2 blobs already there` : 'all blobs uploaded'})`,
            );
          }),
        ),
    );
}

/**
 * A KServe InferenceService for a Triton model repository (see triton.ts): the predictor loads the
 * repository from object storage (storageUri, the folder holding NAME/config.pbtxt) into KServe's
 * Triton runtime and speaks the Open Inference Protocol (v2).
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { InputError } from '../errors';
import { Registry } from '../registry/registry';
import { exportTriton, TritonExport, TritonOptions } from './triton';

export type KServeFormat = 'triton' | 'onnx';

export interface KServeOptions extends TritonOptions {
  /** Where the repository will be uploaded (s3://bucket/prefix, gs://…); undefined writes a placeholder to edit. */
  storageUri?: string;
  /** The predictor's modelFormat: triton (default) or onnx (both run on KServe's Triton runtime). */
  modelFormat?: KServeFormat;
}

/** Written when no storage URI is known: the manifest says to edit it, and KServe rejects it until then. */
export const STORAGE_PLACEHOLDER = 's3://EDIT-ME-bucket/path/to/this-triton-repository';

export const INFERENCE_SERVICE_FILE = 'inferenceservice.yaml';

/** A Kubernetes object name (RFC 1035 label): lower case letters, digits and '-', starting with a letter, ≤ 63. */
export function kubernetesName(model: string): string {
  const n = model
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return (/^[a-z]/.test(n) ? n : `m-${n}`).slice(0, 63).replace(/-+$/, '');
}

export function inferenceServiceYaml(
  model: string,
  ref: string,
  storageUri: string | undefined,
  modelFormat: KServeFormat = 'triton',
): string {
  if (storageUri !== undefined && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(storageUri))
    throw new InputError(storageUri, 'is not a storage URI (s3://BUCKET/PREFIX, gs://…, pvc://…)');
  const doc = {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: kubernetesName(model), annotations: { 'modelreg/ref': ref } },
    spec: {
      predictor: {
        model: {
          modelFormat: { name: modelFormat },
          protocolVersion: 'v2',
          storageUri: storageUri ?? STORAGE_PLACEHOLDER,
        },
      },
    },
  };
  const head = [
    `# KServe InferenceService for ${ref}, written by modelreg export --as kserve.`,
    `# storageUri is the folder holding ${model}/config.pbtxt: upload this repository there first.`,
    ...(storageUri === undefined
      ? ['# EDIT storageUri: no --storage-uri was given and no team store is configured.']
      : []),
  ];
  return head.map((l) => l + '\n').join('') + stringify(doc);
}

/** The Triton repository in DIR plus DIR/inferenceservice.yaml. */
export async function exportKServe(
  registry: Registry,
  ref: string,
  dir: string,
  opts: KServeOptions = {},
): Promise<TritonExport & { manifest: string; storageUri: string | undefined }> {
  const manifestPath = path.join(path.resolve(dir), INFERENCE_SERVICE_FILE);
  const version = await registry.resolve(ref);
  // Checked before anything is written, as the URI and the manifest's place are.
  const text = inferenceServiceYaml(version.model, version.ref, opts.storageUri, opts.modelFormat);
  if (!opts.force && (await fsp.lstat(manifestPath).catch(() => undefined)))
    throw new InputError(manifestPath, 'already exists; nothing was written (--force replaces it)');
  const out = await exportTriton(registry, version.ref, dir, opts);
  await fsp.writeFile(manifestPath, text);
  return { ...out, manifest: manifestPath, storageUri: opts.storageUri };
}

/**
 * A version as a Triton model repository (what Triton's onnxruntime backend, and KServe's Triton
 * runtime, load):
 *   DIR/NAME/config.pbtxt          name, platform, max_batch_size, inputs and outputs, dynamic batching
 *   DIR/NAME/VERSION/model.onnx    the version's ONNX file (a hard link to the stored object, else a copy)
 * The config comes from the signature the ONNX reader recorded at import; field names and types
 * follow Triton's ModelConfig protobuf (model_config.proto).
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { CancelledError, InputError, RegistryError } from '../errors';
import { Signature, TensorSpec } from '../inspect/types';
import { Registry } from '../registry/registry';
import { FileEntry, VersionRecord } from '../registry/types';

export interface TritonOptions {
  /** The largest batch Triton may form when every input and output has a dynamic first axis; 0 turns batching off. */
  maxBatch?: number;
  /** How long Triton's dynamic batcher waits for more requests to fill a batch, in milliseconds. */
  batchDelayMs?: number;
  /** Replace DIR/NAME/config.pbtxt and DIR/NAME/VERSION when the model's folder exists (other versions stay). */
  force?: boolean;
  signal?: AbortSignal;
}

export const DEFAULT_MAX_BATCH = 8;
export const DEFAULT_BATCH_DELAY_MS = 1;

export interface TritonExport {
  version: VersionRecord;
  /** DIR (the model repository) and DIR/NAME. */
  repository: string;
  modelDir: string;
  /** The config.pbtxt text written. */
  config: string;
  maxBatchSize: number;
  /** The files under DIR/NAME/VERSION, and whether they are hard links to the store (false: copies). */
  files: string[];
  linked: boolean;
}

/** ONNX element types (as the reader names them) → Triton's DataType. */
const TRITON_TYPES: Record<string, string> = {
  bool: 'TYPE_BOOL',
  uint8: 'TYPE_UINT8',
  uint16: 'TYPE_UINT16',
  uint32: 'TYPE_UINT32',
  uint64: 'TYPE_UINT64',
  int8: 'TYPE_INT8',
  int16: 'TYPE_INT16',
  int32: 'TYPE_INT32',
  int64: 'TYPE_INT64',
  float16: 'TYPE_FP16',
  float32: 'TYPE_FP32',
  float64: 'TYPE_FP64',
  string: 'TYPE_STRING',
  bfloat16: 'TYPE_BF16',
};

/** A protobuf text-format string: quotes, backslashes and control characters escaped (octal, as text format reads them). */
function pbString(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it escapes
  const body = s.replace(/[\\"\x00-\x1f\x7f]/g, (c) => {
    if (c === '\\' || c === '"') return '\\' + c;
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return '\\' + c.charCodeAt(0).toString(8).padStart(3, '0');
  });
  return `"${body}"`;
}

const isDynamic = (d: number | string) => typeof d === 'string' || d < 0;

/**
 * config.pbtxt for an ONNX signature. Batching (max_batch_size = maxBatch, dims without the batch
 * axis, dynamic_batching) only when every input and output has a dynamic first axis: Triton
 * requires the batch axis on all of them. Otherwise max_batch_size 0 and the full shapes.
 */
export function tritonConfig(
  name: string,
  signature: Signature,
  opts: { maxBatch?: number; batchDelayMs?: number; where?: string } = {},
): { text: string; maxBatchSize: number } {
  const where = opts.where ?? name;
  const inputs = signature.inputs ?? [];
  const outputs = signature.outputs ?? [];
  if (inputs.length === 0 || outputs.length === 0)
    throw new InputError(where, 'the version records no ONNX inputs or outputs; Triton needs both in config.pbtxt');
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 0)
    throw new InputError(String(opts.maxBatch), 'the largest batch must be a whole number ≥ 0 (0 turns batching off)');
  const delayMs = opts.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS;
  if (!Number.isFinite(delayMs) || delayMs < 0)
    throw new InputError(String(opts.batchDelayMs), 'the batch delay must be a number of milliseconds ≥ 0');
  const all = [...inputs, ...outputs];
  const batching = maxBatch > 0 && all.every((t) => t.shape.length > 0 && isDynamic(t.shape[0]));
  const tensor = (kind: 'input' | 'output', t: TensorSpec) => {
    const type = TRITON_TYPES[t.dtype];
    if (!type)
      throw new InputError(
        where,
        `${kind} '${t.name}' is ${t.dtype}, which Triton has no data type for (it takes bool, (u)int8-64, float16/32/64, bfloat16, string)`,
      );
    const dims = (batching ? t.shape.slice(1) : t.shape).map((d) => (isDynamic(d) ? -1 : d));
    // Triton wants at least one dim: a scalar (per batch item) is [1] reshaped to [].
    const shape = dims.length ? `dims: [ ${dims.join(', ')} ]` : 'dims: [ 1 ]\n    reshape: { shape: [ ] }';
    return `  {\n    name: ${pbString(t.name)}\n    data_type: ${type}\n    ${shape}\n  }`;
  };
  const lines = [
    `name: ${pbString(name)}`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${batching ? maxBatch : 0}`,
    `input [\n${inputs.map((t) => tensor('input', t)).join(',\n')}\n]`,
    `output [\n${outputs.map((t) => tensor('output', t)).join(',\n')}\n]`,
  ];
  if (batching) lines.push(`dynamic_batching {\n  max_queue_delay_microseconds: ${Math.round(delayMs * 1000)}\n}`);
  return { text: lines.join('\n') + '\n', maxBatchSize: batching ? maxBatch : 0 };
}

/** Whether the ONNX reader saw tensors stored in files beside the .onnx (they must go along). */
function hasExternalData(details: unknown, depth = 0): boolean {
  if (!details || typeof details !== 'object' || depth > 6) return false;
  const d = details as Record<string, unknown>;
  if (typeof d.externalDataTensors === 'number' && d.externalDataTensors > 0) return true;
  return Object.values(d).some((v) => hasExternalData(v, depth + 1));
}

/** The version's ONNX file, and the files its external data needs (beside it, same relative paths). */
export function onnxFilesOf(version: VersionRecord, files: FileEntry[]): { onnx: FileEntry; extra: FileEntry[] } {
  const onnx = files.filter((f) => f.path.toLowerCase().endsWith('.onnx'));
  if (version.format !== 'onnx' || onnx.length === 0)
    throw new InputError(
      version.ref,
      `${version.format ? `a ${version.format} version` : 'a version of no recognised format'}, not ONNX; Triton's onnxruntime backend needs an ONNX version (modelreg convert ${version.ref} --to … makes one)`,
    );
  if (onnx.length > 1)
    throw new InputError(
      version.ref,
      `holds ${onnx.length} ONNX files (${onnx.map((f) => f.path).join(', ')}); a Triton model takes one`,
    );
  const dir = path.posix.dirname(onnx[0].path);
  const extra = hasExternalData(version.details)
    ? files.filter(
        (f) =>
          f !== onnx[0] &&
          (f.role === 'weights' || f.role === 'other') &&
          (dir === '.' || f.path.startsWith(dir + '/')),
      )
    : [];
  return { onnx: onnx[0], extra };
}

/** What a Triton model folder holds for a version: config.pbtxt, and VERSION/… → stored objects. */
export async function tritonModel(
  registry: Registry,
  version: VersionRecord,
  opts: Pick<TritonOptions, 'maxBatch' | 'batchDelayMs'> = {},
): Promise<{ config: string; maxBatchSize: number; files: { path: string; sha256: string; size: number }[] }> {
  if (version.status !== 'ready')
    throw new RegistryError(`${version.ref} is ${version.status}; only ready versions can be exported`);
  const { onnx, extra } = onnxFilesOf(version, await registry.files(version.id));
  const { text, maxBatchSize } = tritonConfig(version.model, version.signature, { ...opts, where: version.ref });
  const onnxDir = path.posix.dirname(onnx.path);
  const files = [onnx, ...extra].map((f) => ({
    // External data is found relative to the model file: the same paths beside it.
    path: `${version.number}/${f === onnx ? 'model.onnx' : onnxDir === '.' ? f.path : path.posix.relative(onnxDir, f.path)}`,
    sha256: f.sha256,
    size: f.size,
  }));
  return { config: text, maxBatchSize, files };
}

/** A hard link to the stored object (same filesystem), else a copy the user may change. */
async function place(registry: Registry, sha256: string, at: string): Promise<boolean> {
  await fsp.mkdir(path.dirname(at), { recursive: true });
  const object = registry.store.objectPath(sha256);
  try {
    await fsp.link(object, at);
    return true;
  } catch (e) {
    if (!['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP'].includes((e as NodeJS.ErrnoException).code ?? ''))
      throw e;
  }
  await fsp.copyFile(object, at);
  await fsp.chmod(at, 0o644); // objects are read-only; the copy is the user's
  return false;
}

const exists = (p: string) =>
  fsp.lstat(p).then(
    () => true,
    (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : Promise.reject(e)),
  );

/** Writes DIR/NAME/config.pbtxt and DIR/NAME/VERSION/model.onnx for an ONNX version. */
export async function exportTriton(
  registry: Registry,
  ref: string,
  dir: string,
  opts: TritonOptions = {},
): Promise<TritonExport> {
  const version = await registry.resolve(ref);
  const { config: text, maxBatchSize, files } = await tritonModel(registry, version, opts);
  const repository = path.resolve(dir);
  const modelDir = path.join(repository, version.model);
  const versionDir = path.join(modelDir, String(version.number));
  if (!opts.force && (await exists(modelDir)))
    throw new InputError(
      modelDir,
      'already exists; nothing was written (--force replaces its config.pbtxt and version folder, keeping other versions)',
    );
  // Built beside the model's folder and moved in when whole: a failed export leaves nothing half-written.
  await fsp.mkdir(repository, { recursive: true });
  const staging = path.join(repository, `.${version.model}.${process.pid}.partial`);
  await fsp.rm(staging, { recursive: true, force: true });
  // Should this process die, gc removes the staging folder through the store's note of it.
  const forget = await registry.store.noteOutsideTemp(staging);
  try {
    let linked = true;
    const stagedVersion = path.join(staging, String(version.number));
    for (const f of files) {
      if (opts.signal?.aborted) throw new CancelledError();
      linked = (await place(registry, f.sha256, path.join(staging, ...f.path.split('/')))) && linked;
    }
    await fsp.writeFile(path.join(staging, 'config.pbtxt'), text);
    if (!(await exists(modelDir))) await fsp.rename(staging, modelDir);
    else {
      await fsp.rm(versionDir, { recursive: true, force: true });
      await fsp.rename(stagedVersion, versionDir);
      await fsp.rename(path.join(staging, 'config.pbtxt'), path.join(modelDir, 'config.pbtxt'));
    }
    return {
      version,
      repository,
      modelDir,
      config: text,
      maxBatchSize,
      files: files.map((f) => f.path.slice(f.path.indexOf('/') + 1)),
      linked,
    };
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
    await forget();
  }
}

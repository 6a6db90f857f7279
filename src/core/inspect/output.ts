import { promises as fsp } from 'fs';
import * as path from 'path';
import type { WalkedFile } from '../util/walk';
import { InputError } from '../errors';
import { metricLogKind, readMetricLogs, readParamFiles } from './logs';
import { FileRole, MetricLog, Signature, WeightInfo } from './types';
import { inspectWeights, isWeightFileName } from './weights';

/** One model among the weights: a single file, or the shards of one (model-0000k-of-0000n…). */
export interface ModelFiles {
  files: string[];
  format: string;
  parameterCount: number | null;
  signature: Signature;
}

export interface InspectedOutput {
  weights: { rel: string; info: WeightInfo }[];
  /** The models the primary weights make up; more than one for a folder of independent models. */
  models: ModelFiles[];
  metrics: MetricLog[];
  /** One object per parameter file, keyed by its path relative to the root. */
  params: Record<string, unknown>;
  format: string | null;
  framework: string | null;
  parameterCount: number | null;
  signature: Signature;
  roles: Map<string, FileRole>;
}

/**
 * Reads everything we can learn from a training output without executing anything. `files` are
 * the files to store; `sidecars` are read for metadata only (logs beside a single imported file).
 * Corrupt weights or logs throw InputError before anything is stored.
 */
export async function inspectOutput(
  root: string,
  files: WalkedFile[],
  sidecars: WalkedFile[] = [],
): Promise<InspectedOutput> {
  const roles = new Map<string, FileRole>();
  const weights: { rel: string; info: WeightInfo }[] = [];
  for (const f of files) {
    if (!isWeightFileName(path.basename(f.rel))) continue;
    const info = await inspectWeights(f.abs);
    if (info) {
      weights.push({ rel: f.rel, info });
      roles.set(f.rel, 'weights');
      // A TF.js model.json names its .bin shards, which are its weights too.
      for (const shard of info.format === 'tfjs' ? (info.details.shards as string[]) : [])
        roles.set(path.posix.join(path.posix.dirname(f.rel), shard), 'weights');
    }
  }
  const all = [...files, ...sidecars];
  const rels = all.map((f) => f.rel);
  const metrics = await withRootInErrors(root, () =>
    readMetricLogs(
      root,
      rels.filter((r) => metricLogKind(r) !== undefined),
    ),
  );
  for (const m of metrics) for (const f of m.files ?? [m.source]) roles.set(f, 'metrics');
  // Logs the readers skip on purpose (trainer states copied into checkpoint-N/) are still logs.
  for (const rel of rels)
    if (!roles.has(rel) && ['hf-trainer-state', 'tfevents'].includes(metricLogKind(rel) ?? ''))
      roles.set(rel, 'metrics');
  const params = await withRootInErrors(root, () => readParamFiles(root, rels));
  for (const rel of Object.keys(params))
    if (!roles.has(rel)) roles.set(rel, path.posix.basename(rel) === 'config.json' ? 'config' : 'params');
  for (const f of files) if (!roles.has(f.rel)) roles.set(f.rel, 'other');

  const primary = primaryWeights(weights);
  const first = primary[0]?.info;
  const models = groupModels(primary, await shardIndexes(files, primary));
  // Several independent models (openWakeWord's nine ONNX files) have no one count or signature;
  // copies of one model (best.pt, last.pt) do.
  const same = <T>(f: (m: ModelFiles) => T) =>
    models.every((m) => JSON.stringify(f(m)) === JSON.stringify(f(models[0])));
  return {
    weights,
    models,
    metrics,
    params,
    format: first?.format ?? null,
    framework: first ? frameworkOf(first, primary[0].rel, params) : null,
    parameterCount: models.length && same((m) => m.parameterCount) ? models[0].parameterCount : null,
    signature: models.length && same((m) => m.signature) ? models[0].signature : {},
    roles,
  };
}

/** Hugging Face shard names: model-00001-of-00003.safetensors, pytorch_model-00001-of-00002.bin. */
const SHARD = /^(.*)-\d+-of-(\d+)(\.[^./]+)$/;
const INDEX_LIMIT = 64 * 1024 * 1024;

/**
 * The shard groups that `*.index.json` files (safetensors' and transformers' weight_map) beside the
 * weights name: file → the index's name. Unreadable indexes are left to the name pattern.
 */
async function shardIndexes(files: WalkedFile[], primary: { rel: string }[]): Promise<Map<string, string>> {
  const group = new Map<string, string>();
  const dirs = new Set(primary.map((w) => path.posix.dirname(w.rel)));
  for (const f of files) {
    if (!f.rel.endsWith('.index.json') || !dirs.has(path.posix.dirname(f.rel)) || f.size > INDEX_LIMIT) continue;
    try {
      const map = (JSON.parse(await fsp.readFile(f.abs, 'utf8')) as { weight_map?: Record<string, unknown> })
        .weight_map;
      if (!map || typeof map !== 'object') continue;
      for (const v of Object.values(map))
        if (typeof v === 'string') group.set(path.posix.join(path.posix.dirname(f.rel), v), f.rel);
    } catch {
      // not an index after all
    }
  }
  return group;
}

/** Puts shards of one model together (by index file, else by name); every other file is a model of its own. */
function groupModels(primary: { rel: string; info: WeightInfo }[], indexed: Map<string, string>): ModelFiles[] {
  const groups = new Map<string, { rel: string; info: WeightInfo }[]>();
  for (const w of primary) {
    const m = SHARD.exec(path.posix.basename(w.rel));
    const key = indexed.get(w.rel) ?? (m ? `${path.posix.dirname(w.rel)}/${m[1]}-of-${m[2]}${m[3]}` : w.rel);
    groups.set(key, [...(groups.get(key) ?? []), w]);
  }
  return [...groups.values()].map((ws) => {
    const counted = ws.filter((w) => w.info.parameterCount !== undefined);
    const withSignature = ws.find((w) => w.info.inputs?.length || w.info.outputs?.length)?.info;
    return {
      files: ws.map((w) => w.rel),
      format: ws[0].info.format,
      parameterCount: counted.length ? counted.reduce((s, w) => s + (w.info.parameterCount ?? 0), 0) : null,
      signature: withSignature ? { inputs: withSignature.inputs, outputs: withSignature.outputs } : {},
    };
  });
}

/**
 * The weights that make up the model: those of the most common format in the shallowest folder
 * that has any. Training outputs often also hold checkpoint-N/ copies that must not be summed.
 */
function primaryWeights(weights: { rel: string; info: WeightInfo }[]) {
  if (weights.length === 0) return [];
  const depth = (rel: string) => rel.split('/').length;
  const minDepth = Math.min(...weights.map((w) => depth(w.rel)));
  const top = weights.filter((w) => depth(w.rel) === minDepth);
  const dirs = [...new Set(top.map((w) => path.posix.dirname(w.rel)))].sort();
  const inDir = top.filter((w) => path.posix.dirname(w.rel) === dirs[0]);
  const counts = new Map<string, number>();
  for (const w of inDir) counts.set(w.info.format, (counts.get(w.info.format) ?? 0) + 1);
  const format = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  return inDir.filter((w) => w.info.format === format);
}

/** Log readers name files relative to the root; users need the full path to find them. */
async function withRootInErrors<T>(root: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof InputError && !path.isAbsolute(e.file)) throw new InputError(path.join(root, e.file), e.problem);
    throw e;
  }
}

const SAFETENSORS_FORMATS: Record<string, string> = {
  pt: 'torch',
  tf: 'tensorflow',
  flax: 'flax',
  np: 'numpy',
  mlx: 'mlx',
};

/**
 * The framework that produced the weights: Hugging Face transformers when its config.json sits
 * beside them, else what the weights say (safetensors records the saving library in its metadata).
 */
function frameworkOf(info: WeightInfo, rel: string, params: Record<string, unknown>): string {
  const config = params[path.posix.join(path.posix.dirname(rel), 'config.json').replace(/^\.\//, '')] as
    Record<string, unknown> | undefined;
  if (config && typeof config.transformers_version === 'string') return 'transformers';
  const saved = (info.details.metadata as Record<string, unknown> | undefined)?.format;
  if (info.format === 'safetensors' && typeof saved === 'string') return SAFETENSORS_FORMATS[saved] ?? saved;
  return info.framework;
}

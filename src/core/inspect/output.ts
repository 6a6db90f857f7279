import * as path from 'path';
import type { WalkedFile } from '../importers/walk';
import type { FileRole, Signature } from '../registry/types';
import { metricLogKind, PARAM_FILE_NAMES, readMetricLogs, readParams } from './logs';
import { MetricLog, WeightInfo } from './types';
import { inspectWeights, isWeightFileName } from './weights';

export interface InspectedOutput {
  weights: { rel: string; info: WeightInfo }[];
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
export async function inspectOutput(root: string, files: WalkedFile[], sidecars: WalkedFile[] = []): Promise<InspectedOutput> {
  const roles = new Map<string, FileRole>();
  const weights: { rel: string; info: WeightInfo }[] = [];
  for (const f of files) {
    if (!isWeightFileName(path.basename(f.rel))) continue;
    const info = await inspectWeights(f.abs);
    if (info) {
      weights.push({ rel: f.rel, info });
      roles.set(f.rel, 'weights');
    }
  }
  const all = [...files, ...sidecars];
  const logRels = all.filter((f) => metricLogKind(f.rel) !== undefined).map((f) => f.rel);
  const metrics = await readMetricLogs(root, logRels);
  for (const m of metrics) roles.set(m.source, 'metrics');

  const params: Record<string, unknown> = {};
  for (const f of all) {
    if (!PARAM_FILE_NAMES.includes(path.basename(f.rel)) || roles.has(f.rel)) continue;
    params[f.rel] = await readParams(f.abs);
    roles.set(f.rel, path.basename(f.rel) === 'config.json' ? 'config' : 'params');
  }
  for (const f of files) if (!roles.has(f.rel)) roles.set(f.rel, 'other');

  const primary = primaryWeights(weights);
  const first = primary[0]?.info;
  const counted = primary.filter((w) => w.info.parameterCount !== undefined);
  const withSignature = primary.find((w) => w.info.inputs?.length || w.info.outputs?.length)?.info;
  return {
    weights,
    metrics,
    params,
    format: first?.format ?? null,
    framework: first?.framework ?? null,
    parameterCount: counted.length ? counted.reduce((s, w) => s + (w.info.parameterCount ?? 0), 0) : null,
    signature: withSignature ? { inputs: withSignature.inputs, outputs: withSignature.outputs } : {},
    roles,
  };
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

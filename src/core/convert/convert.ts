import { promises as fsp } from 'fs';
import { CancelledError, RegistryError } from '../errors';
import { readOnnx, readSafetensors } from '../inspect/weights';
import { WeightInfo } from '../inspect/types';
import { Registry } from '../registry/registry';
import { FileEntry, VersionRecord } from '../registry/types';
import { toBf16, toFp16, toFp32 } from './safetensors';
import { torchToSafetensors } from './torch';
import { onnxFp16, onnxInt8 } from './onnx';
import { FileConverter, ParamSpec } from './types';

/** Bumped when a converter's output for the same input and parameters changes. */
export const CONVERTERS_VERSION = '1';

export const BUILTIN_CONVERTERS: FileConverter[] = [toFp16, toBf16, toFp32, onnxFp16, onnxInt8, torchToSafetensors];

export interface ConvertVersionOptions {
  params?: Record<string, string>;
  signal?: AbortSignal;
  /** Input bytes converted so far, of all. */
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

/** The converters that can rewrite at least one file of a version. */
export function convertersFor(files: FileEntry[], all: FileConverter[] = BUILTIN_CONVERTERS): FileConverter[] {
  return all.filter((c) => files.some((f) => c.accepts(f)));
}

/** Every declared parameter with its default, after checking the given ones exist and fit their choices. */
export function resolveParams(specs: ParamSpec[], given: Record<string, string>, what: string): Record<string, string> {
  const names = new Set(specs.map((p) => p.name));
  for (const k of Object.keys(given)) {
    if (!names.has(k)) throw new RegistryError(`${what} has no parameter '${k}' (it has: ${[...names].join(', ') || 'none'})`);
  }
  const out: Record<string, string> = {};
  for (const p of specs) {
    const v = given[p.name] ?? p.default;
    if (p.choices && !p.choices.includes(v)) throw new RegistryError(`${what}: ${p.name} must be one of ${p.choices.join(', ')}, not '${v}'`);
    out[p.name] = v;
  }
  return out;
}

const READERS: Record<string, (file: string) => Promise<WeightInfo>> = { safetensors: readSafetensors, onnx: readOnnx };

/**
 * Converts a version into a new version of the same model: the files the converter accepts are
 * rewritten (each checked by the converter), the others are shared as they are. The new version's
 * parent is the input (lineage: conversion) and its details record converter, parameters and the
 * verification numbers. On any failure or cancel no version is left and the temp files go.
 */
export async function convertVersion(registry: Registry, ref: string, converter: FileConverter, opts: ConvertVersionOptions = {}): Promise<VersionRecord> {
  const source = await registry.resolve(ref);
  if (source.status !== 'ready') throw new RegistryError(`${source.ref} is ${source.status}; only ready versions can be converted`);
  const files = await registry.files(source.id);
  const targets = files.filter((f) => converter.accepts(f));
  if (targets.length === 0) throw new RegistryError(`${converter.id} (${converter.title}) has nothing to convert in ${source.ref}: no file it accepts`);
  const params = resolveParams(converter.params, opts.params ?? {}, converter.id);
  const kept = files.filter((f) => !converter.accepts(f));
  for (const t of targets) {
    const out = converter.outputPath(t.path);
    if (out !== t.path && kept.some((k) => k.path === out)) throw new RegistryError(`${source.ref} already has ${out}; converting ${t.path} would replace it`);
  }

  const total = targets.reduce((s, f) => s + f.size, 0);
  let done = 0;
  opts.onProgress?.(0, total);
  const { id } = await registry.beginVersion(source.model, { kind: 'conversion', uri: `${source.ref} → ${converter.id}` });
  const temps: string[] = [];
  try {
    const converted: FileEntry[] = [];
    const reports: Record<string, unknown> = {};
    let info: WeightInfo | undefined;
    for (const f of targets) {
      if (opts.signal?.aborted) throw new CancelledError();
      const tmp = registry.store.tempPath();
      temps.push(tmp);
      const out = converter.outputPath(f.path);
      opts.log?.(`${converter.id}: ${f.path} → ${out}`);
      reports[out] = await converter.convert(registry.store.objectPath(f.sha256), tmp, {
        params,
        signal: opts.signal,
        log: opts.log,
        onBytes: (n) => opts.onProgress?.((done += n), total),
      });
      info ??= await READERS[converter.targetFormat]?.(tmp);
      const stored = await registry.store.adoptTemp(tmp, { signal: opts.signal });
      converted.push({ path: out, sha256: stored.sha256, size: stored.size, role: f.role });
    }
    const sizeBefore = targets.reduce((s, f) => s + f.size, 0);
    const sizeAfter = converted.reduce((s, f) => s + f.size, 0);
    opts.log?.(`${converter.id}: ${targets.length} file(s), ${sizeBefore} → ${sizeAfter} bytes`);
    return await registry.completeVersion(id, {
      files: [...kept, ...converted].sort((a, b) => a.path.localeCompare(b.path)),
      metrics: [], // the parent's training metrics were not measured on this version
      format: converter.targetFormat,
      framework: info?.framework ?? source.framework,
      parameterCount: info?.parameterCount ?? source.parameterCount,
      git: source.git, // the commit that trained it; the conversion itself is recorded below
      params: source.params,
      signature: info?.inputs || info?.outputs ? { inputs: info.inputs, outputs: info.outputs } : source.signature,
      details: {
        conversion: { converter: converter.id, title: converter.title, version: CONVERTERS_VERSION, params, from: source.ref, at: new Date().toISOString(), sizeBefore, sizeAfter, files: reports },
        ...(info ? { weights: [{ path: converted[0].path, ...info }] } : {}),
      },
      config: source.config,
      description: `${converter.title} of ${source.ref}`,
      parent: { id: source.id, kind: 'conversion' },
    });
  } catch (e) {
    await registry.abandonVersion(id);
    throw e;
  } finally {
    for (const t of temps) await fsp.rm(t, { force: true });
  }
}

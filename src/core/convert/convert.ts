import { promises as fsp } from 'fs';
import * as path from 'path';
import { CancelledError, InputError, RegistryError } from '../errors';
import { readOnnx, readSafetensors } from '../inspect/weights';
import { WeightInfo } from '../inspect/types';
import { Registry } from '../registry/registry';
import { FileEntry, VersionRecord } from '../registry/types';
import { onnxFp16, onnxInt8 } from './onnx';
import { commandLine, detectTool, lastLines, outputNames, profileAccepts, runTool, ToolProfile } from './profiles';
import { toBf16, toFp16, toFp32 } from './safetensors';
import { torchToSafetensors } from './torch';
import { FileConverter, ParamSpec } from './types';

/** Bumped when a converter's output for the same input and parameters changes. */
export const CONVERTERS_VERSION = '1';

export const BUILTIN_CONVERTERS: FileConverter[] = [toFp16, toBf16, toFp32, onnxFp16, onnxInt8, torchToSafetensors];

export interface ConvertVersionOptions {
  params?: Record<string, string>;
  signal?: AbortSignal;
  /** Input bytes converted so far, of all (built-in converters). */
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

/**
 * The format import (or a conversion) recorded for each weights file of a version, by path; undefined
 * when the version's details have no weights list to go by.
 */
export function recordedFormats(details: Record<string, unknown> | undefined): Map<string, string> | undefined {
  if (!details || !Array.isArray(details.weights)) return undefined;
  const formats = new Map<string, string>();
  for (const w of details.weights as { path?: unknown; format?: unknown }[]) {
    if (typeof w?.path === 'string' && typeof w.format === 'string') formats.set(w.path, w.format);
  }
  return formats;
}

/**
 * Whether `c` can read `f`: its name fits, and when the converter reads one format, the version's
 * reader recognised the file as that format (a TF.js shard named .bin is no torch checkpoint).
 */
function canRead(
  c: { accepts: (f: FileEntry) => boolean; inputFormat?: string },
  f: FileEntry,
  formats: Map<string, string> | undefined,
): boolean {
  return c.accepts(f) && (!c.inputFormat || !formats || formats.get(f.path) === c.inputFormat);
}

/** The converters that can rewrite at least one file of a version (`details`: the version's, to check formats). */
export function convertersFor(
  files: FileEntry[],
  all: FileConverter[] = BUILTIN_CONVERTERS,
  details?: Record<string, unknown>,
): FileConverter[] {
  const formats = recordedFormats(details);
  return all.filter((c) => files.some((f) => canRead(c, f, formats)));
}

/**
 * What the tree's menus need to know of a version without listing its files (rows are built in bulk):
 * whether it has an ONNX model (the built-in evaluator runs only those) and whether a built-in
 * converter or one of `profiles` applies. Both are read from the weights its details record; a
 * version without that list (older imports) is taken by its format, and offered Convert….
 */
export function versionCapabilities(
  v: Pick<VersionRecord, 'format' | 'details'>,
  profiles: ToolProfile[],
): { onnx: boolean; convertible: boolean } {
  const formats = recordedFormats(v.details);
  if (!formats) return { onnx: v.format === 'onnx', convertible: true };
  const weights: FileEntry[] = [...formats.keys()].map((p) => ({ path: p, sha256: '', size: 0, role: 'weights' }));
  const convertible =
    convertersFor(weights, BUILTIN_CONVERTERS, v.details).length > 0 ||
    profiles.some((p) => weights.some((f) => profileAccepts(p, f.path)));
  return { onnx: weights.some((f) => f.path.toLowerCase().endsWith('.onnx')), convertible };
}

/** How messages and written metadata name a file of a stored version: resnet@v2:model.pt, never its object path. */
export function versionFileName(ref: string, p: string): string {
  return `${ref}:${p}`;
}

/** An InputError about `disk` (an object, a temp file) retold about the version's file `name`. */
function renamed(e: unknown, disk: string[], name: string): unknown {
  return e instanceof InputError && disk.includes(e.file) ? new InputError(name, e.problem) : e;
}

/** Every declared parameter with its default, after checking the given ones exist and fit their choices. */
export function resolveParams(specs: ParamSpec[], given: Record<string, string>, what: string): Record<string, string> {
  const names = new Set(specs.map((p) => p.name));
  for (const k of Object.keys(given)) {
    if (!names.has(k))
      throw new RegistryError(`${what} has no parameter '${k}' (it has: ${[...names].join(', ') || 'none'})`);
  }
  const out: Record<string, string> = {};
  for (const p of specs) {
    const v = given[p.name] ?? p.default;
    if (p.choices && !p.choices.includes(v))
      throw new RegistryError(
        `${what}: ${p.name} must be one of ${p.choices.map((c) => JSON.stringify(c)).join(', ')}, not '${v}'`,
      );
    out[p.name] = v;
  }
  return out;
}

const READERS: Record<string, (file: string) => Promise<WeightInfo>> = { safetensors: readSafetensors, onnx: readOnnx };

interface Produced {
  /** Converted files, stored. */
  files: FileEntry[];
  /** Per output path: the converter's numbers. */
  reports: Record<string, unknown>;
  /** What the reader says of the first converted file (format, parameters, signature). */
  info?: WeightInfo;
  /** What the reader says of each converted file, by its path. */
  weights?: ({ path: string } & WeightInfo)[];
  /** Extra facts for details.conversion (tool, command, log). */
  extra?: Record<string, unknown>;
}

/**
 * Makes a new version of the same model from `ref`: `work` rewrites the target files; the others are
 * shared as they are. Parent = the input (lineage: conversion); details record converter, parameters
 * and the numbers. On any failure or cancel the version is abandoned.
 */
async function derive(
  registry: Registry,
  ref: string,
  conv: {
    id: string;
    title: string;
    targetFormat: string;
    targetDtype?: string;
    params: ParamSpec[];
    accepts: (f: FileEntry) => boolean;
    /** The only format of file it reads (see canRead). */
    inputFormat?: string;
    outputPaths: (p: string) => string[];
    /** The input stands for its whole folder (a SavedModel's saved_model.pb): the folder is replaced. */
    takesFolder?: boolean;
  },
  opts: ConvertVersionOptions,
  work: (
    source: VersionRecord,
    files: FileEntry[],
    targets: FileEntry[],
    params: Record<string, string>,
  ) => Promise<Produced>,
): Promise<VersionRecord> {
  const source = await registry.resolve(ref);
  if (source.status !== 'ready')
    throw new RegistryError(`${source.ref} is ${source.status}; only ready versions can be converted`);
  const files = await registry.files(source.id);
  const formats = recordedFormats(source.details);
  const targets = files.filter((f) => canRead(conv, f, formats));
  if (targets.length === 0)
    throw new RegistryError(`${conv.id} (${conv.title}) has nothing to convert in ${source.ref}: no file it accepts`);
  const params = resolveParams(conv.params, opts.params ?? {}, conv.id);
  const folders = conv.takesFolder ? targets.map((t) => path.posix.dirname(t.path)) : [];
  // What goes with a SavedModel's saved_model.pb; configs and logs beside it stay.
  const SAVED_MODEL_PARTS = /^(variables|assets)\/|^(fingerprint|keras_metadata)\.pb$/;
  const inFolder = (f: FileEntry) =>
    folders.some((d) =>
      SAVED_MODEL_PARTS.test(d === '.' ? f.path : f.path.startsWith(d + '/') ? f.path.slice(d.length + 1) : ''),
    );
  const kept = files.filter((f) => !targets.includes(f) && !inFolder(f));
  for (const t of targets) {
    for (const out of conv.outputPaths(t.path)) {
      if (out !== t.path && kept.some((k) => k.path === out))
        throw new RegistryError(`${source.ref} already has ${out}; converting ${t.path} would replace it`);
    }
  }
  const { id } = await registry.beginVersion(source.model, { kind: 'conversion', uri: `${source.ref} → ${conv.id}` });
  try {
    const p = await work(source, files, targets, params);
    const sizeBefore = targets.reduce((s, f) => s + f.size, 0);
    const sizeAfter = p.files.reduce((s, f) => s + f.size, 0);
    opts.log?.(`${conv.id}: ${targets.length} file(s), ${sizeBefore} → ${sizeAfter} bytes`);
    return await registry.completeVersion(id, {
      files: [...kept, ...p.files].sort((a, b) => a.path.localeCompare(b.path)),
      metrics: [], // the parent's training metrics were not measured on this version
      format: conv.targetFormat,
      framework: p.info?.framework ?? conv.targetFormat,
      parameterCount: p.info?.parameterCount ?? source.parameterCount,
      git: source.git, // the commit that trained it; the conversion itself is recorded below
      params: source.params,
      signature:
        p.info?.inputs || p.info?.outputs ? { inputs: p.info.inputs, outputs: p.info.outputs } : source.signature,
      details: {
        conversion: {
          converter: conv.id,
          title: conv.title,
          ...(conv.targetDtype ? { dtype: conv.targetDtype } : {}),
          version: CONVERTERS_VERSION,
          params,
          from: source.ref,
          at: new Date().toISOString(),
          sizeBefore,
          sizeAfter,
          ...p.extra,
          files: p.reports,
        },
        // The kept weights as the source recorded them, and each converted file as read back.
        ...(p.info
          ? {
              weights: [
                ...storedWeights(source.details).filter((w) => kept.some((k) => k.path === w.path)),
                ...(p.weights ?? [{ path: p.files[0].path, ...p.info }]),
              ],
            }
          : {}),
      },
      config: source.config,
      description: `${conv.title} of ${source.ref}`,
      parent: { id: source.id, kind: 'conversion' },
    });
  } catch (e) {
    await registry.abandonVersion(id);
    throw e;
  }
}

/** details.weights of a version, as stored. */
function storedWeights(details: Record<string, unknown>): ({ path: string } & WeightInfo)[] {
  return Array.isArray(details.weights)
    ? (details.weights as ({ path: string } & WeightInfo)[]).filter((w) => typeof w?.path === 'string')
    : [];
}

/** Converts a version with a built-in converter (see BUILTIN_CONVERTERS). */
export async function convertVersion(
  registry: Registry,
  ref: string,
  converter: FileConverter,
  opts: ConvertVersionOptions = {},
): Promise<VersionRecord> {
  const spec = { ...converter, outputPaths: (p: string) => [converter.outputPath(p)] };
  return derive(registry, ref, spec, opts, async (source, files, targets, params) => {
    const versionFile = (p: string) => {
      const f = files.find((x) => x.path === p);
      return f && registry.store.objectPath(f.sha256);
    };
    const total = targets.reduce((s, f) => s + f.size, 0);
    let done = 0;
    opts.onProgress?.(0, total);
    const produced: Produced = { files: [], reports: {} };
    for (const f of targets) {
      if (opts.signal?.aborted) throw new CancelledError();
      const tmp = registry.store.tempPath();
      try {
        const out = converter.outputPath(f.path);
        const name = versionFileName(source.ref, f.path);
        const object = registry.store.objectPath(f.sha256);
        opts.log?.(`${converter.id}: ${f.path} → ${out}`);
        try {
          produced.reports[out] = await converter.convert(object, tmp, {
            params,
            signal: opts.signal,
            log: opts.log,
            path: f.path,
            name,
            versionFile,
            onBytes: (n) => opts.onProgress?.((done += n), total),
          });
          const info = await READERS[converter.targetFormat]?.(tmp);
          if (info) (produced.weights ??= []).push({ path: out, ...info });
          produced.info ??= info;
        } catch (e) {
          // Errors name the object or temp file they read; the user knows the version's file.
          throw renamed(e, [object, tmp], name);
        }
        const stored = await registry.store.adoptTemp(tmp, { signal: opts.signal });
        produced.files.push({ path: out, sha256: stored.sha256, size: stored.size, role: f.role });
      } finally {
        await fsp.rm(tmp, { force: true });
      }
    }
    return produced;
  });
}

export interface ProfileRunOptions extends ConvertVersionOptions {
  env?: NodeJS.ProcessEnv;
}

/**
 * Converts a version with an external tool: its files are linked into a work folder under their
 * names, the tool runs once per accepted file, and its outputs become the new version's files. The
 * tool's whole log is kept in <registry>/logs/, also when it fails.
 */
export async function convertWithProfile(
  registry: Registry,
  ref: string,
  profile: ToolProfile,
  opts: ProfileRunOptions = {},
): Promise<VersionRecord> {
  const spec = {
    ...profile,
    accepts: (f: FileEntry) => profileAccepts(profile, f.path),
    outputPaths: (p: string) => outputNames(profile, p).map((o) => path.posix.join(path.posix.dirname(p), o)),
    // An input named in full (saved_model.pb) rather than by suffix (.onnx) is a model folder.
    takesFolder: profile.inputs.some((s) => !s.startsWith('.')),
  };
  return derive(registry, ref, spec, opts, async (source, files, targets, params) => {
    const tool = await detectTool(profile, opts.env);
    if (!tool.available) throw new RegistryError(`${profile.id}: ${tool.problem}`);
    const logFile = path.join(
      registry.dir,
      'logs',
      `convert-${new Date().toISOString().replace(/[:.]/g, '-')}-${profile.id}.log`,
    );
    await fsp.mkdir(path.dirname(logFile), { recursive: true });
    const logStream = await fsp.open(logFile, 'a');
    const work = `${registry.store.tempPath()}-work`;
    const log = (line: string) => {
      opts.log?.(line);
      void logStream.write(line + '\n');
    };
    try {
      log(`# ${profile.id} on ${source.ref}; ${tool.path}${tool.version ? ` (${tool.version})` : ''}`);
      for (const f of files) {
        const at = path.join(work, 'in', ...f.path.split('/'));
        await fsp.mkdir(path.dirname(at), { recursive: true });
        // A hard link costs nothing; the objects are read-only, so the tool cannot change them.
        await fsp
          .link(registry.store.objectPath(f.sha256), at)
          .catch(() => fsp.copyFile(registry.store.objectPath(f.sha256), at));
      }
      const produced: Produced = {
        files: [],
        reports: {},
        extra: { tool: { id: profile.tool, path: tool.path, version: tool.version ?? null }, log: logFile },
      };
      for (const [i, t] of targets.entries()) {
        if (opts.signal?.aborted) throw new CancelledError();
        const input = path.join(work, 'in', ...t.path.split('/'));
        const outputDir = path.join(work, `out-${i}`);
        await fsp.mkdir(outputDir);
        const args = commandLine(profile, { input, outputDir }, params);
        log(`$ ${tool.path} ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
        const started = Date.now();
        const r = await runTool(tool.path!, args, {
          cwd: outputDir,
          env: opts.env,
          passEnv: profile.env,
          signal: opts.signal,
          log,
        });
        log(`# exit ${r.code ?? r.signal} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        if (r.code !== 0)
          throw new RegistryError(
            `${profile.tool} failed on ${t.path} (exit ${r.code ?? r.signal}): ${lastLines(r.output, 3) || 'no output'}. Full log: ${logFile}`,
          );
        const report: Record<string, unknown> = { seconds: (Date.now() - started) / 1000, exitCode: r.code };
        for (const name of outputNames(profile, t.path)) {
          const file = path.join(outputDir, name);
          if (
            !(await fsp.stat(file).then(
              (s) => s.isFile(),
              () => false,
            ))
          )
            throw new RegistryError(`${profile.tool} exited 0 but did not write ${name}. Full log: ${logFile}`);
          const out = path.posix.join(path.posix.dirname(t.path), name);
          produced.info ??= await READERS[profile.targetFormat]?.(file).catch(() => undefined);
          const stored = await registry.store.adoptTemp(file);
          produced.files.push({ path: out, sha256: stored.sha256, size: stored.size, role: t.role });
          produced.reports[out] = report;
        }
      }
      return produced;
    } catch (e) {
      log(`# failed: ${(e as Error).message}`);
      throw e;
    } finally {
      await logStream.close();
      await fsp.rm(work, { recursive: true, force: true });
    }
  });
}

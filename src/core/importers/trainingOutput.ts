import { promises as fsp } from 'fs';
import * as path from 'path';
import { CancelledError, DuplicateImportError, InputError, NoWeightsError } from '../errors';
import {
  CheckpointChoice,
  CheckpointFolder,
  CheckpointRecord,
  findCheckpoints,
  selectCheckpoints,
} from './checkpoints';
import { looksLikeDataset } from '../datasets/looksLike';
import { gitProvenance } from '../git/provenance';
import { inspectOutput } from '../inspect/output';
import { Registry } from '../registry/registry';
import { FileEntry, VersionSource, VersionRecord } from '../registry/types';
import { defaultModelName } from '../util/modelName';
import { realPathWithin } from '../util/paths';
import { walkFiles, WalkedFile } from '../util/walk';

export interface ImportProgress {
  phase: 'downloading' | 'scanning' | 'inspecting' | 'copying' | 'committing';
  bytesDone: number;
  bytesTotal: number;
  file?: string;
}

export interface ImportOptions {
  /** Model to add the version to; defaults to the output folder's name. */
  model?: string;
  /** A validated config.json to store with the version (see importers/template.ts). */
  config?: { text: string; templateId: string | null; description?: string; tags?: string[] };
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /** Where the output really came from, when `input` is a local staging copy (object storage, an image). */
  source?: VersionSource;
  /**
   * The folder the user chose to work in (the workspace folder): the import's real path, through any
   * links, must stay inside it. Default: the folder holding the target, so the target itself may not
   * be a link that leads elsewhere.
   */
  boundary?: string;
  /** More facts for the version's details (an image's runtime…). */
  details?: Record<string, unknown>;
  /** More parameter sources beside those read from the output (a training recipe's final values). */
  params?: Record<string, unknown>;
  /**
   * The version this one was made from, and how, when the caller knows (a training run from a base);
   * otherwise a base the output's config names is looked up (a fine-tune).
   */
  parent?: { id: number; kind: string };
  /**
   * Refuse (DuplicateImportError) when a version of the model already holds exactly these files,
   * and (NoWeightsError) when the input has no model weights. The CLI and the extension ask for
   * both and let the user go on; library callers building versions from fixtures need neither.
   */
  refuseDuplicate?: boolean;
  refuseNoWeights?: boolean;
  /**
   * What to take of a folder with checkpoint-N folders (importers/checkpoints.ts): a choice, or a
   * function asked with the folders found (the extension's prompt). Default: the final weights only.
   */
  checkpoints?: CheckpointChoice | ((found: CheckpointFolder[]) => Promise<CheckpointChoice>);
}

/**
 * Imports a training output (a folder, or a single weights file) as a new version. Nothing is
 * written until the input has been read and found sound; a failure or cancel after that leaves
 * only unreferenced objects, which `gc` removes, never a half-registered version.
 */
export async function importTrainingOutput(
  registry: Registry,
  input: string,
  opts: ImportOptions = {},
): Promise<VersionRecord> {
  const target = path.resolve(input);
  const real = await realPathWithin(target, opts.boundary ?? path.dirname(target));
  const st = await fsp.stat(real).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(target, `cannot read (${e.code ?? e.message})`);
  });
  const report = (p: ImportProgress) => opts.onProgress?.(p);
  const check = () => {
    if (opts.signal?.aborted) throw new CancelledError();
  };

  report({ phase: 'scanning', bytesDone: 0, bytesTotal: 0 });
  let root: string;
  let files: WalkedFile[];
  let sidecars: WalkedFile[] = [];
  let checkpoints: CheckpointRecord | undefined;
  if (st.isDirectory()) {
    root = target;
    files = await walkFiles(root, opts.signal);
    if (files.length === 0) throw new InputError(target, 'the folder has no files to import');
    const found = await findCheckpoints(files);
    if (found.length) {
      const choice = typeof opts.checkpoints === 'function' ? await opts.checkpoints(found) : opts.checkpoints;
      ({ root, files, record: checkpoints } = selectCheckpoints(target, files, found, choice));
    }
  } else if (st.isFile()) {
    // A single checkpoint: store it alone, but learn from the logs and configs beside it.
    root = path.dirname(target);
    files = [{ rel: path.basename(target), abs: real, size: st.size }];
    sidecars = (await fsp.readdir(root, { withFileTypes: true }))
      .filter((e) => e.isFile() && e.name !== path.basename(target))
      .map((e) => ({ rel: e.name, abs: path.join(root, e.name), size: 0 }));
  } else {
    throw new InputError(target, 'not a regular file or folder');
  }
  check();

  report({ phase: 'inspecting', bytesDone: 0, bytesTotal: 0 });
  const inspected = await inspectOutput(root, files, sidecars);
  const { git, problem: gitProblem } = await gitProvenance(target);
  if (opts.refuseNoWeights && inspected.weights.length === 0)
    throw new NoWeightsError(target, await looksLikeDataset(files));
  const base = opts.parent ?? (await registry.findBase(baseModelNames(root, inspected.params)));
  check();

  const modelName = opts.model ?? defaultModelName(target, st.isDirectory());
  const twins = opts.refuseDuplicate ? await sameSizedVersions(registry, modelName, files) : [];
  const { id } = await registry.beginVersion(modelName, opts.source ?? { kind: 'training-output', uri: target });
  try {
    const total = files.reduce((s, f) => s + f.size, 0);
    let done = 0;
    const entries: FileEntry[] = [];
    for (const f of files) {
      check();
      report({ phase: 'copying', bytesDone: done, bytesTotal: total, file: f.rel });
      const hashFirst = await registry.hasObjectOfSize(f.size);
      const r = await registry.store
        .ingestFile(f.abs, {
          signal: opts.signal,
          hashFirst,
          onBytes: (n) => {
            done += n;
            report({ phase: 'copying', bytesDone: done, bytesTotal: total, file: f.rel });
          },
        })
        .catch((e: NodeJS.ErrnoException) => {
          if (e instanceof CancelledError) throw e;
          throw new InputError(f.abs, `cannot read (${e.code ?? e.message})`);
        });
      if (r.size !== f.size)
        throw new InputError(f.abs, `the file changed while it was imported (${f.size} bytes, then ${r.size})`);
      entries.push({ path: f.rel, sha256: r.sha256, size: r.size, role: inspected.roles.get(f.rel) ?? 'other' });
    }
    check();
    // Every file was just hashed (and, being known, not copied): compare with the versions of the same size.
    const twin = await sameFiles(registry, twins, entries);
    if (twin) throw new DuplicateImportError(target, twin);
    report({ phase: 'committing', bytesDone: total, bytesTotal: total });
    return await registry.completeVersion(id, {
      files: entries,
      metrics: inspected.metrics,
      format: inspected.format,
      framework: inspected.framework,
      parameterCount: inspected.parameterCount,
      git,
      params: { ...inspected.params, ...opts.params },
      signature: inspected.signature,
      details: {
        weights: inspected.weights.map((w) => ({ path: w.rel, ...w.info })),
        ...(inspected.models.length > 1 ? { models: inspected.models } : {}),
        ...(sidecars.length ? { sidecars: inspected.metrics.map((m) => m.source) } : {}),
        ...(gitProblem ? { gitProblem } : {}),
        ...(checkpoints ? { checkpoints } : {}),
        ...opts.details,
      },
      config: opts.config && { text: opts.config.text, templateId: opts.config.templateId },
      description: opts.config?.description,
      tags: opts.config?.tags,
      parent: opts.parent ?? (base && { id: base.id, kind: 'fine-tune' }),
    });
  } catch (e) {
    await registry.abandonVersion(id);
    throw e;
  }
}

/** The model's ready versions (archived ones too) with as many files and bytes as the input: the only ones it can duplicate. */
async function sameSizedVersions(registry: Registry, model: string, files: WalkedFile[]): Promise<VersionRecord[]> {
  const bytes = files.reduce((s, f) => s + f.size, 0);
  const versions = await registry.listVersions(model, { includeArchived: true });
  return versions.filter((v) => v.status === 'ready' && v.fileCount === files.length && v.sizeBytes === bytes);
}

/** The oldest of `candidates` holding exactly these relative paths with these hashes. */
async function sameFiles(
  registry: Registry,
  candidates: VersionRecord[],
  entries: FileEntry[],
): Promise<VersionRecord | undefined> {
  const key = (fs: { path: string; sha256: string }[]) =>
    fs
      .map((f) => `${f.path}\0${f.sha256}`)
      .sort()
      .join('\n');
  const mine = key(entries);
  for (const v of [...candidates].reverse()) if (key(await registry.files(v.id)) === mine) return v;
  return undefined;
}

/** Keys by which Hugging Face, PEFT and common training scripts name the model they started from. */
const BASE_MODEL_KEYS = [
  'base_model',
  'base_model_name_or_path',
  'model_name_or_path',
  'pretrained_model_name_or_path',
  '_name_or_path',
];

/** What the output's configs name as its base model: registry references, or folders (made absolute). */
function baseModelNames(root: string, params: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const content of Object.values(params)) {
    if (!content || typeof content !== 'object') continue;
    for (const key of BASE_MODEL_KEYS) {
      const value = (content as Record<string, unknown>)[key];
      if (typeof value !== 'string' || !value.trim()) continue;
      const v = value.trim();
      names.push(path.isAbsolute(v) || /^\.{1,2}[\\/]/.test(v) ? path.resolve(root, v) : v);
    }
  }
  return [...new Set(names)];
}

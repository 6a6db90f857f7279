// Which existing model a training output most likely is a new version of ("a second run is a new
// version, not a new model"), from what the registry already records about each model's versions.
// The memory of "this folder went into model X" is the registry itself: every version records the
// path it was imported from, so the CLI and the extension share it and it follows deletes and gc.
import { promises as fsp } from 'fs';
import * as path from 'path';
import { gitProvenance, GitProvenance } from '../git/provenance';
import { inspectOutput } from '../inspect/output';
import { isWeightFileName } from '../inspect/weights';
import { Registry } from '../registry/registry';
import { VersionRecord } from '../registry/types';
import { realPathWithin } from '../util/paths';
import { walkFiles, WalkedFile } from '../util/walk';

/** A model a folder could be imported into, with why; best first from rankModels. */
export interface ModelCandidate {
  model: string;
  /** Evidence in words: "imported from this folder before (v2)", "same architectures (BertForMaskedLM)"… */
  reasons: string[];
  /** Confident enough to import into without asking (the CLI does; the extension lists it before "New model…"). */
  confident: boolean;
  score: number;
}

/** How many of the newest versions are compared, besides those imported from the same path. */
const RECENT_VERSIONS = 500;
/** Param files whose values are the training recipe (config.json describes the architecture). */
const RECIPE_FILES = new Set(['hparams.yaml', 'args.yaml', 'training_args.json', 'adapter_config.json']);

/** What the folder being imported says about itself. */
interface Evidence {
  target: string;
  /** The output folder (a single file's folder) and the folder holding it. */
  folder: string;
  parent: string;
  architectures: string[];
  format: string | null;
  parameterCount: number | null;
  params: Record<string, unknown>;
  git: GitProvenance | null;
}

/**
 * The registry's models ranked for importing `input` (a folder or a weights file), most likely
 * first; only models with some evidence are listed. Evidence, strongest first: this path was
 * imported into the model before; the same Hugging Face `architectures`; the same weights (format
 * and parameter count); the same training recipe (a recipe file with the same keys, most values
 * equal); the same parent folder (or the same folder inside a clone of the same git remote), or the
 * same git remote. Confident: imported from here before, or two kinds of evidence with the place
 * counted once (a project's outputs all share a parent and a remote), and nothing contradicting
 * (different architectures or parameter counts). Unreadable input, or a link out of `boundary` (as
 * for the import), gives no candidates: the import itself reports the problem.
 */
export async function rankModels(registry: Registry, input: string, boundary?: string): Promise<ModelCandidate[]> {
  const target = path.resolve(input);
  const versions = await registry.importEvidence(target, RECENT_VERSIONS);
  // An empty registry reads nothing more than the import itself will.
  if (versions.length === 0) return [];
  const evidence = await readEvidence(target, boundary).catch(() => undefined);
  if (!evidence) return [];
  const best = new Map<string, Judged>();
  for (const v of versions) {
    const c = judge(evidence, v);
    if (!c) continue;
    const known = best.get(v.model);
    // The model's best-matching version speaks for it; among equals, the newest.
    if (!known || c.score > known.score) best.set(v.model, c);
  }
  // A folder imported into several models goes where it went last: the latest choice is the memory.
  const remembered = (c: Judged) => (c.remembered ? c.id : 0);
  return [...best.values()]
    .sort((a, b) => remembered(b) - remembered(a) || b.score - a.score || b.id - a.id)
    .map(({ model, reasons, confident, score }) => ({ model, reasons, confident, score }));
}

/**
 * Whether `input` holds a file named like weights (names only, nothing parsed): a cheap look before
 * asking which model it goes into, so a folder the import will refuse for having no weights is not
 * asked about first. Unreadable input says yes: the import itself reports the problem.
 */
export async function mayHoldWeights(input: string): Promise<boolean> {
  const st = await fsp.stat(input).catch(() => undefined);
  if (!st?.isDirectory()) return true;
  const files = await walkFiles(input).catch(() => undefined);
  return !files || files.some((f) => isWeightFileName(f.rel));
}

/** The candidate an import without a named model goes into, if one is confident. */
export async function confidentModel(
  registry: Registry,
  input: string,
  boundary?: string,
): Promise<ModelCandidate | undefined> {
  const [top] = await rankModels(registry, input, boundary);
  return top?.confident ? top : undefined;
}

type Judged = ModelCandidate & { id: number; remembered: boolean };

function judge(e: Evidence, v: VersionRecord): Judged | undefined {
  const reasons: string[] = [];
  let score = 0;
  let kinds = 0;
  let contradicted = false;
  const from = v.source.kind === 'training-output' || v.source.kind === 'template' ? v.source.uri : undefined;
  const sameSource = from !== undefined && path.resolve(from) === e.target;
  if (sameSource) {
    reasons.push(`imported from this ${e.target === e.folder ? 'folder' : 'file'} before (v${v.number})`);
    score += 100;
  }
  const archs = architecturesOf(v.params);
  if (e.architectures.length && archs.length) {
    if (sameList(e.architectures, archs)) {
      reasons.push(`same architectures (${archs.join(', ')})`);
      score += 10;
      kinds++;
    } else contradicted = true;
  }
  if (e.parameterCount && v.parameterCount) {
    if (e.parameterCount === v.parameterCount && e.format === v.format) {
      reasons.push(`same weights (${v.format}, ${v.parameterCount.toLocaleString('en-US')} parameters)`);
      score += 8;
      kinds++;
    } else if (e.parameterCount !== v.parameterCount) contradicted = true;
  }
  const recipe = sameRecipe(e.params, v.params);
  if (recipe) {
    reasons.push(`same training config (${recipe})`);
    score += 6;
    kinds++;
  }
  const place = samePlace(e, from, v.git);
  if (place) {
    reasons.push(place.reason);
    score += place.score;
    kinds++;
  }
  if (reasons.length === 0) return undefined;
  const confident = sameSource || (kinds >= 2 && !contradicted);
  return { model: v.model, reasons, score, confident, id: v.id, remembered: sameSource };
}

async function readEvidence(target: string, boundary = path.dirname(target)): Promise<Evidence> {
  // What the import may read, and no more (see ImportOptions.boundary).
  await realPathWithin(target, boundary);
  const st = await fsp.stat(target);
  const folder = st.isDirectory() ? target : path.dirname(target);
  let files: WalkedFile[];
  let sidecars: WalkedFile[] = [];
  if (st.isDirectory()) files = await walkFiles(target);
  else {
    files = [{ rel: path.basename(target), abs: target, size: st.size }];
    sidecars = (await fsp.readdir(folder, { withFileTypes: true }))
      .filter((d) => d.isFile() && d.name !== path.basename(target))
      .map((d) => ({ rel: d.name, abs: path.join(folder, d.name), size: 0 }));
  }
  const inspected = await inspectOutput(folder, files, sidecars);
  return {
    target,
    folder,
    parent: path.dirname(folder),
    architectures: architecturesOf(inspected.params),
    format: inspected.format,
    parameterCount: inspected.parameterCount,
    params: inspected.params,
    git: (await gitProvenance(target)).git,
  };
}

/** `architectures` from the config.json at the top of the output (Hugging Face's model classes). */
function architecturesOf(params: Record<string, unknown>): string[] {
  const config = params['config.json'];
  const archs = config && typeof config === 'object' ? (config as Record<string, unknown>).architectures : undefined;
  return Array.isArray(archs) ? archs.filter((a): a is string => typeof a === 'string') : [];
}

/**
 * A recipe file both have (same path) with the same keys and, beyond three keys, at least half the
 * values equal (runs of one recipe differ in a learning rate or a seed): "hparams.yaml, 7 of 8 values equal".
 */
function sameRecipe(mine: Record<string, unknown>, theirs: Record<string, unknown>): string | undefined {
  for (const [file, a] of Object.entries(mine)) {
    const b = theirs[file];
    if (!RECIPE_FILES.has(path.posix.basename(file)) || !isObject(a) || !isObject(b)) continue;
    const keys = Object.keys(a).sort();
    if (keys.length < 2 || !sameList(keys, Object.keys(b).sort())) continue;
    const equal = keys.filter((k) => JSON.stringify(a[k]) === JSON.stringify(b[k])).length;
    if (keys.length > 3 && equal * 2 < keys.length) continue;
    return equal === keys.length ? `${file}, identical` : `${file}, ${equal} of ${keys.length} values equal`;
  }
  return undefined;
}

/** Where the version's output sat compared with this one: the same parent folder (or the same one inside a clone of the same remote), else the same remote. */
function samePlace(
  e: Evidence,
  from: string | undefined,
  git: GitProvenance | null,
): { reason: string; score: number } | undefined {
  const shown = (parent: string) => {
    const inRepo = e.git && !path.relative(e.git.root, parent).startsWith('..') && path.relative(e.git.root, parent);
    return `${inRepo || path.basename(parent)}/`;
  };
  if (from !== undefined && path.dirname(outputFolder(path.resolve(from))) === e.parent)
    return { reason: `same parent folder ${shown(e.parent)}`, score: 3 };
  const remote = e.git?.remote && git?.remote && sameRemote(e.git.remote, git.remote) ? git.remote : undefined;
  if (!remote || !e.git || !git) return undefined;
  if (from !== undefined) {
    const theirs = path.relative(git.root, path.dirname(outputFolder(path.resolve(from))));
    if (!theirs.startsWith('..') && theirs === path.relative(e.git.root, e.parent))
      return { reason: `same folder ${shown(e.parent)} in a clone of ${remote}`, score: 3 };
  }
  return { reason: `same git remote ${remote}`, score: 2 };
}

/** A version's source is its output folder, or a weights file inside one. */
function outputFolder(source: string): string {
  return isWeightFileName(path.basename(source)) ? path.dirname(source) : source;
}

/** git@github.com:acme/vision.git and https://github.com/acme/vision are one remote. */
function sameRemote(a: string, b: string): boolean {
  const norm = (u: string) =>
    u
      .trim()
      .toLowerCase()
      .replace(/^[a-z+]+:\/\//, '')
      .replace(/^[^@/]+@/, '')
      .replace(':', '/')
      .replace(/\.git$/, '')
      .replace(/\/+$/, '');
  return norm(a) === norm(b);
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === 'object' && !Array.isArray(x);
}

/**
 * What every dataset builder shares: the options, the result, listing folders inside the dataset,
 * hashing its files, and the order of classes and splits.
 */
import { Dirent, promises as fsp } from 'fs';
import * as path from 'path';
import { CancelledError } from '../errors';
import { hashFile } from '../store/localStore';
import { realPathWithin } from '../util/paths';
import { DatasetFile, DatasetManifest } from './types';

export interface RegisterDatasetOptions {
  /** Default: the folder or file stem, sanitised. */
  name?: string;
  /** Table label column (default "label"). */
  labelColumn?: string;
  /** Table split column (default "split" when present). */
  splitColumn?: string;
  /** Table text column, left out of the features. */
  textColumn?: string;
  /** COCO: the folder holding the images (`file_name` is relative to it). Without it the dataset registers without images. */
  images?: string;
  signal?: AbortSignal;
  /** The folder the user chose (the workspace folder): links may not lead out of it. Default: the folder holding `src`. */
  boundary?: string;
  /** Bytes hashed so far and in all. */
  onProgress?: (done: number, total: number) => void;
}

/** What a builder made: registerDataset stores it. */
export interface Built {
  manifest: DatasetManifest;
  details: Record<string, unknown>;
  /** The folder or file samples are read from. */
  root: string;
}

/** A file to hash into the manifest: its absolute path, its path there, its size. */
export interface ToHash {
  abs: string;
  rel: string;
  size: number;
}

/** Known splits first, in the usual order, then any others alphabetically. */
const SPLIT_ORDER = ['train', 'dev', 'val', 'valid', 'validation', 'test'];
const HASH_CONCURRENCY = 8;

export function checkCancel(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

/** A folder entry, with links followed. */
export interface Entry {
  name: string;
  isDir: boolean;
  isFile: boolean;
}

/** Non-hidden entries of `dir`; symlinks are followed while they stay inside the dataset's `root` (a broken one is left out). */
export async function listDir(dir: string, root: string): Promise<Entry[]> {
  const dirents: Dirent[] = await fsp.readdir(dir, { withFileTypes: true });
  const out: Entry[] = [];
  for (const d of dirents) {
    if (d.name.startsWith('.')) continue;
    if (d.isSymbolicLink()) {
      const link = path.join(dir, d.name);
      if (!(await fsp.stat(link).catch(() => undefined))) continue;
      const st = await fsp.stat(await realPathWithin(link, root));
      if (st) out.push({ name: d.name, isDir: st.isDirectory(), isFile: st.isFile() });
    } else {
      out.push({ name: d.name, isDir: d.isDirectory(), isFile: d.isFile() });
    }
  }
  return out.sort((a, b) => cmp(a.name, b.name));
}

/** Code-unit order, as Python's sorted() (and so torchvision's ImageFolder) orders class names. */
export const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Split names, each once, in SPLIT_ORDER. */
export function sortSplits(splits: Iterable<string>): string[] {
  const rank = (s: string) => {
    const i = SPLIT_ORDER.indexOf(s.toLowerCase());
    return i === -1 ? SPLIT_ORDER.length : i;
  };
  return [...new Set(splits)].sort((a, b) => rank(a) - rank(b) || cmp(a, b));
}

/** SHA-256 of every file, a few at a time; files come back sorted by path. */
export async function hashAll(list: ToHash[], opts: RegisterDatasetOptions): Promise<DatasetFile[]> {
  const total = list.reduce((a, f) => a + f.size, 0);
  let done = 0;
  opts.onProgress?.(0, total);
  const out: DatasetFile[] = new Array(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const i = next++;
      checkCancel(opts.signal);
      const { sha256, size } = await hashFile(list[i].abs, {
        signal: opts.signal,
        onBytes: (n) => {
          done += n;
          opts.onProgress?.(done, total);
        },
      });
      out[i] = { path: list[i].rel, sha256, size };
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, list.length) }, worker));
  } catch (e) {
    if (opts.signal?.aborted) throw new CancelledError();
    throw e;
  }
  return out.sort((a, b) => cmp(a.path, b.path));
}

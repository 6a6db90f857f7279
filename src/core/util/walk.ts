import { promises as fsp } from 'fs';
import * as path from 'path';
import { InputError } from '../errors';
import { isInside } from './paths';

export interface WalkedFile {
  /** Path relative to the root, with '/' separators. */
  rel: string;
  abs: string;
  size: number;
}

/** Folders that are never part of a training output. */
const SKIP_DIRS = new Set(['.git', '.modelreg', '__pycache__', '.ipynb_checkpoints', 'node_modules']);

/**
 * Lists the regular files under root. A symlink is followed only when its target stays inside
 * root; one that escapes is an error, because importing it would copy files the user did not pick.
 */
export async function walkFiles(root: string, signal?: AbortSignal): Promise<WalkedFile[]> {
  const realRoot = await fsp.realpath(root);
  const out: WalkedFile[] = [];
  const seenDirs = new Set<string>([realRoot]);
  async function visit(dir: string, relDir: string): Promise<void> {
    const entries = await fsp.readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      throw new InputError(dir, `cannot read folder (${e.code ?? e.message})`);
    });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (signal?.aborted) return;
      const abs = path.join(dir, e.name);
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      let real = abs;
      if (e.isSymbolicLink()) {
        real = await fsp.realpath(abs).catch(() => {
          throw new InputError(abs, 'broken symbolic link');
        });
        if (!isInside(realRoot, real)) {
          throw new InputError(abs, `symbolic link points outside the imported folder (to ${real})`);
        }
        const st = await fsp.stat(real);
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir) {
        if (SKIP_DIRS.has(e.name)) continue;
        const realDir = e.isSymbolicLink() ? real : await fsp.realpath(abs);
        if (seenDirs.has(realDir)) continue; // a link back up the tree would loop forever
        seenDirs.add(realDir);
        await visit(abs, rel);
      } else if (isFile) {
        const st = await fsp.stat(real);
        out.push({ rel, abs: real, size: st.size });
      }
      // sockets, fifos and devices are not model files: skip them
    }
  }
  await visit(realRoot, '');
  return out;
}

import { promises as fsp, realpathSync } from 'fs';
import * as path from 'path';
import { InputError } from '../errors';

/** Whether `p` is `root` or below it (both absolute and already resolved). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function refuse(p: string, real: string, root: string): InputError {
  return new InputError(
    p,
    `is a link to ${real}, outside ${root}; refusing to read it (pass the real path if you mean it)`,
  );
}

/**
 * The real path of `p`, which must stay inside `root` (the folder the user chose): a link inside a
 * cloned repository must not bring `~/.ssh` or `/etc/passwd` into the registry.
 */
export async function realPathWithin(p: string, root: string, realRootKnown?: string): Promise<string> {
  const real = await fsp.realpath(p).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(
      p,
      e.code === 'ENOENT' ? 'no such file or folder (or a broken link)' : `cannot read (${e.code ?? e.message})`,
    );
  });
  const realRoot = realRootKnown ?? (await fsp.realpath(root).catch(() => path.resolve(root)));
  if (!isInside(realRoot, real)) throw refuse(p, real, realRoot);
  return real;
}

/** `realPathWithin` for synchronous callers (per-sample reads, thumbnails). */
export function realPathWithinSync(p: string, root: string): string {
  let real: string;
  try {
    real = realpathSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      p,
      code === 'ENOENT' ? 'no such file (or a broken link)' : `cannot read (${code ?? (e as Error).message})`,
    );
  }
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    realRoot = path.resolve(root);
  }
  if (!isInside(realRoot, real)) throw refuse(p, real, realRoot);
  return real;
}

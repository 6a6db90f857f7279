// Below both the importers and config/generate, which name a new model the same way.
import * as path from 'path';

/** The output folder's name (a single file's parent folder), made a valid model name. */
export function defaultModelName(target: string, isDir: boolean): string {
  const base = path.basename(isDir ? target : path.dirname(target));
  const name = base
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return name || 'model';
}

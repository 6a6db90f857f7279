/** What the evaluation panel needs from core: the evaluation a command names, and sample images confined to the dataset. */
import { existsSync } from 'fs';
import * as path from 'path';
import { realPathWithinSync } from '../util/paths';

/** The evaluation a command was given: its id, or a tree node {kind: 'evaluation', evaluation}. */
export function evaluationIdOf(arg: unknown): number | undefined {
  if (Number.isSafeInteger(arg)) return arg as number;
  if (typeof arg !== 'object' || arg === null) return undefined;
  const node = arg as { kind?: unknown; evaluation?: { id?: unknown } };
  const id = node.kind === 'evaluation' ? node.evaluation?.id : undefined;
  return Number.isSafeInteger(id) ? (id as number) : undefined;
}

/**
 * The image file of an image-folder sample, or undefined when the id would lead outside the dataset
 * root (an absolute path, "..", a URL): the panel may only ever load files from under the root.
 */
export function imagePath(root: string, sampleId: string): string | undefined {
  if (
    !path.isAbsolute(root) ||
    !sampleId ||
    sampleId.includes('\0') ||
    /^[a-z][a-z0-9+.-]*:/i.test(sampleId) ||
    path.isAbsolute(sampleId)
  )
    return undefined;
  const full = path.resolve(root, sampleId);
  const rel = path.relative(path.resolve(root), full);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  if (!existsSync(full)) return full; // nothing to show, nothing to leak: the panel shows no image
  try {
    return realPathWithinSync(full, root); // a link out of the dataset shows no thumbnail
  } catch {
    return undefined;
  }
}

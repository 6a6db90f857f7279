// The rows under a version's Files when its import found checkpoint-N folders (details.checkpoints):
// each folder is a row of its own, holding its files when they were imported, saying so when the
// version is that checkpoint, or left out. Pure, so it is unit-tested.
import { checkpointOf, CheckpointRecord, FileEntry, VersionRecord } from '../../core';
import type { NodeData } from './treeNodes';

function recordOf(v: VersionRecord): CheckpointRecord | undefined {
  const c = v.details.checkpoints as CheckpointRecord | undefined;
  return c && Array.isArray(c.found) && typeof c.included === 'string' ? c : undefined;
}

/** The children of a version's Files group. */
export function fileRows(v: VersionRecord, files: FileEntry[]): NodeData[] {
  const c = recordOf(v);
  if (!c) return files.map((file) => ({ kind: 'file', file, version: v }));
  const state = (name: string) =>
    c.included === 'all' ? 'included' : c.included === 'one' && c.folder === name ? 'chosen' : 'left out';
  const folders: NodeData[] = c.found.map((checkpoint) => ({
    kind: 'checkpoint',
    checkpoint,
    state: state(checkpoint.name),
    version: v,
  }));
  const chosen = folders.filter((f) => f.kind === 'checkpoint' && f.state === 'chosen');
  const others = folders.filter((f) => !chosen.includes(f));
  const loose = files.filter((f) => c.included !== 'all' || !checkpointOf(f.path));
  // The chosen checkpoint heads the list: the files below are its files.
  return [...chosen, ...loose.map((file) => ({ kind: 'file', file, version: v }) as const), ...others];
}

/** The children of an imported checkpoint folder's row: its files. */
export function checkpointFileRows(v: VersionRecord, files: FileEntry[], folder: string): NodeData[] {
  return files
    .filter((f) => checkpointOf(f.path) === folder)
    .map((file) => ({ kind: 'file', file, version: v, under: folder }));
}

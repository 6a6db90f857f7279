import { CheckpointRecord, describeCheckpoint } from '../core';

/** details.checkpoints of a version, when its import found checkpoint folders. */
export function checkpointsOf(details: Record<string, unknown>): CheckpointRecord | undefined {
  const c = details.checkpoints as CheckpointRecord | undefined;
  return c && Array.isArray(c.found) ? c : undefined;
}

/**
 * The note `modelreg import` prints when it left checkpoint folders out without being told to
 * (no --checkpoints): what was left out, and the flag that takes it.
 */
export function checkpointNote(details: Record<string, unknown>, flag: string | undefined): string | undefined {
  const c = checkpointsOf(details);
  if (!c || c.included !== 'final' || flag !== undefined) return undefined;
  const latest = c.found[c.found.length - 1];
  const list = c.found.map((f) => `${f.name} (${describeCheckpoint(f)})`).join(', ');
  return `imported the final weights only; left out ${c.found.length} checkpoint folder${c.found.length === 1 ? '' : 's'}: ${list}. --checkpoints all includes them, --checkpoints ${latest.name} imports that one instead`;
}

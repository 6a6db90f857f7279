// The checkpoint-N folders a Hugging Face Trainer leaves in its output (each a full copy of the
// weights, plus optimizer.pt, scheduler.pt, rng_state.pth, trainer_state.json…): found, described,
// and chosen between, so an import stores the final weights only unless asked for more.
import * as path from 'path';
import { InputError } from '../errors';
import { MAX_LOG_TEXT_BYTES, parseJsonTolerant, readTextLimited } from '../inspect/logs/common';
import { isWeightFileName } from '../inspect/weights';
import type { WalkedFile } from '../util/walk';

/** A checkpoint-N folder at the top of a training output. */
export interface CheckpointFolder {
  /** The folder's name: checkpoint-500. */
  name: string;
  /** Its trainer_state.json's global_step, else the number in its name. */
  step: number;
  fileCount: number;
  bytes: number;
  /** The last evaluation its trainer_state.json logged: eval_loss, eval_accuracy… (no runtimes). */
  eval: Record<string, number>;
}

/**
 * What an import takes of an output with checkpoints: `final` (the files outside the checkpoint
 * folders, the default), `all` (everything), or a folder's name (that checkpoint alone, as the
 * version's files).
 */
export type CheckpointChoice = 'final' | 'all' | (string & {});

/** What a version records in details.checkpoints: what was taken, and every checkpoint folder found. */
export interface CheckpointRecord {
  included: 'final' | 'all' | 'one';
  /** With `one`: the folder whose files the version holds. */
  folder?: string;
  found: CheckpointFolder[];
}

const CHECKPOINT_DIR = /^checkpoint-(\d+)$/;

/** The checkpoint folder a relative path is in (its first segment), if any. */
export function checkpointOf(rel: string): string | undefined {
  const first = rel.split('/')[0];
  return rel.includes('/') && CHECKPOINT_DIR.test(first) ? first : undefined;
}

/** The checkpoint folders among an output's files, by step. Only folders holding weights count. */
export async function findCheckpoints(files: WalkedFile[]): Promise<CheckpointFolder[]> {
  const groups = new Map<string, WalkedFile[]>();
  for (const f of files) {
    const name = checkpointOf(f.rel);
    if (name) groups.set(name, [...(groups.get(name) ?? []), f]);
  }
  const found: CheckpointFolder[] = [];
  for (const [name, list] of groups) {
    if (!list.some((f) => isWeightFileName(path.posix.basename(f.rel)))) continue;
    const state = list.find((f) => f.rel === `${name}/trainer_state.json`);
    const { step, eval: evalMetrics } = state ? await readState(state) : { step: undefined, eval: {} };
    found.push({
      name,
      step: step ?? Number(CHECKPOINT_DIR.exec(name)![1]),
      fileCount: list.length,
      bytes: list.reduce((s, f) => s + f.size, 0),
      eval: evalMetrics,
    });
  }
  return found.sort((a, b) => a.step - b.step || (a.name < b.name ? -1 : 1));
}

/** Evaluation bookkeeping, not results. */
const NOT_A_RESULT = /_(runtime|samples_per_second|steps_per_second)$/;

async function readState(f: WalkedFile): Promise<{ step?: number; eval: Record<string, number> }> {
  // A checkpoint's state that cannot be read only loses its description; the import reads it again as a log.
  try {
    const state = parseJsonTolerant(await readTextLimited(f.abs, f.rel, MAX_LOG_TEXT_BYTES), f.rel) as Record<
      string,
      unknown
    >;
    const history = Array.isArray(state?.log_history) ? (state.log_history as Record<string, unknown>[]) : [];
    const last = [...history].reverse().find((e) => e && Object.keys(e).some((k) => k.startsWith('eval_')));
    const evalMetrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(last ?? {}))
      if (k.startsWith('eval_') && !NOT_A_RESULT.test(k) && typeof v === 'number') evalMetrics[k] = v;
    return { step: typeof state?.global_step === 'number' ? state.global_step : undefined, eval: evalMetrics };
  } catch {
    return { eval: {} };
  }
}

/**
 * The files an import takes for `choice` (default `final`), the root they are relative to (the
 * checkpoint's folder when one is picked), and what the version records. No checkpoints: all files.
 */
export function selectCheckpoints(
  target: string,
  files: WalkedFile[],
  found: CheckpointFolder[],
  choice: CheckpointChoice = 'final',
): { root: string; files: WalkedFile[]; record?: CheckpointRecord } {
  if (found.length === 0) return { root: target, files };
  const names = new Set(found.map((c) => c.name));
  if (choice === 'all') return { root: target, files, record: { included: 'all', found } };
  if (choice === 'final') {
    const kept = files.filter((f) => !names.has(checkpointOf(f.rel) ?? ''));
    if (!kept.some((f) => isWeightFileName(path.posix.basename(f.rel))))
      throw new InputError(
        target,
        `no final weights outside the checkpoint folders (${found.map((c) => c.name).join(', ')}): import one of them, or all`,
      );
    return { root: target, files: kept, record: { included: 'final', found } };
  }
  if (!names.has(choice))
    throw new InputError(target, `no checkpoint folder '${choice}' (found: ${found.map((c) => c.name).join(', ')})`);
  const prefix = `${choice}/`;
  return {
    root: path.join(target, choice),
    files: files.filter((f) => f.rel.startsWith(prefix)).map((f) => ({ ...f, rel: f.rel.slice(prefix.length) })),
    record: { included: 'one', folder: choice, found },
  };
}

/** "step 500 · eval_loss 0.412": how a checkpoint is described in prompts, notes and the tree. */
export function describeCheckpoint(c: CheckpointFolder): string {
  const metrics = Object.entries(c.eval)
    .slice(0, 2)
    .map(([k, v]) => `${k} ${Number(v.toPrecision(4))}`);
  return [`step ${c.step}`, ...metrics].join(' · ');
}

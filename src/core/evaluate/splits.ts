import { RegistryError } from '../errors';
import { DatasetRecord } from '../datasets/types';

/** Held-out splits, most preferred first: an evaluation runs on one of these unless told otherwise. */
const HELD_OUT = ['test', 'val', 'valid', 'validation', 'dev', 'holdout'];
const TRAINING = /^train(ing)?$/i;

/**
 * The split an evaluation runs on when none is named: test, else val…, else any split that is not
 * training data; null (every sample) for a dataset without splits. A dataset whose only split is
 * train is refused: scoring a model on what it learned from says little, so that must be asked for.
 */
export function defaultSplit(name: string, splits: string[]): string | null {
  if (splits.length === 0) return null;
  const held = HELD_OUT.find((s) => splits.includes(s)) ?? splits.find((s) => !TRAINING.test(s));
  if (held === undefined)
    throw new RegistryError(
      `dataset ${name} has no test or validation split (splits: ${splits.join(', ')}); name the split to evaluate on training data`,
    );
  return held;
}

/** The splits in the order a picker offers them: the default first, training data last. */
export function splitChoices(splits: string[]): string[] {
  const rank = (s: string) => {
    const i = HELD_OUT.indexOf(s);
    return i >= 0 ? i : TRAINING.test(s) ? HELD_OUT.length + 1 : HELD_OUT.length;
  };
  return [...splits].sort((a, b) => rank(a) - rank(b));
}

/** The split asked for (it must exist), else the default one; null runs on every sample. */
export function chooseSplit(d: Pick<DatasetRecord, 'name' | 'splits'>, wanted: string | undefined): string | null {
  if (wanted === undefined) return defaultSplit(d.name, d.splits);
  if (!d.splits.includes(wanted))
    throw new RegistryError(
      `dataset ${d.name} has no split '${wanted}' (${d.splits.length ? `splits: ${d.splits.join(', ')}` : 'it has no splits'})`,
    );
  return wanted;
}

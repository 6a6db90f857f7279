/** Which way a metric gets better. */
export type Direction = 'lower' | 'higher';

/**
 * What a metric is to a comparison: a goal with a direction, 'none' for a quantity that is logged
 * but is not a result (a learning rate, the epoch, a seed: it has no best value), or null when the
 * name does not tell.
 */
export type Goal = Direction | 'none' | null;

// Whole words of a metric key (split on anything but letters and digits), so "box_loss" is a loss
// and "glossary" is not. Throughput words come first: "samples_per_second" is not a time.
const HIGHER_THROUGHPUT =
  /(^|[^a-z0-9])(samples_per_second|steps_per_second|tokens_per_second|throughput|fps)([^a-z0-9]|$)/;
const LOWER =
  /(^|[^a-z])(loss|error|err|errors|perplexity|ppl|wer|cer|mae|mse|rmse|mape|nll|fid|latency|runtime|duration|regret|cost|bpb|bpc|ece)([^a-z]|$)/;
const HIGHER =
  /(^|[^a-z])(acc|accuracy|f1|f1_score|fscore|precision|recall|map\d*|auc|auroc|roc_auc|bleu|rouge\w*|meteor|iou|miou|dice|r2|top\d+|psnr|ssim|reward|exact_match|em|mcc|kappa|score)([^a-z]|$)/;
// Settings and counters that training logs beside its results: "lr-SGD" (Lightning's
// LearningRateMonitor), "learning_rate", "epoch", "global_step", "train_batch_size", "seed".
// Only tested after the goal words, so "train_loss_epoch" stays a loss.
const NOT_A_GOAL =
  /(^|[^a-z])(lr|lrs|learning_rate|learningrate|epoch|epochs|step|steps|global_step|iteration|iter|batch|batch_size|bs|seed|momentum|weight_decay|wd|warmup|grad_norm|total_flos|flos|num_tokens|num_input_tokens_seen)([^a-z]|$)/;

/** Which way a metric improves, from its name (accuracy up, loss down, learning rate none); null when unknown. */
export function inferDirection(key: string): Goal {
  const k = key.toLowerCase();
  if (HIGHER_THROUGHPUT.test(k)) return 'higher';
  if (LOWER.test(k)) return 'lower';
  if (HIGHER.test(k)) return 'higher';
  if (NOT_A_GOAL.test(k)) return 'none';
  return null;
}

/**
 * The one place that decides a metric's goal: the user's setting for the key wins, else the name
 * tells. Only a direction has a best value (and a star).
 */
export function metricGoal(
  key: string,
  overrides: Record<string, Direction> = {},
): { goal: Goal; overridden: boolean } {
  const set = Object.prototype.hasOwnProperty.call(overrides, key) ? overrides[key] : undefined;
  if (set === 'lower' || set === 'higher') return { goal: set, overridden: true };
  return { goal: inferDirection(key), overridden: false };
}

/** Column indices of the best value(s); ties share; none without a direction or values. */
export function bestIndices(values: (number | null)[], direction: Goal): number[] {
  if (direction !== 'lower' && direction !== 'higher') return [];
  let best: number | null = null;
  for (const v of values) {
    if (v === null || Number.isNaN(v)) continue;
    if (best === null || (direction === 'lower' ? v < best : v > best)) best = v;
  }
  if (best === null) return [];
  return values.flatMap((v, i) => (v === best ? [i] : []));
}

/** Which way a metric gets better. */
export type Direction = 'lower' | 'higher';

// Whole words of a metric key (split on anything but letters and digits), so "box_loss" is a loss
// and "glossary" is not. Throughput words come first: "samples_per_second" is not a time.
const HIGHER_THROUGHPUT =
  /(^|[^a-z0-9])(samples_per_second|steps_per_second|tokens_per_second|throughput|fps)([^a-z0-9]|$)/;
const LOWER =
  /(^|[^a-z])(loss|error|err|errors|perplexity|ppl|wer|cer|mae|mse|rmse|mape|nll|fid|latency|runtime|duration|regret|cost|bpb|bpc|ece)([^a-z]|$)/;
const HIGHER =
  /(^|[^a-z])(acc|accuracy|f1|f1_score|fscore|precision|recall|map\d*|auc|auroc|roc_auc|bleu|rouge\w*|meteor|iou|miou|dice|r2|top\d+|psnr|ssim|reward|exact_match|em|mcc|kappa|score)([^a-z]|$)/;

/** Which way a metric improves, from its name (accuracy up, loss down); null when unknown. */
export function inferDirection(key: string): Direction | null {
  const k = key.toLowerCase();
  if (HIGHER_THROUGHPUT.test(k)) return 'higher';
  if (LOWER.test(k)) return 'lower';
  if (HIGHER.test(k)) return 'higher';
  return null;
}

/** Column indices of the best value(s); ties share; none without a direction or values. */
export function bestIndices(values: (number | null)[], direction: Direction | null): number[] {
  if (!direction) return [];
  let best: number | null = null;
  for (const v of values) {
    if (v === null || Number.isNaN(v)) continue;
    if (best === null || (direction === 'lower' ? v < best : v > best)) best = v;
  }
  if (best === null) return [];
  return values.flatMap((v, i) => (v === best ? [i] : []));
}

/**
 * One image's box outcomes at a confidence threshold. Outcomes are stored over all predictions,
 * matched greedily by score (types.ts), so a prediction scoring ≥ c keeps its outcome at c: only
 * those below c drop out, and the truths they matched become misses.
 * (A private copy for the review panel until the metrics branch lands its own; same spec.)
 */
import type { ImageOutcomes, TruthOutcome } from './types';

export function outcomesAt(image: ImageOutcomes, confidence: number): ImageOutcomes {
  return {
    ...image,
    predictions: image.predictions.filter((p) => p.score >= confidence),
    truths: image.truths.map((t) => (t.outcome === 'matched' && (t.score ?? -Infinity) < confidence ? missed(t) : t)),
  };
}

function missed(t: TruthOutcome): TruthOutcome {
  const { predictionId: _p, iou: _i, score: _s, ...rest } = t;
  return { ...rest, outcome: 'fn' };
}

/** Classification metrics from per-sample outcomes; every formula is the textbook one, nulls where undefined. */
import { ClassificationMetrics, ClassMetrics } from './types';

export interface Outcome {
  label: number;
  /** Class probabilities (softmax already applied), length = number of classes. */
  probs: ArrayLike<number>;
}

const ECE_BINS = 15;

/** argmax, ties to the lower index. */
export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

/** Softmax that leaves probabilities alone: outputs that already sum to 1 and lie in [0, 1] are kept. */
export function toProbabilities(logits: ArrayLike<number>): Float64Array {
  let sum = 0;
  let isProb = true;
  for (let i = 0; i < logits.length; i++) {
    sum += logits[i];
    if (!(logits[i] >= 0 && logits[i] <= 1)) isProb = false;
  }
  if (isProb && Math.abs(sum - 1) < 1e-3) return Float64Array.from(logits);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= z;
  return out;
}

/** Is the label among the k most probable classes? */
function inTopK(p: ArrayLike<number>, label: number, k: number): boolean {
  let higher = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > p[label] || (p[i] === p[label] && i < label)) higher++;
  return higher < k;
}

/** Accumulates outcomes one by one (evaluations stream), then reports. */
export class ClassificationTally {
  readonly confusion: number[][];
  private count = 0;
  private correct = 0;
  private top3 = 0;
  private top5 = 0;
  /** Samples with full probabilities (top-k) and with a score (calibration). */
  private ranked = 0;
  private scored = 0;
  private readonly binCount = new Array<number>(ECE_BINS).fill(0);
  private readonly binConf = new Array<number>(ECE_BINS).fill(0);
  private readonly binCorrect = new Array<number>(ECE_BINS).fill(0);

  constructor(readonly classes: string[]) {
    this.confusion = classes.map(() => new Array<number>(classes.length).fill(0));
  }

  /** Records one sample; returns its prediction and the predicted class's probability. */
  add(o: Outcome): { prediction: number; score: number } {
    const prediction = argmax(o.probs);
    const score = o.probs[prediction];
    this.ranked++;
    if (inTopK(o.probs, o.label, 3)) this.top3++;
    if (inTopK(o.probs, o.label, 5)) this.top5++;
    this.addPrediction(o.label, prediction, score);
    return { prediction, score };
  }

  /** A sample known only by its predicted class (an external evaluator's output); score optional. */
  addPrediction(label: number, prediction: number, score: number | null): void {
    this.count++;
    this.confusion[label][prediction]++;
    if (prediction === label) this.correct++;
    if (score === null || !Number.isFinite(score)) return;
    this.scored++;
    const bin = Math.min(ECE_BINS - 1, Math.max(0, Math.floor(score * ECE_BINS)));
    this.binCount[bin]++;
    this.binConf[bin] += score;
    if (prediction === label) this.binCorrect[bin]++;
  }

  perClass(): ClassMetrics[] {
    const n = this.classes.length;
    return this.classes.map((cls, c) => {
      const tp = this.confusion[c][c];
      let predicted = 0;
      for (let r = 0; r < n; r++) predicted += this.confusion[r][c];
      const support = this.confusion[c].reduce((s, x) => s + x, 0);
      const precision = predicted ? tp / predicted : null;
      const recall = support ? tp / support : null;
      const f1 =
        precision !== null && recall !== null
          ? precision + recall
            ? (2 * precision * recall) / (precision + recall)
            : 0
          : null;
      return { class: cls, support, precision, recall, f1 };
    });
  }

  metrics(): ClassificationMetrics {
    const per = this.perClass();
    // As scikit-learn by default: average over the classes that occur as a label or a prediction, an
    // undefined precision or recall counting as 0.
    const predicted = (c: number) => this.confusion.reduce((s, row) => s + row[c], 0);
    const present = per.filter((p, c) => p.support > 0 || predicted(c) > 0);
    const mean = (xs: (number | null)[]) =>
      xs.length ? xs.reduce<number>((s, x) => s + (x ?? 0), 0) / xs.length : null;
    const weighted = (key: 'precision' | 'recall' | 'f1') =>
      this.count ? present.reduce((s, p) => s + (p[key] ?? 0) * p.support, 0) / this.count : null;
    let ece = 0;
    for (let b = 0; b < ECE_BINS; b++)
      if (this.binCount[b])
        ece +=
          (this.binCount[b] / this.scored) *
          Math.abs(this.binCorrect[b] / this.binCount[b] - this.binConf[b] / this.binCount[b]);
    const k = this.classes.length;
    return {
      accuracy: this.count ? this.correct / this.count : null,
      ...(k > 3 && this.ranked ? { top3: this.top3 / this.ranked } : {}),
      ...(k > 5 && this.ranked ? { top5: this.top5 / this.ranked } : {}),
      macroPrecision: mean(present.map((p) => p.precision)),
      macroRecall: mean(present.map((p) => p.recall)),
      macroF1: mean(present.map((p) => p.f1)),
      weightedPrecision: weighted('precision'),
      weightedRecall: weighted('recall'),
      weightedF1: weighted('f1'),
      ece: this.scored ? ece : null,
      count: this.count,
    };
  }
}

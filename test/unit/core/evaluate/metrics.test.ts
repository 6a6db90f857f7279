// Classification metrics against a case worked out by hand (and checked with scikit-learn's
// definitions): y_true = [0,0,0,1,1,2], y_pred = [0,0,1,1,2,2].
import * as assert from 'assert';
import { ClassificationTally, toProbabilities } from '../../../../src/core/evaluate/metrics';

/** Probabilities that put `score` on `pred` and split the rest over the others. */
function probs(k: number, pred: number, score: number): number[] {
  return Array.from({ length: k }, (_, i) => (i === pred ? score : (1 - score) / (k - 1)));
}

const close = (a: number | null | undefined, b: number, what: string) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

describe('classification metrics', () => {
  it('accuracy, per-class and macro/weighted precision, recall, F1, confusion matrix and ECE', () => {
    const t = new ClassificationTally(['cat', 'dog', 'fox']);
    const cases: [number, number, number][] = [
      [0, 0, 0.9],
      [0, 0, 0.8],
      [0, 1, 0.6],
      [1, 1, 0.7],
      [1, 2, 0.55],
      [2, 2, 0.95],
    ];
    for (const [label, pred, score] of cases)
      assert.deepStrictEqual(t.add({ label, probs: probs(3, pred, score) }), { prediction: pred, score });
    assert.deepStrictEqual(t.confusion, [
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    const per = t.perClass();
    assert.deepStrictEqual(
      per.map((p) => p.support),
      [3, 2, 1],
    );
    [1, 0.5, 0.5].forEach((v, i) => close(per[i].precision, v, `precision ${i}`));
    [2 / 3, 0.5, 1].forEach((v, i) => close(per[i].recall, v, `recall ${i}`));
    [0.8, 0.5, 2 / 3].forEach((v, i) => close(per[i].f1, v, `f1 ${i}`));
    const m = t.metrics();
    close(m.accuracy, 4 / 6, 'accuracy');
    close(m.macroPrecision, 2 / 3, 'macro P');
    close(m.macroRecall, (2 / 3 + 0.5 + 1) / 3, 'macro R');
    close(m.macroF1, (0.8 + 0.5 + 2 / 3) / 3, 'macro F1');
    close(m.weightedPrecision, 0.75, 'weighted P');
    close(m.weightedRecall, 4 / 6, 'weighted R');
    close(m.weightedF1, (0.8 * 3 + 0.5 * 2 + 2 / 3) / 6, 'weighted F1');
    // One sample per confidence bin: ECE = mean |correct - confidence| = (0.1+0.2+0.6+0.3+0.55+0.05)/6.
    close(m.ece, 0.3, 'ECE');
    assert.strictEqual(m.count, 6);
    assert.ok(!('top3' in m), 'no top-3 with only 3 classes');
  });

  it('top-k, a class never predicted (precision undefined) and an empty tally', () => {
    const t = new ClassificationTally(['a', 'b', 'c', 'd', 'e', 'f']);
    // label 5 ranked third, label 4 ranked first, label 3 ranked sixth.
    t.add({ label: 5, probs: [0.45, 0.2, 0.1, 0.05, 0.05, 0.15] });
    t.add({ label: 4, probs: [0.1, 0.1, 0.1, 0.1, 0.5, 0.1] });
    t.add({ label: 3, probs: [0.3, 0.25, 0.2, 0.01, 0.14, 0.1] });
    const m = t.metrics();
    close(m.accuracy, 1 / 3, 'accuracy');
    close(m.top3, 2 / 3, 'top-3');
    close(m.top5, 2 / 3, 'top-5');
    assert.strictEqual(t.perClass()[3].precision, null, 'class d is never predicted');
    assert.strictEqual(t.perClass()[1].recall, null, 'class b has no samples');
    const empty = new ClassificationTally(['x', 'y']).metrics();
    assert.deepStrictEqual([empty.accuracy, empty.macroF1, empty.ece, empty.count], [null, null, null, 0]);
  });

  it('softmax for logits, probabilities left as they are', () => {
    const p = toProbabilities([1, 2, 3]);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    [1, 2, 3].forEach((x, i) => close(p[i], Math.exp(x) / z, `softmax ${i}`));
    assert.deepStrictEqual(Array.from(toProbabilities([0.2, 0.8])), [0.2, 0.8]);
    assert.ok(Math.abs(toProbabilities([1000, 0])[0] - 1) < 1e-12, 'large logits do not overflow');
  });
});

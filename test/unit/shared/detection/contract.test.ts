// The detection panel's message contract and the pure view behind it (plain Node: no 'vscode').
import * as assert from 'assert';
import type { EvaluationRecord } from '../../../../src/core/registry/evaluationTypes';
import { MAX_PAGE, parseFromDetectionPage } from '../../../../src/shared/detection/contract';
import { detectionView, isDetectionEvaluation, rates } from '../../../../src/shared/detection/view';

const query = { confidence: 0.5, cls: 1, outcome: 'fn', sort: 'fn-area' };

describe('detection panel contract', () => {
  it('accepts well-formed queries and keeps only the known fields', () => {
    assert.deepStrictEqual(parseFromDetectionPage({ type: 'stats', payload: { request: 3, confidence: 0, x: 1 } }, 3), {
      type: 'stats',
      payload: { request: 3, confidence: 0 },
    });
    assert.deepStrictEqual(
      parseFromDetectionPage(
        { type: 'images', payload: { request: 4, query: { ...query, extra: 'x' }, offset: 120, limit: 60 } },
        3,
      ),
      { type: 'images', payload: { request: 4, query, offset: 120, limit: 60 } },
    );
    assert.deepStrictEqual(
      parseFromDetectionPage({ type: 'image', payload: { request: 2, confidence: 0.4, index: 4999 } }, 3),
      {
        type: 'image',
        payload: { request: 2, confidence: 0.4, index: 4999 },
      },
    );
    const all = { confidence: 1, cls: null, outcome: null, sort: 'index' };
    assert.deepStrictEqual(
      parseFromDetectionPage({ type: 'images', payload: { request: 5, query: all, offset: 0, limit: MAX_PAGE } }, 3)
        ?.type,
      'images',
    );
    // Confusion cells may be in the background row or column (index K = 3), and class errors name a class.
    for (const q of [
      { truth: 3, predicted: 0 },
      { truth: 2, predicted: 3 },
      { truth: 1, predicted: 2 },
      { cls: 2, outcome: 'fp' },
    ])
      assert.deepStrictEqual(
        parseFromDetectionPage({ type: 'crops', payload: { request: 6, confidence: 0.25, query: q } }, 3),
        { type: 'crops', payload: { request: 6, confidence: 0.25, query: q } },
        JSON.stringify(q),
      );
  });

  it('rejects classes out of range, confidences outside 0..1, oversized pages and unknown sorts or outcomes', () => {
    const images = (change: Record<string, unknown>, page: Record<string, unknown> = {}) => ({
      type: 'images',
      payload: { request: 1, query: { ...query, ...change }, offset: 0, limit: 10, ...page },
    });
    for (const bad of [
      images({ cls: 3 }),
      images({ cls: -1 }),
      images({ cls: 1.5 }),
      images({ confidence: 1.01 }),
      images({ confidence: NaN }),
      images({ outcome: 'ignored' }),
      images({ sort: 'random' }),
      images({}, { limit: MAX_PAGE + 1 }),
      images({}, { limit: 0 }),
      images({}, { offset: -1 }),
      { type: 'stats', payload: { request: -1, confidence: 0.5 } },
      { type: 'stats', payload: { request: 1, confidence: '0.5' } },
      { type: 'crops', payload: { request: 1, confidence: 0.5, query: { truth: 3, predicted: 3 } } },
      { type: 'crops', payload: { request: 1, confidence: 0.5, query: { truth: 4, predicted: 0 } } },
      { type: 'crops', payload: { request: 1, confidence: 0.5, query: { cls: 3, outcome: 'fp' } } },
      { type: 'crops', payload: { request: 1, confidence: 0.5, query: { cls: 0, outcome: 'tp' } } },
      { type: 'image', payload: { request: 1, confidence: 0.5, index: -1 } },
      { type: 'image', payload: { request: 1, confidence: 0.5, index: 'val/1.jpg' } },
      { type: 'openImage', payload: { request: 1 } },
    ])
      assert.strictEqual(parseFromDetectionPage(bad, 3), undefined, JSON.stringify(bad));
  });

  it('builds the view from a stored detection evaluation, reading loose fields defensively', () => {
    const record = {
      id: 9,
      ref: 'det@v2',
      status: 'done',
      datasetName: 'coco-mini',
      datasetSha256: 'a'.repeat(64),
      split: 'val',
      evaluator: 'predictions',
      git: null,
      finishedAt: '2026-12-01T00:00:00Z',
      sampleCount: 2,
      classes: ['cat', 'dog'],
      metrics: { AP: 0.5, APs: null, VOC_AP50: 0.61, bogus: 'x' },
      perClass: [
        { class: 'cat', support: 3, AP: 0.4, AP50: 0.7, tp: 1 },
        { class: 'dog', support: 0, AP: null },
      ],
      details: {
        task: 'detection',
        confidence: 0.3,
        iou: 0.5,
        prCurves: [{ class: 'cat', recall: [0, 0.5], precision: [1, null] }, 'junk'],
        notes: ['COCO vs VOC'],
      },
    } as unknown as EvaluationRecord;
    assert.ok(isDetectionEvaluation(record));
    assert.ok(!isDetectionEvaluation({ details: {} }));
    const v = detectionView(record, { imagesMissing: true });
    assert.deepStrictEqual(v.metrics, { AP: 0.5, APs: null, VOC_AP50: 0.61, bogus: null });
    assert.deepStrictEqual(v.perClass, [
      { class: 'cat', support: 3, AP: 0.4, AP50: 0.7 },
      { class: 'dog', support: 0, AP: null, AP50: null },
    ]);
    assert.deepStrictEqual(v.prCurves, [{ class: 'cat', recall: [0, 0.5], precision: [1, null] }]);
    assert.deepStrictEqual([v.confidence, v.iou, v.notes, v.imagesMissing], [0.3, 0.5, ['COCO vs VOC'], true]);
    // summary.ts's METRIC_NOTES: one note per convention.
    const notes = { voc: 'VOC is…', ultralytics: 'Ultralytics is…' };
    const w = detectionView({ ...record, details: { ...record.details, notes } }, { imagesMissing: false });
    assert.deepStrictEqual(w.notes, ['VOC is…', 'Ultralytics is…']);
  });

  it('computes precision, recall and F1 of counts, null where undefined', () => {
    assert.deepStrictEqual(rates({ tp: 3, fp: 1, fn: 2 }), { precision: 0.75, recall: 0.6, f1: 6 / 9 });
    assert.deepStrictEqual(rates({ tp: 0, fp: 0, fn: 0 }), { precision: null, recall: null, f1: null });
    assert.deepStrictEqual(rates({ tp: 0, fp: 0, fn: 4 }), { precision: null, recall: 0, f1: 0 });
  });
});

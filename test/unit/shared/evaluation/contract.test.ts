// The evaluation panel's message contract, its page shell and the pure helpers behind it (plain Node: no 'vscode').
import * as assert from 'assert';
import { writeFileSync } from 'fs';
import * as path from 'path';
import type { DatasetManifest } from '../../../../src/core/datasets/types';
import { EVALUATION_PAGE, MAX_SAMPLE_ID, parseFromWebview } from '../../../../src/shared/evaluation/contract';
import type { EvaluationRecord } from '../../../../src/core/evaluate/types';
import { TableSnippets } from '../../../../src/core/evaluate/snippets';
import { evaluationIdOf, imagePath } from '../../../../src/core/evaluate/view';
import { pageHtml } from '../../../../src/extension/panels/pageHtml';
import { evaluationView, sampleTotal } from '../../../../src/shared/evaluation/view';
import { tempDir } from '../../helpers/tmp';

describe('evaluation panel contract', () => {
  it('accepts well-formed messages and keeps only the known fields', () => {
    assert.deepStrictEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
    assert.deepStrictEqual(
      parseFromWebview({ type: 'cell', payload: { request: 1, label: 0, prediction: 2, extra: 'x' } }, 3),
      {
        type: 'cell',
        payload: { request: 1, label: 0, prediction: 2 },
      },
    );
    assert.deepStrictEqual(parseFromWebview({ type: 'classErrors', payload: { request: 7, cls: 2, kind: 'fn' } }, 3), {
      type: 'classErrors',
      payload: { request: 7, cls: 2, kind: 'fn' },
    });
    assert.deepStrictEqual(parseFromWebview({ type: 'classErrors', payload: { request: 0, cls: 0, kind: 'fp' } }), {
      type: 'classErrors',
      payload: { request: 0, cls: 0, kind: 'fp' },
    });
    assert.deepStrictEqual(parseFromWebview({ type: 'errors', payload: { request: 3 } }), {
      type: 'errors',
      payload: { request: 3 },
    });
    assert.deepStrictEqual(parseFromWebview({ type: 'openSample', payload: { sampleId: 'cat/001.jpg' } }), {
      type: 'openSample',
      payload: { sampleId: 'cat/001.jpg' },
    });
  });

  it('rejects hostile and malformed messages', () => {
    const bad: unknown[] = [
      null,
      undefined,
      42,
      'cell',
      [],
      [{ type: 'ready' }],
      {},
      { type: 5 },
      { type: 'eval' },
      { type: 'openSample', sampleId: 'a' },
      { type: '__proto__' },
      { type: 'constructor' },
      // indices: wrong types, negative, fractional, unsafe, out of the class range
      { type: 'cell', payload: { request: 1, label: '0', prediction: 0 } },
      { type: 'cell', payload: { request: 1, label: 0 } },
      { type: 'cell', payload: { request: 1, label: -1, prediction: 0 } },
      { type: 'cell', payload: { request: 1, label: 0.5, prediction: 0 } },
      { type: 'cell', payload: { request: 1, label: 0, prediction: 3 } },
      { type: 'cell', payload: { request: 1, label: NaN, prediction: 0 } },
      { type: 'cell', payload: { request: 1, label: Infinity, prediction: 0 } },
      { type: 'cell', payload: { request: -1, label: 0, prediction: 0 } },
      { type: 'cell', payload: { request: 1.5, label: 0, prediction: 0 } },
      { type: 'cell', payload: { request: 2 ** 60, label: 0, prediction: 0 } },
      { type: 'cell', payload: { request: '1', label: 0, prediction: 0 } },
      { type: 'classErrors', payload: { request: 1, cls: 0, kind: 'tp' } },
      { type: 'classErrors', payload: { request: 1, cls: 0 } },
      { type: 'classErrors', payload: { request: 1, cls: 99, kind: 'fp' } },
      { type: 'classErrors', payload: { request: 1, cls: [0], kind: 'fp' } },
      { type: 'errors' },
      { type: 'errors', payload: { request: null } },
      // sample ids: wrong type, empty, huge, NUL
      { type: 'openSample' },
      { type: 'openSample', payload: { sampleId: 12 } },
      { type: 'openSample', payload: { sampleId: '' } },
      { type: 'openSample', payload: { sampleId: 'a'.repeat(MAX_SAMPLE_ID + 1) } },
      { type: 'openSample', payload: { sampleId: 'x'.repeat(10_000_000) } },
      { type: 'openSample', payload: { sampleId: 'cat/1.jpg\0.txt' } },
      { type: 'openSample', payload: { sampleId: { toString: () => 'a' } } },
    ];
    for (const m of bad) assert.strictEqual(parseFromWebview(m, 3), undefined, JSON.stringify(m)?.slice(0, 100));
  });
});

describe('evaluation page html', () => {
  const html = pageHtml(EVALUATION_PAGE, {
    cspSource: 'https://webview.test',
    dist: 'https://webview.test/dist/webview',
    nonce: 'abc123==',
  });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  const directive = (name: string) =>
    csp
      .split(';')
      .map((d) => d.trim())
      .find((d) => d.startsWith(`${name} `)) ?? '';

  it('loads only the nonce’d bundle, with no inline or remote script', () => {
    assert.strictEqual(directive('default-src'), "default-src 'none'");
    assert.strictEqual(directive('script-src'), "script-src 'nonce-abc123=='");
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), csp);
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.deepStrictEqual(scripts, [
      '<script nonce="abc123==" src="https://webview.test/dist/webview/evaluation.js">',
    ]);
    assert.ok(html.includes('href="https://webview.test/dist/webview/evaluation.css"'));
  });

  it('takes images only from the webview', () => {
    assert.strictEqual(directive('img-src'), 'img-src https://webview.test');
    assert.ok(!/\b(data:|blob:|https?:\/\/(?!webview\.test))/.test(csp), csp);
  });
});

describe('evaluation view helpers', () => {
  const evaluation: EvaluationRecord = {
    id: 4,
    versionId: 2,
    ref: 'net@v2',
    datasetId: 1,
    datasetName: 'pets',
    datasetSha256: 'f'.repeat(64),
    split: 'val',
    evaluator: 'onnx',
    status: 'done',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:01:00Z',
    git: { commit: 'a'.repeat(40), dirty: false },
    sampleCount: 10,
    errorCount: 1,
    metrics: { accuracy: 0.7, macroF1: 0.6, count: 10, top3: undefined },
    perClass: [],
    classes: ['cat', 'dog', 'fox'],
    // rows: label, columns: prediction
    confusion: [
      [3, 1, 0],
      [2, 3, 1],
      [0, 0, 0],
    ],
    details: {},
  };
  const dataset = {
    id: 1,
    name: 'pets',
    kind: 'image-folder' as const,
    root: '/data/pets',
    manifestSha256: 'f'.repeat(64),
    sampleCount: 11,
    classes: ['cat', 'dog', 'fox'],
    splits: ['val'],
    createdAt: '',
    details: {},
  };

  it('builds the view with nulls for missing metrics', () => {
    const v = evaluationView(evaluation, dataset);
    assert.strictEqual(v.metrics.accuracy, 0.7);
    assert.strictEqual(v.metrics.top3, null);
    assert.strictEqual(v.metrics.ece, null);
    assert.strictEqual(v.samples, 'image');
    assert.strictEqual(evaluationView(evaluation, { ...dataset, kind: 'table' }).samples, 'text');
    assert.strictEqual(evaluationView(evaluation, undefined).samples, 'text');
  });

  it('counts a query’s samples from the confusion matrix', () => {
    const v = evaluationView(evaluation, dataset);
    assert.strictEqual(sampleTotal(v, { label: 1, prediction: 0 }), 2);
    assert.strictEqual(sampleTotal(v, { kind: 'fp', cls: 0 }), 2); // dog→cat
    assert.strictEqual(sampleTotal(v, { kind: 'fn', cls: 1 }), 3); // dog→cat, dog→fox
    assert.strictEqual(sampleTotal(v, { kind: 'errors' }), 1);
  });

  it('accepts an evaluation id or a tree node', () => {
    assert.strictEqual(evaluationIdOf(4), 4);
    assert.strictEqual(evaluationIdOf({ kind: 'evaluation', evaluation }), 4);
    for (const bad of [
      undefined,
      '4',
      1.5,
      { kind: 'version', evaluation },
      { kind: 'evaluation' },
      { kind: 'evaluation', evaluation: { id: '4' } },
    ]) {
      assert.strictEqual(evaluationIdOf(bad), undefined);
    }
  });

  it('finds images only under the dataset root', () => {
    const root = path.resolve('/data/pets');
    assert.strictEqual(imagePath(root, 'cat/1.jpg'), path.join(root, 'cat', '1.jpg'));
    for (const id of [
      '../secret.png',
      'cat/../../x.png',
      '/etc/passwd',
      'https://evil.test/a.png',
      'file:///etc/passwd',
      '',
      '.',
      'a\0b',
    ]) {
      assert.strictEqual(imagePath(root, id), undefined, id);
    }
    assert.strictEqual(imagePath('relative/root', 'cat/1.jpg'), undefined);
  });
});

describe('table sample snippets', () => {
  const manifest = (textColumn?: string): DatasetManifest => ({
    format: 'modelreg-dataset',
    formatVersion: 1,
    kind: 'table',
    classes: ['no', 'yes'],
    splits: [],
    files: [],
    table: { labelColumn: 'label', featureColumns: ['x', 'y'], ...(textColumn ? { textColumn } : {}) },
    samples: [0, 1].map((row) => ({ id: `data.csv#${row}`, file: 'data.csv', row, label: row, split: null })),
  });

  it('shows the feature columns, or the text column, cut to a snippet', async () => {
    const file = path.join(tempDir(), 'data.csv');
    writeFileSync(file, `x,y,label,review\n1.5,2,no,${'great '.repeat(40)}\n3,4,yes,bad\n`);
    const plain = new TableSnippets(file, async () => manifest());
    assert.strictEqual(await plain.get('data.csv#1'), 'x=3, y=4');
    assert.strictEqual(await plain.get('missing#9'), 'missing#9');
    const text = new TableSnippets(file, async () => manifest('review'));
    assert.strictEqual(await text.get('data.csv#1'), 'bad');
    const long = await text.get('data.csv#0');
    assert.strictEqual(long.length, 120);
    assert.ok(long.endsWith('…'));
  });

  it('falls back to the sample id when the file is gone', async () => {
    const snippets = new TableSnippets(path.join(tempDir(), 'gone.csv'), async () => manifest());
    assert.strictEqual(await snippets.get('data.csv#0'), 'data.csv#0');
  });
});

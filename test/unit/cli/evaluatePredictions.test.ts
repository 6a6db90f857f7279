// `modelreg evaluate REF --dataset NAME --predictions results.json` through the real CLI: predictions
// made elsewhere (COCO results) recorded as an evaluation of REF with the file's hash; the metrics
// are the ones cocoEvaluate gives on the same two files read directly, so the path through the
// dataset's manifest (category ids → classes → category ids, image ids) loses nothing.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { COCO_STAT_KEYS, cocoEvaluate } from '../../../src/core/evaluate/detection/cocoEval';
import { formatMetric } from '../../../src/shared/format';
import { onnxModelBytes } from '../helpers/makeWeights';
import { CLI_JS, repoRoot } from '../helpers/paths';
import { makeGitRepo, tempDir } from '../helpers/tmp';

const SHAPES = path.join(repoRoot, 'test', 'fixtures', 'coco-shapes');

describe('modelreg evaluate --predictions', function () {
  this.timeout(60_000);
  let ws: string;
  const modelreg = (...args: string[]) => spawnSync(process.execPath, [CLI_JS, ...args], { cwd: ws, encoding: 'utf8' });
  const ok = (...args: string[]) => {
    const r = modelreg(...args);
    assert.strictEqual(r.status, 0, r.stderr);
    return r.stdout;
  };

  before(() => {
    ws = tempDir();
    makeGitRepo(ws);
    cpSync(SHAPES, path.join(ws, 'shapes'), { recursive: true });
    mkdirSync(path.join(ws, 'models', 'det'), { recursive: true });
    // The detector ran on another machine: any version will do, its file is not run.
    writeFileSync(path.join(ws, 'models', 'det', 'model.onnx'), onnxModelBytes({ features: 2, classes: 2 }));
    ok('import', 'models/det', '--model', 'det');
    ok('dataset', 'add', 'shapes/gt_dataset.json', '--images', 'shapes', '--name', 'shapes');
  });

  it('records the evaluation with COCO’s 12 stats under their keys, per-class AP, and the file’s hash', () => {
    const e = JSON.parse(
      ok('evaluate', 'det@v1', '--dataset', 'shapes', '--predictions', 'shapes/dt_dataset.json', '--json'),
    );
    const gt = JSON.parse(readFileSync(path.join(SHAPES, 'gt_dataset.json'), 'utf8'));
    const dt = JSON.parse(readFileSync(path.join(SHAPES, 'dt_dataset.json'), 'utf8'));
    const direct = cocoEvaluate(gt, dt);
    for (const k of COCO_STAT_KEYS) {
      const want = direct.stats[k] === -1 ? null : direct.stats[k];
      assert.strictEqual(e.metrics[k], want, k);
    }
    // Not a degenerate case: some boxes are found and some are not.
    assert.ok(e.metrics.AP > 0 && e.metrics.AP < 1, String(e.metrics.AP));
    assert.deepStrictEqual(
      e.perClass.map((c: { class: string; AP: number | null }) => [c.class, c.AP]),
      direct.perClass.map((c) => [c.name, c.AP === -1 ? null : c.AP]),
    );
    assert.strictEqual(e.evaluator, 'predictions');
    assert.strictEqual(e.sampleCount, 3);
    const bytes = readFileSync(path.join(SHAPES, 'dt_dataset.json'));
    assert.deepStrictEqual(e.details.predictions, {
      file: 'dt_dataset.json',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      count: dt.length,
      ignored: { unknownImage: 0, unknownCategory: 0, malformed: 0 },
    });
    for (const k of ['VOC_AP50', 'VOC07_AP50', 'mAP50', 'mAP50-95', 'precision', 'recall', 'F1'])
      assert.strictEqual(typeof e.metrics[k], 'number', k);
    // (K + 1)² with the background row and column.
    assert.strictEqual(e.confusion.length, gt.categories.length + 1);

    const text = ok('evaluations', 'det@v1');
    assert.ok(text.includes(`shapes\tAP ${formatMetric(e.metrics.AP)}\t3 images`), text);
  });

  it('prints the COCO, VOC and Ultralytics numbers and a per-class table without --json', () => {
    const out = ok('evaluate', 'det@v1', '--dataset', 'shapes', '--predictions', 'shapes/dt_dataset.json');
    assert.match(out, /^det@v1 on shapes \(dataset [0-9a-f]{12}.*\): 3 images, 9 predictions\n/);
    assert.match(out, /\n {2}COCO {2}AP [0-9.]+ {2}AP50 /);
    assert.match(out, /\n {2}VOC {3}VOC_AP50 [0-9.]+ {2}VOC07_AP50 [0-9.]+ {3}Ultralytics {2}mAP50 /);
    // cloud: 3 boxes, 2 of them found, with 2 false positives at confidence 0.25.
    assert.match(out, /\n {2}cloud +3 +[0-9.]+ +[0-9.]+ +0\.5 +0\.6667 +2 +1\n/);
  });

  it('refuses a file that is not COCO results, or whose predictions fit nothing, naming the file; nothing is recorded', () => {
    const before = JSON.parse(ok('evaluations', 'det@v1', '--json')).length;
    writeFileSync(path.join(ws, 'not-a-list.json'), '{"annotations": []}');
    let r = modelreg('evaluate', 'det@v1', '--dataset', 'shapes', '--predictions', 'not-a-list.json');
    assert.strictEqual(r.status, 2, r.stderr);
    assert.match(r.stderr, /not-a-list\.json: COCO results must be a list of \{image_id, category_id, bbox, score\}/);

    writeFileSync(
      path.join(ws, 'elsewhere.json'),
      JSON.stringify([{ image_id: 999, category_id: 1, bbox: [0, 0, 5, 5], score: 0.9 }]),
    );
    r = modelreg('evaluate', 'det@v1', '--dataset', 'shapes', '--predictions', 'elsewhere.json');
    assert.strictEqual(r.status, 2, r.stderr);
    assert.match(r.stderr, /elsewhere\.json: none of its 1 predictions fits the dataset: 1 of an unknown image/);

    writeFileSync(path.join(ws, 'deep.json'), '['.repeat(100_000));
    r = modelreg('evaluate', 'det@v1', '--dataset', 'shapes', '--predictions', 'deep.json');
    assert.strictEqual(r.status, 2, r.stderr);
    assert.match(r.stderr, /deep\.json/);

    r = modelreg('evaluate', 'det@v1', '--dataset', 'shapes', '--predictions', 'missing.json');
    assert.strictEqual(r.status, 2, r.stderr);
    assert.match(r.stderr, /missing\.json: no such file/);
    assert.strictEqual(JSON.parse(ok('evaluations', 'det@v1', '--json')).length, before);
  });

  it('counts what it left out: predictions of unknown images and categories, malformed boxes', () => {
    const dt = JSON.parse(readFileSync(path.join(SHAPES, 'dt_dataset.json'), 'utf8'));
    const extra = [
      { image_id: 999, category_id: 1, bbox: [0, 0, 5, 5], score: 0.9 },
      { image_id: 1, category_id: 77, bbox: [0, 0, 5, 5], score: 0.9 },
      { image_id: 1, category_id: 1, bbox: [0, 0, -5, 5], score: 0.9 },
      { image_id: 1, category_id: 1, bbox: [0, 0, 5], score: 0.9 },
    ];
    writeFileSync(path.join(ws, 'mixed.json'), JSON.stringify([...dt, ...extra]));
    const e = JSON.parse(ok('evaluate', 'det@v1', '--dataset', 'shapes', '--predictions', 'mixed.json', '--json'));
    assert.deepStrictEqual(e.details.predictions.ignored, { unknownImage: 1, unknownCategory: 1, malformed: 2 });
    assert.strictEqual(e.details.predictions.count, dt.length);
  });

  it('refuses a classification dataset with words that say what is needed', () => {
    mkdirSync(path.join(ws, 'tab'), { recursive: true });
    writeFileSync(path.join(ws, 'tab', 't.csv'), 'x,label\n1,a\n2,b\n');
    ok('dataset', 'add', 'tab/t.csv', '--name', 'tab');
    const r = modelreg('evaluate', 'det@v1', '--dataset', 'tab', '--predictions', 'shapes/dt_dataset.json');
    assert.strictEqual(r.status, 2, r.stderr);
    assert.match(r.stderr, /dataset tab is a table dataset with class labels, not boxes/);
  });
});

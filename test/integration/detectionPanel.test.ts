// The detection review panel inside the real extension host: a COCO dataset (test/fixtures/coco-shapes,
// three real JPEGs) and predictions summarised by summarizeDetections, recorded as an evaluation;
// Open Evaluation opens the detection panel, its page asks for the counts and the images, and the
// host answers, making the grid's thumbnails on the image pool's workers into the registry's cache.
import * as assert from 'assert';
import { cpSync, existsSync } from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { importTrainingOutput, registerDataset } from '../../src/core';
import { summarizeDetections } from '../../src/core/evaluate/detection/summary';
import type { DetectionImage, PredictedBox } from '../../src/core/evaluate/detection/types';
import { api, eventually } from './helpers';

const fixture = path.resolve(__dirname, '../../../test/fixtures/coco-shapes');

describe('Detection review panel', () => {
  it('Open Evaluation on a detection evaluation opens the detection panel, which answers its page and caches thumbnails', async () => {
    const a = await api();
    const registry = await a.service.get();
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    await importTrainingOutput(registry, path.join(root, 'outputs', 'colour-net'), { model: 'det-review' });
    const shapes = path.join(root, 'datasets', 'coco-shapes');
    cpSync(fixture, shapes, { recursive: true });
    const dataset = await registerDataset(registry, path.join(shapes, 'gt_dataset.json'), {
      name: 'det-shapes',
      images: shapes,
    });
    // Predictions: every ground-truth box found (shifted a pixel), plus an invented one an image,
    // summarised and stored as recording an evaluation does (record.ts is not on main yet).
    const manifest = await registry.readManifest(dataset);
    const images: DetectionImage[] = manifest.samples.map((s) => ({
      imageId: s.image!.id,
      sampleId: s.id,
      width: s.image!.width,
      height: s.image!.height,
      truths: s.boxes ?? [],
    }));
    const predictions = new Map<number, PredictedBox[]>(
      images.map((im) => [
        im.imageId,
        [
          ...im.truths.map((t, i) => ({
            id: i,
            label: t.label,
            bbox: [t.bbox[0] + 1, t.bbox[1], t.bbox[2], t.bbox[3]] as PredictedBox['bbox'],
            score: 0.5 + (i % 5) / 10,
          })),
          { id: im.truths.length, label: 0, bbox: [0, 0, 9, 9], score: 0.7 },
        ],
      ]),
    );
    const summary = summarizeDetections(dataset.classes, images, predictions);
    const version = await registry.resolve('det-review@v1');
    const id = await registry.beginEvaluation({
      versionId: version.id,
      datasetId: dataset.id,
      split: null,
      evaluator: 'predictions',
      git: null,
    });
    await registry.addEvaluationImages(
      id,
      summary.images.map((image, idx) => ({ idx, image })),
    );
    await registry.completeEvaluation(id, {
      metrics: summary.metrics,
      perClass: summary.perClass as never,
      confusion: summary.confusion,
      sampleCount: images.length,
      errorCount: 0,
      details: { task: 'detection', confidence: summary.confidence, iou: summary.iou, prCurves: summary.prCurves },
    });

    const panel = await vscode.commands.executeCommand<{
      panel: vscode.WebviewPanel;
      lastPosted?: { type: string; payload: unknown };
    }>('modelRegistry.openEvaluation', id);
    assert.strictEqual(panel?.panel.viewType, 'modelRegistry.detection');
    // Thumbnails are made only for images the page asked for and the host sent: their cache files prove the round trip.
    const shas = manifest.samples.map((s) => manifest.files.find((f) => f.path === s.file)?.sha256);
    assert.strictEqual(shas.length, 3);
    assert.ok(shas.every(Boolean), `every image has its hash in the manifest: ${JSON.stringify(manifest.files)}`);
    const cache = path.join(registry.dir, 'cache', 'thumbnails');
    await eventually(
      () => {
        for (const sha of shas)
          assert.ok(existsSync(path.join(cache, sha!.slice(0, 2), `${sha}-256.jpg`)), `thumbnail of ${sha}`);
      },
      { timeout: 20_000 },
    );
    assert.ok(['stats', 'images', 'thumbs'].includes(panel.lastPosted?.type ?? ''), panel.lastPosted?.type);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});

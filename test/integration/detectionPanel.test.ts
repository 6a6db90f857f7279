// The detection review panel inside the real extension host: a detection evaluation recorded with
// its per-image box outcomes (on the sample's colours images, as the detection readers are not yet
// on this branch) opens in the detection panel from Open Evaluation; its page asks for the counts
// and the images, and the host answers, making the grid's thumbnails on the image pool's workers
// into the registry's cache.
import * as assert from 'assert';
import { existsSync } from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { importTrainingOutput, registerDataset } from '../../src/core';
import type { ImageOutcomes } from '../../src/core/evaluate/detection/types';
import { api, eventually } from './helpers';

describe('Detection review panel', () => {
  it('Open Evaluation on a detection evaluation opens the detection panel, which answers its page and caches thumbnails', async () => {
    const a = await api();
    const registry = await a.service.get();
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    await importTrainingOutput(registry, path.join(root, 'outputs', 'colour-net'), { model: 'det-review' });
    const dataset = await registerDataset(registry, path.join(root, 'datasets', 'colours'), { name: 'det-colours' });
    const manifest = await registry.readManifest(dataset);
    const samples = manifest.samples.filter((s) => s.split === 'test');
    const version = await registry.resolve('det-review@v1');
    const id = await registry.beginEvaluation({
      versionId: version.id,
      datasetId: dataset.id,
      split: 'test',
      evaluator: 'predictions',
      git: null,
    });
    // One found box and one invented box an image.
    const images: ImageOutcomes[] = samples.map((s, i) => ({
      imageId: i + 1,
      sampleId: s.id,
      truths: [
        {
          id: 1,
          label: s.label,
          bbox: [1, 1, 8, 8],
          area: 64,
          outcome: 'matched',
          predictionId: 0,
          iou: 1,
          score: 0.9,
        },
      ],
      predictions: [
        { id: 0, label: s.label, bbox: [1, 1, 8, 8], score: 0.9, outcome: 'tp', truthId: 1, iou: 1 },
        { id: 1, label: 0, bbox: [20, 20, 4, 4], score: 0.6, outcome: 'fp', reason: 'background' },
      ],
    }));
    await registry.addEvaluationImages(
      id,
      images.map((image, idx) => ({ idx, image })),
    );
    await registry.completeEvaluation(id, {
      metrics: { AP: 0.5, AP50: 0.7 },
      perClass: [],
      confusion: [],
      sampleCount: images.length,
      errorCount: 0,
      details: { task: 'detection', confidence: 0.25, iou: 0.5, prCurves: [], notes: ['COCO vs VOC'] },
    });

    const panel = await vscode.commands.executeCommand<{
      panel: vscode.WebviewPanel;
      lastPosted?: { type: string; payload: unknown };
    }>('modelRegistry.openEvaluation', id);
    assert.strictEqual(panel?.panel.viewType, 'modelRegistry.detection');
    // Thumbnails are made only for images the page asked for and the host sent: their cache files prove the round trip.
    const cache = path.join(registry.dir, 'cache', 'thumbnails');
    const shas = samples.map((s) => manifest.files.find((f) => f.path === s.file)?.sha256);
    assert.ok(shas.every(Boolean), 'every image has its hash in the manifest');
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

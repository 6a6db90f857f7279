import * as assert from 'assert';
import { batchSummary } from '../../../../src/extension/importing/batchSummary';

describe('batchSummary: one line for a multi-select import', () => {
  it('groups the versions by model, consecutive numbers joined', () => {
    assert.strictEqual(
      batchSummary([
        { name: 'outputs/lr01', imported: { model: 'resnet', number: 2 } },
        { name: 'outputs/lr02', imported: { model: 'resnet', number: 3 } },
        { name: 'outputs/bert', imported: { model: 'bert', number: 1 } },
        { name: 'outputs/lr03', imported: { model: 'resnet', number: 4 } },
        { name: 'outputs/lr09', imported: { model: 'resnet', number: 7 } },
      ]),
      'Imported 5 runs: resnet@v2…v4, v7, bert@v1.',
    );
  });

  it('names what failed and what was skipped, with why, and what a cancel left out', () => {
    assert.strictEqual(
      batchSummary(
        [
          { name: 'outputs/run1', imported: { model: 'run1', number: 1 } },
          { name: 'outputs/broken', failed: 'Truncated: tensor w ends at byte 16456 (model.safetensors)' },
          { name: 'outputs/again', skipped: 'same files as run1@v1' },
          { name: 'outputs/pngs', skipped: 'no model weights' },
        ],
        2,
      ),
      'Imported 1 run: run1@v1; 1 failed: outputs/broken (Truncated: tensor w ends at byte 16456 (model.safetensors)); ' +
        '2 skipped: outputs/again (same files as run1@v1), outputs/pngs (no model weights); cancelled: 2 folders not imported.',
    );
    assert.strictEqual(
      batchSummary([{ name: 'outputs/broken', failed: 'Truncated' }]),
      'Imported nothing; 1 failed: outputs/broken (Truncated).',
    );
  });

  it('says which runs had checkpoint folders left out, since a batch asks nothing', () => {
    assert.strictEqual(
      batchSummary([
        { name: 'outputs/hf-a', imported: { model: 'bert', number: 2 }, checkpointsLeftOut: 3 },
        { name: 'outputs/hf-b', imported: { model: 'bert', number: 3 }, checkpointsLeftOut: 0 },
      ]),
      'Imported 2 runs: bert@v2…v3; final weights only, checkpoint folders left out of outputs/hf-a (3): import one alone to choose.',
    );
  });
});

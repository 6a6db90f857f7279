// What the status bar confirms after Edit Tags, Edit Description and Archive.
import * as assert from 'assert';
import {
  archived,
  descriptionSaved,
  exportButton,
  tagsSaved,
  unarchived,
} from '../../../../src/extension/lifecycle/feedback';

describe('status bar confirmations', () => {
  it('says what was saved, and when archived versions were turned on to keep the row in view', () => {
    assert.strictEqual(tagsSaved('resnet@v2', ['baseline', 'fp16']), 'Tags of resnet@v2: #baseline #fp16');
    assert.strictEqual(tagsSaved('resnet', []), 'Tags of resnet cleared');
    assert.strictEqual(descriptionSaved('resnet@v2', 'pruned'), 'Description of resnet@v2 saved');
    assert.strictEqual(descriptionSaved('resnet@v2', '  '), 'Description of resnet@v2 cleared');
    assert.strictEqual(archived('resnet@v1', false), 'Archived resnet@v1');
    assert.strictEqual(
      archived('resnet@v1', true),
      'Archived resnet@v1. Archived versions are now shown (Hide Archived Versions hides them)',
    );
    assert.strictEqual(unarchived('resnet@v1'), 'Unarchived resnet@v1');
  });

  it("Export offers what the host can do: the OS's file manager, else the Explorer view for a workspace file, else Copy Path", () => {
    assert.strictEqual(exportButton(true, false), 'Reveal in File Explorer');
    assert.strictEqual(exportButton(false, true), 'Reveal in Explorer View');
    assert.strictEqual(exportButton(false, false), 'Copy Path');
  });
});

import * as assert from 'assert';
import { diffParams } from '../../../../src/core/compare/params';
import { formatLabel, paramLabel, weightsLabel } from '../../../../src/shared/compare/labels';

describe('compare summary labels', () => {
  it('names the format once when the framework repeats it', () => {
    assert.strictEqual(formatLabel('onnx', 'onnx'), 'onnx');
    assert.strictEqual(formatLabel('ONNX', 'onnx'), 'ONNX');
    assert.strictEqual(formatLabel('safetensors', 'pytorch'), 'safetensors · pytorch');
    assert.strictEqual(formatLabel(null, 'pytorch'), 'pytorch');
    assert.strictEqual(formatLabel(null, null), '—');
  });

  it('words the weight count as values, not parameters', () => {
    assert.strictEqual(weightsLabel(170), '170 values');
    assert.strictEqual(weightsLabel(1), '1 value');
    assert.strictEqual(weightsLabel(25_557_032), '25.6M values');
    assert.strictEqual(weightsLabel(null), '—');
  });

  it('shows a parameter by its key, the file on hover, and the file beside it only when keys clash', () => {
    const rows = diffParams([
      { 'lightning_logs/version_0/hparams.yaml': { lr: 0.1, optim: { momentum: 0.9 } }, 'config.json': { lr: 0.2 } },
    ]);
    const byKey = (k: string) =>
      paramLabel(
        rows.find((r) => r.key === k)!,
        rows,
      );
    assert.deepStrictEqual(byKey('lightning_logs/version_0/hparams.yaml › optim.momentum'), {
      text: 'optim.momentum',
      file: null,
      title: 'optim.momentum in lightning_logs/version_0/hparams.yaml',
    });
    assert.deepStrictEqual(byKey('lightning_logs/version_0/hparams.yaml › lr'), {
      text: 'lr',
      file: 'hparams.yaml',
      title: 'lr in lightning_logs/version_0/hparams.yaml',
    });
    assert.deepStrictEqual(byKey('config.json › lr'), { text: 'lr', file: 'config.json', title: 'lr in config.json' });
  });
});

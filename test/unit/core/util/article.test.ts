// "a" or "an" by the sound of the word (messages name formats: "is an ONNX model").
import * as assert from 'assert';
import { article, withArticle } from '../../../../src/core/util/article';

describe('article', () => {
  it('initialisms go by the name of their first letter', () => {
    for (const w of ['ONNX', 'MXNet', 'XGBoost', 'HDF5', 'SVG', 'FP16', 'NPZ']) assert.strictEqual(article(w), 'an', w);
    for (const w of ['GGUF', 'TFLite', 'PT', 'CSV', 'JSONL', 'USB']) assert.strictEqual(article(w), 'a', w);
  });

  it('words go by their first sound', () => {
    for (const w of ['onnx', 'image', 'archive', 'hour', 'evaluation', 'objects/'])
      assert.strictEqual(article(w), 'an', w);
    for (const w of ['PyTorch', 'TensorFlow', 'MindSpore', 'Scikit_Learn', 'safetensors', 'unit', 'user', 'one-off'])
      assert.strictEqual(article(w), 'a', w);
  });

  it('withArticle puts it in front', () => {
    assert.strictEqual(withArticle('ONNX'), 'an ONNX');
    assert.strictEqual(withArticle('PyTorch or TensorFlow'), 'a PyTorch or TensorFlow');
  });
});

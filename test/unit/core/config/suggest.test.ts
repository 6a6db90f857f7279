import * as assert from 'assert';
import { rankTemplates, readFolderFiles } from '../../../../src/core/config';
import { builtinLanguage, modelDir } from './helpers';

/** The built-in template ids ranked for a real folder holding these files, best first. */
async function ranked(files: Record<string, string>): Promise<string[]> {
  const { templates } = (await builtinLanguage()).catalog;
  return rankTemplates(templates, await readFolderFiles(modelDir(files))).map((f) => f.template.id);
}

describe('config.json templates: which fits a folder', () => {
  it('an .onnx with labels.txt is an image classifier', async () => {
    const dir = modelDir({ 'model.onnx': 'x', 'labels.txt': 'cat\ndog\n' });
    const { templates } = (await builtinLanguage()).catalog;
    const [best, next] = rankTemplates(templates, await readFolderFiles(dir));
    assert.strictEqual(best.template.id, 'image-classification');
    assert.ok(best.score > next.score, `a clear first: ${best.score} over ${next.template.id}'s ${next.score}`);
    assert.deepStrictEqual(best.because.sort(), ['labels.txt', 'model.onnx']);
  });

  it('a detector by its name (ssd, yolo…) is object detection', async () => {
    assert.strictEqual((await ranked({ 'ssdlite320.onnx': 'x', 'labels.txt': 'cat\n' }))[0], 'object-detection');
    assert.strictEqual((await ranked({ 'yolov8n.pt': 'x' }))[0], 'object-detection');
  });

  it("a Hugging Face folder goes by its config.json's architectures", async () => {
    const hf = (architecture: string) => ({
      'config.json': JSON.stringify({ architectures: [architecture], model_type: 'x' }),
      'model.safetensors': 'x',
      'tokenizer.json': '{}',
    });
    assert.strictEqual((await ranked(hf('BertForSequenceClassification')))[0], 'text-classification');
    assert.strictEqual((await ranked(hf('LlamaForCausalLM')))[0], 'llm-text-generation');
    assert.strictEqual((await ranked(hf('ViTForImageClassification')))[0], 'image-classification');
  });

  it('a GGUF file or generation_config.json is text generation; vocab.txt is text classification', async () => {
    assert.strictEqual((await ranked({ 'model.gguf': 'x' }))[0], 'llm-text-generation');
    assert.strictEqual(
      (await ranked({ 'model.safetensors': 'x', 'generation_config.json': '{}', 'tokenizer.json': '{}' }))[0],
      'llm-text-generation',
    );
    assert.strictEqual(
      (await ranked({ 'model.onnx': 'x', 'vocab.txt': 'a\n', 'labels.txt': 'pos\nneg\n' }))[0],
      'text-classification',
    );
  });

  it('a Dockerfile is a custom image; a ModelArts config.json names its task', async () => {
    assert.strictEqual((await ranked({ Dockerfile: 'FROM x', 'model.onnx': 'x' }))[0], 'custom-image');
    assert.strictEqual(
      (await ranked({ 'config.json': '{"model_algorithm": "object_detection"}', 'model.onnx': 'x' }))[0],
      'object-detection',
    );
  });

  it('templates whose required weights are missing come last; all templates stay offered', async () => {
    const ids = await ranked({ 'notes.md': 'hello' });
    assert.strictEqual(ids[0], 'custom-image', 'the one template that needs no weights');
    assert.strictEqual(ids.length, (await builtinLanguage()).catalog.templates.length);
  });

  it('an unreadable config.json and a missing folder tell nothing, and do not throw', async () => {
    assert.strictEqual(
      (await ranked({ 'config.json': '{not json', 'model.onnx': 'x', 'labels.txt': 'a' }))[0],
      'image-classification',
    );
    assert.deepStrictEqual(await readFolderFiles('/nonexistent/folder'), { names: [], architectures: [] });
  });
});

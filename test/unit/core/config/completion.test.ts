import * as assert from 'assert';
import { CompletionItem, MarkupContent } from 'vscode-json-languageservice';
import { configFromTemplate } from '../../../../src/core/config';
import { builtinLanguage, doc, modelDir } from './helpers';

/** Completion at the `|` in `text`. */
async function completeAt(textWithCursor: string): Promise<CompletionItem[]> {
  const offset = textWithCursor.indexOf('|');
  const document = doc(textWithCursor.replace('|', ''));
  const language = await builtinLanguage();
  const json = language.parse(document);
  const list = await language.resolve(json).service.doComplete(document, document.positionAt(offset), json);
  return list?.items ?? [];
}

async function hoverAt(textWithCursor: string): Promise<string> {
  const offset = textWithCursor.indexOf('|');
  const document = doc(textWithCursor.replace('|', ''));
  const language = await builtinLanguage();
  const json = language.parse(document);
  const hover = await language.resolve(json).service.doHover(document, document.positionAt(offset), json);
  const contents = hover?.contents;
  return Array.isArray(contents)
    ? contents.map(String).join('\n')
    : typeof contents === 'string'
      ? contents
      : ((contents as MarkupContent | undefined)?.value ?? '');
}

const labels = (items: CompletionItem[]) => items.map((i) => i.label);

describe('config.json completion and hover', () => {
  it('proposes the top-level properties of the template', async () => {
    const items = await completeAt('{\n  "$template": "image-classification",\n  |\n}');
    for (const key of ['model_type', 'model_algorithm', 'runtime', 'metrics', 'apis', 'dependencies', 'registry'])
      assert.ok(labels(items).includes(key), `${key} in ${labels(items)}`);
    assert.ok(!labels(items).includes('$template'), 'present keys are not proposed again');
  });

  it("inserts the template's default when completing a property", async () => {
    const language = await builtinLanguage();
    const runtime = language.template('llm-text-generation')!.defaults.runtime as string;
    const items = await completeAt('{\n  "$template": "llm-text-generation",\n  |\n}');
    const item = items.find((i) => i.label === 'runtime')!;
    assert.ok(
      item.insertText?.includes(runtime),
      `runtime inserts ${item.insertText}, expected the default ${runtime}`,
    );
  });

  it('proposes the enum values of model_type', async () => {
    const items = await completeAt('{\n  "$template": "image-classification",\n  "model_type": |\n}');
    for (const v of ['"ONNX"', '"PyTorch"', '"TensorFlow"', '"MindSpore"'])
      assert.ok(labels(items).includes(v), `${v} in ${labels(items)}`);
  });

  it('in a generated config, proposes every key not yet there, at the top and inside an API schema', async () => {
    const language = await builtinLanguage();
    const text = await configFromTemplate(language.template('image-classification')!, {
      dir: modelDir(),
      files: ['model.onnx'],
      name: 'm',
    });
    // The top level lists the template's keys not yet written (keys are unique in JSON).
    const top = await completeAt(text.replace('{\n', '{\n  |\n'));
    assert.deepStrictEqual(labels(top).sort(), [
      'health',
      'metrics',
      'model_source',
      'postprocessing',
      'preprocessing',
      'swr_location',
    ]);
    // apis[].request.data is a JSON Schema: its keywords complete (nothing was offered there before).
    const inData = await completeAt(text.replace('"data": {', '"data": { |'));
    for (const key of ['additionalProperties', 'items', 'enum', 'format', 'description'])
      assert.ok(labels(inData).includes(key), `${key} in ${labels(inData)}`);
    for (const key of ['type', 'required', 'properties'])
      assert.ok(!labels(inData).includes(key), `${key}, already there, is not proposed again`);
    const inProperty = await completeAt(text.replace('"images": {', '"images": { |'));
    assert.ok(labels(inProperty).includes('minLength'), `a property's schema keywords: ${labels(inProperty)}`);
  });

  it('model_type: the framework of the weights beside config.json comes first, preselected', async () => {
    const language = await builtinLanguage();
    const at = async (text: string, files: Record<string, string>) => {
      const offset = text.indexOf('|');
      const document = doc(text.replace('|', ''));
      const list = await language.complete(document, document.positionAt(offset), { dir: modelDir(files) });
      const sorted = [...list.items].sort((a, b) => (a.sortText ?? a.label).localeCompare(b.sortText ?? b.label));
      return { first: sorted[0], preselected: list.items.filter((i) => i.preselect).map((i) => i.label) };
    };
    // The template's default is PyTorch; the folder holds an ONNX file.
    const onnx = await at('{\n  "$template": "image-classification",\n  "model_type": |\n}', { 'model.onnx': 'x' });
    assert.strictEqual(onnx.first.label, '"ONNX"');
    assert.deepStrictEqual(onnx.preselected, ['"ONNX"']);
    // A value already typed, and registry.files naming the weights (over other files in the folder).
    const declared = await at('{\n  "model_type": "|ONNX",\n  "registry": { "files": ["model.pt"] }\n}', {
      'model.pt': 'x',
      'other.onnx': 'x',
    });
    assert.deepStrictEqual(declared.preselected, ['"PyTorch"']);
    // No weights, or another key's value: nothing is preselected.
    assert.deepStrictEqual((await at('{\n  "model_type": |\n}', { 'notes.md': 'x' })).preselected, []);
    assert.deepStrictEqual(
      (await at('{\n  "model_type": "ONNX",\n  "runtime": |\n}', { 'model.onnx': 'x' })).preselected,
      [],
    );
  });

  it('proposes the HTTP methods inside an API', async () => {
    const items = await completeAt('{\n  "$template": "text-classification",\n  "apis": [{ "method": | }]\n}');
    assert.deepStrictEqual(
      labels(items)
        .filter((l) => /^"(post|get|put|delete)"$/.test(l))
        .sort(),
      ['"delete"', '"get"', '"post"', '"put"'],
    );
  });

  it('proposes the package fields of a dependency', async () => {
    const items = await completeAt(
      '{\n  "$template": "text-classification",\n  "dependencies": [{ "installer": "pip", "packages": [{ | }] }]\n}',
    );
    assert.deepStrictEqual(labels(items).sort(), ['package_name', 'package_version', 'restraint']);
  });

  it('follows a user-visible $template: custom-image proposes swr_location and health', async () => {
    const items = await completeAt('{\n  "$template": "custom-image",\n  |\n}');
    assert.ok(labels(items).includes('swr_location') && labels(items).includes('health'));
  });

  it('hover shows the description from the schema', async () => {
    const text = await hoverAt('{\n  "$template": "image-classification",\n  "model_ty|pe": "ONNX"\n}');
    assert.match(text, /\w+ \w+/, 'a sentence of documentation');
    const base = (await builtinLanguage()).catalog.baseSchema as {
      properties: Record<string, { description: string }>;
    };
    assert.ok(text.includes(base.properties.model_type.description.slice(0, 30)), text);
  });

  it('document symbols list the top-level keys', async () => {
    const language = await builtinLanguage();
    const document = doc(
      '{\n  "$template": "image-classification",\n  "model_type": "ONNX",\n  "metrics": { "accuracy": 0.9 }\n}',
    );
    const json = language.parse(document);
    const symbols = language.resolve(json).service.findDocumentSymbols2(document, json);
    assert.deepStrictEqual(
      symbols.map((s) => s.name),
      ['$template', 'model_type', 'metrics'],
    );
    assert.deepStrictEqual(
      symbols[2].children?.map((s) => s.name),
      ['accuracy'],
    );
  });

  it('formatting indents as asked', async () => {
    const language = await builtinLanguage();
    const document = doc('{"$template":"image-classification","model_type":"ONNX"}');
    const json = language.parse(document);
    const edits = language.resolve(json).service.format(document, undefined, { tabSize: 2, insertSpaces: true });
    const { TextDocument } = await import('vscode-languageserver-textdocument');
    assert.strictEqual(
      TextDocument.applyEdits(document, edits),
      '{\n  "$template": "image-classification",\n  "model_type": "ONNX"\n}',
    );
  });
});

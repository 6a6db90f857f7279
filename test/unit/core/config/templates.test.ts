import * as assert from 'assert';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { builtinSchemasDir, configFromTemplate, ConfigLanguage, loadTemplateCatalog } from '../../../../src/core';
import { tempDir } from '../../helpers/tmp';
import { builtinLanguage, check, doc, modelDir } from './helpers';

const BUILTIN = [
  'custom-image',
  'image-classification',
  'llm-text-generation',
  'object-detection',
  'text-classification',
];

function writeTemplate(root: string, folder: string, files: Record<string, string>) {
  mkdirSync(path.join(root, folder), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root, folder, name), text);
}

describe('config.json templates', () => {
  it('loads the built-in templates with their schema and defaults', async () => {
    const catalog = await loadTemplateCatalog();
    assert.deepStrictEqual(catalog.templates.map((t) => t.id).sort(), BUILTIN);
    assert.deepStrictEqual(catalog.problems, []);
    for (const t of catalog.templates) {
      assert.ok(t.builtin && t.title && t.description, t.id);
      assert.ok(typeof t.defaults.model_type === 'string', `${t.id} has a default model_type`);
      assert.ok(t.schemaUri.startsWith('modelreg://templates/'), `${t.id} refines the base schema`);
    }
  });

  it('loads user templates beside the built-in ones; a broken one is reported and the others still load', async () => {
    const user = tempDir();
    writeTemplate(user, 'tabular', {
      'template.json': JSON.stringify({
        id: 'tabular',
        title: 'Tabular regression',
        files: [{ pattern: '*.pkl', required: true }],
        defaults: { model_type: 'Scikit_Learn' },
      }),
      'schema.json': JSON.stringify({
        allOf: [{ $ref: 'modelreg://schemas/config.schema.json' }],
        properties: { model_type: { enum: ['Scikit_Learn', 'XGBoost'] } },
      }),
    });
    writeTemplate(user, 'broken-json', { 'template.json': '{ "id": "broken-json", "title": ' });
    writeTemplate(user, 'bad-schema', {
      'template.json': JSON.stringify({ id: 'bad-schema', title: 'Bad' }),
      'schema.json': JSON.stringify({ type: 'objekt' }),
    });
    writeTemplate(user, 'no-title', { 'template.json': JSON.stringify({ id: 'no-title' }) });
    writeTemplate(user, 'empty', {});

    const catalog = await loadTemplateCatalog({ userDirs: [user] });
    assert.deepStrictEqual(catalog.templates.map((t) => t.id).sort(), [...BUILTIN, 'tabular'].sort());
    const problems = catalog.problems.map((p) => p.message).sort();
    assert.strictEqual(problems.length, 4, problems.join('\n'));
    assert.match(
      problems.find((p) => p.includes('bad-schema'))!,
      /bad-schema\/schema.json: not a valid JSON Schema: .*type/,
    );
    assert.match(
      problems.find((p) => p.includes('broken-json'))!,
      /broken-json\/template.json: not valid JSON/,
    );
    assert.match(
      problems.find((p) => p.includes('no-title'))!,
      /no-title\/template.json: "title" must be a non-empty string/,
    );
    assert.match(
      problems.find((p) => p.includes('empty'))!,
      /empty\/template.json: missing/,
    );

    // The user template's schema applies: XGBoost is fine, PyTorch is not.
    const language = new ConfigLanguage(catalog);
    const ok = await language.validate(doc(JSON.stringify({ $template: 'tabular', model_type: 'XGBoost' })));
    assert.deepStrictEqual(ok, []);
    const bad = await language.validate(doc(JSON.stringify({ $template: 'tabular', model_type: 'PyTorch' })));
    assert.ok(
      bad.some((d) => /not accepted/.test(String(d.message))),
      bad.map((d) => String(d.message)).join('\n'),
    );
  });

  it('a user template with a built-in id replaces it', async () => {
    const user = tempDir();
    writeTemplate(user, 'image-classification', {
      'template.json': JSON.stringify({
        id: 'image-classification',
        title: 'Our image classifier',
        defaults: { model_type: 'ONNX' },
      }),
    });
    const catalog = await loadTemplateCatalog({ userDirs: [user] });
    const t = catalog.templates.find((x) => x.id === 'image-classification')!;
    assert.strictEqual(t.title, 'Our image classifier');
    assert.strictEqual(t.builtin, false);
    assert.strictEqual(catalog.templates.length, BUILTIN.length);
  });

  it('the schemas folder is found from the compiled code and the templates folder copies cleanly', async () => {
    const copy = tempDir();
    cpSync(builtinSchemasDir(), copy, { recursive: true });
    const catalog = await loadTemplateCatalog({ schemasDir: copy });
    assert.strictEqual(catalog.templates.length, BUILTIN.length);
    assert.ok(JSON.parse(readFileSync(path.join(copy, 'config.schema.json'), 'utf8')).properties.model_type);
  });
});

describe('config.json generated from a template', () => {
  it('takes model_type from the weights, lists them, names the model after the folder and passes its checks', async () => {
    const dir = path.join(modelDir({ 'resnet/model.onnx': 'x', 'resnet/labels.txt': 'cat\ndog\n' }), 'resnet');
    const language = await builtinLanguage();
    const text = await configFromTemplate(language.template('image-classification')!, { dir });
    const config = JSON.parse(text);
    assert.strictEqual(Object.keys(config)[0], '$template');
    assert.strictEqual(config.$template, 'image-classification');
    assert.strictEqual(config.model_type, 'ONNX');
    assert.deepStrictEqual(config.registry.files, ['model.onnx']);
    assert.strictEqual(config.registry.name, 'resnet');
    assert.deepStrictEqual(
      (await check(text, { dir })).diagnostics.map((d) => String(d.message)),
      [],
    );
  });

  it('uses the files the user picked', async () => {
    const dir = modelDir({ 'a.pt': 'x', 'b.pt': 'x' });
    const language = await builtinLanguage();
    const config = JSON.parse(
      await configFromTemplate(language.template('text-classification')!, { dir, files: ['b.pt'], name: 'sentiment' }),
    );
    assert.deepStrictEqual(config.registry.files, ['b.pt']);
    assert.strictEqual(config.registry.name, 'sentiment');
    assert.strictEqual(config.model_type, 'PyTorch');
  });
});

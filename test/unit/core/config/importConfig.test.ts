import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { importWithConfig, InputError, Registry } from '../../../../src/core';
import { makeGitRepo, tempDir } from '../../helpers/tmp';
import { builtinLanguage, modelDir } from './helpers';
import { CLI_JS, repoPath } from '../../helpers/paths';

const SQUEEZENET = repoPath('test/fixtures/onnx-model-zoo/light_squeezenet.onnx');
const cli = CLI_JS;

function modelreg(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A model folder holding a real ONNX model-zoo graph. */
function onnxModelFolder(): string {
  const dir = modelDir({ 'labels.txt': 'cat\ndog\n' });
  copyFileSync(SQUEEZENET, path.join(dir, 'squeezenet.onnx'));
  return dir;
}

describe('importing with a config.json', () => {
  let r: Registry;
  beforeEach(async () => {
    r = await Registry.open(path.join(tempDir(), '.modelreg'));
  });
  afterEach(() => r.close());

  it('generates config.json from the template, checks it and stores it with the version', async () => {
    const dir = onnxModelFolder();
    const language = await builtinLanguage();
    const v = await importWithConfig(r, language, dir, { templateId: 'image-classification' });
    const written = readFileSync(path.join(dir, 'config.json'), 'utf8');
    assert.strictEqual(v.config?.templateId, 'image-classification');
    assert.strictEqual(v.config?.text, written);
    assert.strictEqual(v.model, path.basename(dir));
    assert.strictEqual(v.format, 'onnx');
    assert.ok((await r.files(v.id)).some((f) => f.path === 'config.json'));
    // Read back through a fresh query, not the returned record.
    assert.strictEqual((await r.resolve(v.ref)).config?.text, written);
  });

  it("takes the model name, description and tags from the config's registry block", async () => {
    const dir = onnxModelFolder();
    const language = await builtinLanguage();
    const config = {
      $template: 'image-classification',
      ...language.template('image-classification')!.defaults,
      model_type: 'ONNX',
      registry: {
        name: 'squeeze',
        description: 'SqueezeNet 1.1',
        tags: ['vision', 'edge'],
        files: ['squeezenet.onnx'],
      },
    };
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
    const v = await importWithConfig(r, language, dir);
    assert.strictEqual(v.ref, 'squeeze@v1');
    assert.strictEqual(v.description, 'SqueezeNet 1.1');
    assert.deepStrictEqual(v.tags, ['edge', 'vision']);
  });

  it('refuses an invalid config with every error listed, and stores nothing', async () => {
    const dir = onnxModelFolder();
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ $template: 'image-classification', model_type: 'PyTorch', metrics: { accuracy: 91 } }, null, 2),
    );
    const language = await builtinLanguage();
    await assert.rejects(importWithConfig(r, language, dir), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /config.json: \d+ errors, not imported/);
      assert.match(
        e.message,
        /config.json:3:\d+: error: model_type is "PyTorch", but the model file squeezenet.onnx is an ONNX model/,
      );
      assert.match(e.message, /config.json:5:\d+: error: metrics.accuracy is 91/);
      return true;
    });
    assert.deepStrictEqual(await r.listModels(), []);
  });

  it('an unknown template is named with the known ones', async () => {
    const language = await builtinLanguage();
    await assert.rejects(
      importWithConfig(r, language, onnxModelFolder(), { templateId: 'nope' }),
      /nope: unknown template; known templates: .*image-classification/,
    );
  });
});

describe('modelreg with templates', () => {
  it('import --template generates, checks and imports; the version shows its template', () => {
    const ws = tempDir();
    makeGitRepo(ws);
    const dir = onnxModelFolder();
    const r = modelreg(ws, 'import', dir, '--template', 'image-classification', '--json');
    assert.strictEqual(r.code, 0, r.err);
    const v = JSON.parse(r.out);
    assert.strictEqual(v.config.templateId, 'image-classification');
    assert.ok(existsSync(path.join(dir, 'config.json')));
  });

  it('import refuses an invalid config.json, listing the diagnostics; validate exits 1 with the same lines', () => {
    const ws = tempDir();
    const dir = onnxModelFolder();
    writeFileSync(
      path.join(dir, 'config.json'),
      '{\n  "$template": "image-classification",\n  "model_type": "ONNX",\n  "metrics": { "f1": 12 }\n}\n',
    );
    const r = modelreg(ws, 'import', dir);
    assert.strictEqual(r.code, 2, r.out);
    assert.match(r.err, /config.json:4:\d+: error: metrics.f1 is 12/);
    assert.match(modelreg(ws, 'list').out, /No models/);

    const v = modelreg(ws, 'validate', path.join(dir, 'config.json'));
    assert.strictEqual(v.code, 1);
    assert.match(v.out, /config.json:4:\d+: error: metrics.f1 is 12/);
    writeFileSync(
      path.join(dir, 'config.json'),
      '{\n  "$template": "image-classification",\n  "model_type": "ONNX"\n}\n',
    );
    const ok = modelreg(ws, 'validate', path.join(dir, 'config.json'));
    assert.strictEqual(ok.code, 0, ok.out);
    assert.match(ok.out, /no errors/);
  });

  it('templates lists the built-in ones and the workspace ones, warning about a broken one', () => {
    const ws = tempDir();
    const user = path.join(ws, '.modelreg', 'templates');
    modelDirAt(path.join(user, 'mine'), {
      'template.json': JSON.stringify({ id: 'mine', title: 'Mine', defaults: { model_type: 'ONNX' } }),
    });
    modelDirAt(path.join(user, 'broken'), { 'template.json': '{' });
    const r = modelreg(ws, 'templates');
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, /^image-classification +Image classification/m);
    assert.match(r.out, /^mine +Mine +\(workspace\)/m);
    assert.match(r.err, /warning: template not loaded: .*broken\/template.json: not valid JSON/);
  });
});

function modelDirAt(dir: string, files: Record<string, string>) {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
}

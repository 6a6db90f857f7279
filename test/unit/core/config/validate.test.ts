import * as assert from 'assert';
import { Diagnostic, DiagnosticSeverity, TextDocument } from 'vscode-json-languageservice';
import { QuickFix } from '../../../../src/core';
import { looksLikeModelConfig } from '../../../../src/core/config';
import { builtinLanguage, check, doc, lineOf, modelDir } from './helpers';

/** A valid config of a built-in template, with `patch` applied on top (undefined deletes a key). */
async function configOf(templateId: string, patch: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const t = (await builtinLanguage()).template(templateId)!;
  const config: Record<string, unknown> = { $template: templateId, ...structuredClone(t.defaults) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete config[k];
    else config[k] = v;
  }
  return config;
}

const WEIGHTS: Record<string, Record<string, string>> = {
  'image-classification': { 'model.onnx': 'x' },
  'object-detection': { 'model.onnx': 'x' },
  'text-classification': { 'model.onnx': 'x' },
  'llm-text-generation': { 'model.onnx': 'x' },
  'custom-image': {},
};

function errors(ds: Diagnostic[]) {
  return ds.filter((d) => d.severity === DiagnosticSeverity.Error);
}

function only(ds: Diagnostic[], pattern: RegExp): Diagnostic {
  const hits = ds.filter((d) => pattern.test(String(d.message)));
  assert.strictEqual(
    hits.length,
    1,
    `expected one diagnostic matching ${pattern}, got:\n${ds.map((d) => String(d.message)).join('\n')}`,
  );
  return hits[0];
}

function fixesOf(d: Diagnostic): QuickFix[] {
  return (d.data as { fixes?: QuickFix[] } | undefined)?.fixes ?? [];
}

function apply(document: TextDocument, fix: QuickFix): string {
  return TextDocument.applyEdits(document, fix.edits);
}

describe('config.json: templates pass their own checks', () => {
  for (const id of Object.keys(WEIGHTS)) {
    it(`${id}: the defaults, with matching files beside them, have no problems`, async () => {
      const config = await configOf(id);
      // model_type must agree with the weights beside it; the defaults may name another framework.
      if (config.model_type !== 'Image') config.model_type = 'ONNX';
      const { diagnostics } = await check(config, { dir: modelDir(WEIGHTS[id]) });
      assert.deepStrictEqual(
        diagnostics.map((d) => String(d.message)),
        [],
      );
    });
  }

  it("the templates' API schemas compile without an unknown-format warning (OpenAPI's binary)", async () => {
    const logged: string[] = [];
    const saved = { warn: console.warn, error: console.error, log: console.log };
    const capture = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
    Object.assign(console, { warn: capture, error: capture, log: capture });
    try {
      for (const id of Object.keys(WEIGHTS)) {
        const config = await configOf(id);
        if (config.model_type !== 'Image') config.model_type = 'ONNX';
        // A $comment of its own, so checks.ts's cache of schema verdicts cannot skip the compile.
        for (const api of (config.apis as { request: { data: object }; response: { data: object } }[]) ?? [])
          for (const body of [api.request, api.response])
            body.data = { $comment: `${id} ${Math.random()}`, ...body.data };
        const { diagnostics } = await check(config, { dir: modelDir(WEIGHTS[id]) });
        assert.deepStrictEqual(
          diagnostics.map((d) => `${id}: ${d.message}`),
          [],
        );
      }
    } finally {
      Object.assign(console, saved);
    }
    // Guard: the test means something only while a template's API schema uses a format.
    assert.match(JSON.stringify((await configOf('image-classification')).apis), /"format":"binary"/);
    assert.deepStrictEqual(logged, []);
  });

  it('a config without $template is checked against the base schema', async () => {
    const { diagnostics } = await check({ model_type: 'ONNX', runtime: 'python3.10' });
    assert.deepStrictEqual(diagnostics, []);
  });

  it('a stored config without $template uses the recorded template', async () => {
    const config = await configOf('custom-image', { $template: undefined, health: undefined });
    const { diagnostics } = await check(config, { templateId: 'custom-image' });
    only(diagnostics, /Missing property "health"/);
  });
});

describe('config.json: schema diagnostics', () => {
  it('missing model_type', async () => {
    const { diagnostics } = await check({ $template: 'image-classification', model_algorithm: 'image_classification' });
    assert.ok(errors(diagnostics).some((d) => /Missing property "model_type"/.test(String(d.message))));
  });

  it('model_type not in the enum, with the range on the value', async () => {
    const { diagnostics, text } = await check(await configOf('image-classification', { model_type: 'Pytorch' }));
    const d = only(diagnostics, /Value is not accepted/);
    assert.strictEqual(d.range.start.line + 1, lineOf(text, '"Pytorch"'));
    assert.strictEqual(d.range.start.character, text.split('\n')[d.range.start.line].indexOf('"Pytorch"'));
  });

  it('a misspelt property is not allowed', async () => {
    const { diagnostics, text } = await check({ modle_type: 'ONNX', model_type: 'ONNX' });
    const d = only(diagnostics, /Property modle_type is not allowed/);
    assert.strictEqual(d.range.start.line + 1, lineOf(text, '"modle_type"'));
  });

  it('api method outside the enum', async () => {
    const config = await configOf('text-classification');
    (config.apis as Record<string, unknown>[])[0].method = 'patch';
    only((await check(config)).diagnostics, /Value is not accepted. Valid values: "post", "get", "put", "delete"/);
  });

  it('api url must start with a slash', async () => {
    const config = await configOf('text-classification');
    (config.apis as Record<string, unknown>[])[0].url = 'predict';
    only((await check(config)).diagnostics, /does not match the pattern/);
  });

  it('api without a response', async () => {
    const config = await configOf('text-classification');
    delete (config.apis as Record<string, unknown>[])[0].response;
    assert.ok((await check(config)).diagnostics.some((d) => /Missing property "response"/.test(String(d.message))));
  });

  it('a restraint needs a package_version', async () => {
    const { diagnostics } = await check({
      model_type: 'ONNX',
      dependencies: [{ installer: 'pip', packages: [{ package_name: 'numpy', restraint: 'EXACT' }] }],
    });
    only(diagnostics, /Missing property "package_version"/);
  });

  it('unknown installer', async () => {
    const { diagnostics } = await check({ model_type: 'ONNX', dependencies: [{ installer: 'npm', packages: [] }] });
    only(diagnostics, /Value is not accepted/);
  });

  it('an Image model needs swr_location', async () => {
    const { diagnostics } = await check({ model_type: 'Image' });
    only(diagnostics, /Missing property "swr_location"/);
  });

  it('health delays cannot be negative', async () => {
    const config = await configOf('custom-image');
    (config.health as Record<string, unknown>).initial_delay_seconds = -1;
    only((await check(config)).diagnostics, /Value is below the minimum of 0/);
  });

  it('registry.name must be a valid model name', async () => {
    const { diagnostics } = await check({ model_type: 'ONNX', registry: { name: 'my model' } });
    only(diagnostics, /does not match the pattern/);
  });

  it('registry.tags must be unique', async () => {
    const { diagnostics } = await check({ model_type: 'ONNX', registry: { tags: ['a', 'a'] } });
    only(diagnostics, /duplicate items/);
  });

  it('metrics must be numbers', async () => {
    const { diagnostics } = await check({ model_type: 'ONNX', metrics: { accuracy: '0.9' } });
    only(diagnostics, /Incorrect type. Expected "number"/);
  });

  it('preprocessing and postprocessing, as the built-in evaluator reads them, are known', async () => {
    const { diagnostics } = await check({
      $template: 'object-detection',
      model_type: 'ONNX',
      model_algorithm: 'object_detection',
      preprocessing: { size: [640, 640], mean: 0, std: 1, letterbox: true },
      postprocessing: {
        kind: 'yolo',
        score_threshold: 0.001,
        iou_threshold: 0.7,
        max_detections: 300,
        multi_label: true,
        box_format: 'cxcywh',
        normalized: false,
        label_offset: 0,
        outputs: { boxes: 'output0' },
      },
    });
    assert.deepStrictEqual(diagnostics, []);
  });

  it('postprocessing: kind from the list, thresholds within 0..1', async () => {
    const kind = await check({ model_type: 'ONNX', postprocessing: { kind: 'ssd' } });
    only(kind.diagnostics, /Value is not accepted. Valid values: "yolo", "boxes-scores-labels"/);
    const threshold = await check({ model_type: 'ONNX', postprocessing: { kind: 'yolo', score_threshold: -0.1 } });
    const d = only(threshold.diagnostics, /Value is below the minimum of 0/);
    assert.strictEqual(d.range.start.line + 1, lineOf(threshold.text, '-0.1'));
    const missing = await check({ model_type: 'ONNX', postprocessing: { score_threshold: 0.1 } });
    only(missing.diagnostics, /Missing property "kind"/);
  });

  it('the image-classification template fixes model_algorithm', async () => {
    const { diagnostics, text } = await check(
      await configOf('image-classification', { model_algorithm: 'object_detection' }),
    );
    const d = only(errors(diagnostics), /Value must be "image_classification"|not accepted/);
    assert.strictEqual(d.range.start.line + 1, lineOf(text, '"object_detection"'));
  });

  it('the custom-image template requires health', async () => {
    const { diagnostics } = await check(await configOf('custom-image', { health: undefined }));
    only(diagnostics, /Missing property "health"/);
  });

  it('syntax errors are reported for the CLI and left to VS Code in the editor', async () => {
    const text = '{\n  "$template": "image-classification",\n  "model_type": "ONNX",\n}';
    const withSyntax = await check(text, { syntax: true });
    only(withSyntax.diagnostics, /Trailing comma/);
    const inEditor = await check(text, { syntax: false });
    assert.ok(!inEditor.diagnostics.some((d) => /Trailing comma/.test(String(d.message))));
  });

  it('comments are not JSON', async () => {
    const { diagnostics } = await check('{\n  // the type\n  "model_type": "ONNX"\n}');
    only(diagnostics, /Comments are not permitted/);
  });

  it('every diagnostic names its source', async () => {
    const { diagnostics } = await check({ model_type: 'Nope', metrics: { f1: 7 } });
    assert.ok(diagnostics.length >= 2);
    assert.ok(diagnostics.every((d) => d.source === 'Model Registry'));
  });
});

describe('config.json: semantic checks and their quick fixes', () => {
  it('an unknown template, with the close one offered', async () => {
    const { diagnostics, document, text } = await check({ $template: 'image-clasification', model_type: 'ONNX' });
    const d = only(diagnostics, /Unknown template "image-clasification"/);
    assert.strictEqual(d.code, 'unknown-template');
    assert.strictEqual(d.range.start.line + 1, lineOf(text, '"image-clasification"'));
    const [fix] = fixesOf(d);
    assert.strictEqual(fix.title, 'Use template "image-classification"');
    assert.match(apply(document, fix), /"\$template": "image-classification"/);
  });

  it('a declared model file that does not exist, with the file that does offered', async () => {
    const dir = modelDir({ 'resnet50.onnx': 'x' });
    const { diagnostics, document } = await check({ model_type: 'ONNX', registry: { files: ['model.onnx'] } }, { dir });
    const d = only(diagnostics, /"model.onnx" does not exist beside config.json/);
    assert.strictEqual(d.code, 'missing-file');
    const fixed = apply(document, fixesOf(d)[0]);
    assert.deepStrictEqual((await check(fixed, { dir })).diagnostics, []);
  });

  it('declared files in subfolders are found', async () => {
    const dir = modelDir({ 'weights/model.onnx': 'x' });
    assert.deepStrictEqual(
      (await check({ model_type: 'ONNX', registry: { files: ['weights/model.onnx'] } }, { dir })).diagnostics,
      [],
    );
  });

  it('model_type that contradicts the weights beside it', async () => {
    const dir = modelDir({ 'model.onnx': 'x' });
    const { diagnostics, document } = await check({ model_type: 'PyTorch' }, { dir });
    const d = only(diagnostics, /model_type is "PyTorch", but the model file model.onnx is an ONNX model/);
    assert.strictEqual(d.code, 'model-type-mismatch');
    assert.strictEqual(fixesOf(d)[0].title, 'Change model_type to "ONNX"');
    assert.deepStrictEqual((await check(apply(document, fixesOf(d)[0]), { dir })).diagnostics, []);
  });

  it('model_type agrees with any of several weights, and ambiguous files prove nothing', async () => {
    assert.deepStrictEqual(
      (await check({ model_type: 'XGBoost' }, { dir: modelDir({ 'model.pkl': 'x' }) })).diagnostics,
      [],
    );
    assert.deepStrictEqual(
      (await check({ model_type: 'TensorFlow' }, { dir: modelDir({ 'model.safetensors': 'x' }) })).diagnostics,
      [],
    );
    assert.deepStrictEqual(
      (await check({ model_type: 'PyTorch' }, { dir: modelDir({ 'a.onnx': 'x', 'b.pt': 'x' }) })).diagnostics,
      [],
    );
  });

  it('an API request that is not a JSON Schema', async () => {
    const config = await configOf('text-classification');
    ((config.apis as Record<string, any>[])[0].request as Record<string, unknown>).data = { type: 'strin' };
    const { diagnostics, text } = await check(config);
    // The draft-07 meta-schema points at the keyword; Ajv's verdict on the whole schema is not repeated.
    const d = only(diagnostics, /Value is not accepted. Valid values: "array", "boolean", .*"string"/);
    assert.strictEqual(d.range.start.line + 1, lineOf(text, '"type": "strin"'));
    assert.ok(!diagnostics.some((x) => x.code === 'invalid-api-schema'), 'one diagnostic for one mistake');
  });

  it('an API response schema with a $ref that goes nowhere', async () => {
    const config = await configOf('text-classification');
    ((config.apis as Record<string, any>[])[0].response as Record<string, unknown>).data = {
      type: 'object',
      properties: { label: { $ref: '#/definitions/nothing' } },
    };
    only((await check(config)).diagnostics, /apis\[0\]\.response\.data is not a valid JSON Schema: .*nothing/);
  });

  it('duplicate dependency packages (PEP 503 names), removed by the quick fix', async () => {
    const config = {
      model_type: 'ONNX',
      dependencies: [
        {
          installer: 'pip',
          packages: [
            { package_name: 'numpy' },
            { package_name: 'onnxruntime' },
            { package_name: 'NumPy', package_version: '1.26.0', restraint: 'ATLEAST' },
          ],
        },
      ],
    };
    const { diagnostics, document, text } = await check(config);
    const d = only(diagnostics, /The pip package "NumPy" is listed twice \(first on line \d+\)/);
    assert.strictEqual(d.severity, DiagnosticSeverity.Warning);
    assert.strictEqual(d.range.start.line + 1, lineOf(text, '"NumPy"'));
    const fixed = apply(document, fixesOf(d)[0]);
    assert.deepStrictEqual(JSON.parse(fixed).dependencies[0].packages, [
      { package_name: 'numpy' },
      { package_name: 'onnxruntime' },
    ]);
    assert.deepStrictEqual((await check(fixed)).diagnostics, []);
  });

  it('the same package under two installers is no duplicate', async () => {
    const config = {
      model_type: 'ONNX',
      dependencies: [
        { installer: 'pip', packages: [{ package_name: 'numpy' }] },
        { installer: 'conda', packages: [{ package_name: 'numpy' }] },
      ],
    };
    assert.deepStrictEqual((await check(config)).diagnostics, []);
  });

  it('a percentage where a proportion belongs, fixed by dividing by 100', async () => {
    const { diagnostics, document } = await check({ model_type: 'ONNX', metrics: { accuracy: 93.5, loss: 2.3 } });
    const d = only(
      diagnostics,
      /metrics.accuracy is 93.5, but it is a proportion and must lie between 0 and 1 \(a percentage\?\)/,
    );
    assert.strictEqual(d.code, 'metric-range');
    const fixed = apply(document, fixesOf(d)[0]);
    assert.strictEqual(JSON.parse(fixed).metrics.accuracy, 0.935);
    assert.deepStrictEqual((await check(fixed)).diagnostics, []);
  });

  it('a negative proportion has no obvious fix', async () => {
    const d = only((await check({ model_type: 'ONNX', metrics: { f1: -0.1 } })).diagnostics, /metrics.f1 is -0.1/);
    assert.deepStrictEqual(fixesOf(d), []);
  });

  it('a template that expects weights warns when there are none', async () => {
    const config = await configOf('image-classification', { model_type: 'ONNX' });
    const d = only(
      (await check(config, { dir: modelDir({ 'notes.txt': 'x' }) })).diagnostics,
      /Template "image-classification" expects/,
    );
    assert.strictEqual(d.severity, DiagnosticSeverity.Warning);
  });

  it('a stored config (no folder) skips the checks against files', async () => {
    const { diagnostics } = await check({ model_type: 'PyTorch', registry: { files: ['nowhere.pt'] } });
    assert.deepStrictEqual(diagnostics, []);
  });

  it('checks still run on a document with a syntax error elsewhere', async () => {
    const { diagnostics } = await check('{"model_type": "ONNX", "metrics": {"recall": 42}, "runtime": }', {
      syntax: false,
    });
    only(diagnostics, /metrics.recall is 42/);
  });

  it('a non-object document is reported, not thrown', async () => {
    const language = await builtinLanguage();
    for (const text of ['', '[]', '42', '{{{']) {
      const ds = await language.validate(doc(text), { syntax: true });
      assert.ok(ds.length >= 1, `expected a problem for ${JSON.stringify(text)}`);
    }
  });
});

describe('config.json: which JSON is a model config', () => {
  it('one naming a $template, or of the ModelArts shape (model_algorithm, an apis array); not a Hugging Face config', () => {
    assert.strictEqual(looksLikeModelConfig('{ "$template": "image-classification" }'), true);
    assert.strictEqual(
      looksLikeModelConfig('{ "model_algorithm": "image_classification", "model_type": "PyTorch" }'),
      true,
    );
    assert.strictEqual(looksLikeModelConfig('{ "model_type": "TF", "apis": [ { "url": "/" } ] }'), true);
    assert.strictEqual(
      looksLikeModelConfig('{ "model_type": "bert", "hidden_size": 768, "architectures": ["BertModel"] }'),
      false,
    );
    assert.strictEqual(looksLikeModelConfig('{ "name": "pkg", "apis": "none" }'), false);
  });
});

// What the registry and datasets trees show for each row (plain Node: treeItems.ts does not import vscode).
import * as assert from 'assert';
import { readFileSync } from 'fs';
import { checkProfile } from '../../../../src/core/convert/profiles';
import { repoPath } from '../../helpers/paths';
import type { DatasetRecord, EvaluationRecord, ModelSummary, VersionRecord } from '../../../../src/core';
import { COMMANDS } from '../../../../src/extension/commands/commandIds';
import { datasetFacts, datasetItemOf, treeItemOf } from '../../../../src/extension/registry/treeItems';
import type { NodeData, RegistryKey, TreeNode } from '../../../../src/extension/registry/treeNodes';

const model = (over: Partial<ModelSummary> = {}): ModelSummary => ({
  id: 1,
  name: 'resnet',
  description: '',
  task: null,
  tags: [],
  versionCount: 2,
  archivedCount: 0,
  latestVersion: 2,
  createdAt: '2026-01-01',
  updatedAt: '2026-01-02',
  ...over,
});

const version = (over: Partial<VersionRecord> = {}): VersionRecord => ({
  id: 7,
  modelId: 1,
  model: 'resnet',
  number: 3,
  ref: 'resnet@v3',
  status: 'ready',
  source: { kind: 'training-output', uri: 'file:///w/out' },
  format: 'onnx',
  framework: 'pytorch',
  sizeBytes: 2048,
  fileCount: 4,
  parameterCount: 1000,
  createdAt: '2026-01-03',
  git: null,
  parentId: null,
  parentKind: null,
  params: {},
  signature: {},
  details: {},
  config: null,
  description: '',
  tags: [],
  aliases: [],
  archivedAt: null,
  origin: null,
  importer: null,
  interrupted: false,
  ...over,
});

const git = {
  commit: 'abcdef0123456789abcdef',
  dirty: true,
  subject: 'Train',
  branch: 'main',
  remote: null,
  author: 'a',
  date: 'd',
  root: '/w',
};

const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8'));
const ggufProfile = checkProfile(
  {
    id: 'gguf-tool',
    tool: 'quantize',
    targetFormat: 'gguf',
    inputs: ['.gguf'],
    args: ['${input}'],
    outputs: ['out.gguf'],
  },
  'test',
);

const on = (n: NodeData, registry: RegistryKey = 'local'): TreeNode => ({ ...n, registry });
const item = (n: NodeData, registry: RegistryKey = 'local') => treeItemOf(on(n, registry));

describe('tree items', () => {
  it('a model: its name, version counts and tags, the package icon, collapsible', () => {
    const m = item({ kind: 'model', model: model({ tags: ['baseline', 'cv'], archivedCount: 1 }) });
    assert.strictEqual(m.label, 'resnet');
    assert.strictEqual(m.id, 'model/resnet');
    assert.strictEqual(m.description, '2 versions (+1 archived) · #baseline · #cv');
    assert.strictEqual(m.contextValue, 'model');
    assert.deepStrictEqual(m.icon, { id: 'package' });
    assert.strictEqual(m.collapsible, true);
    assert.strictEqual(item({ kind: 'model', model: model({ versionCount: 1 }) }).description, '1 version');
  });

  it('a version: v<number>, its aliases, format, size and commit; context value by status, alias and archive', () => {
    const v = item({ kind: 'version', version: version({ aliases: ['production'], git }) });
    assert.strictEqual(v.label, 'v3');
    assert.strictEqual(v.description, '@production · onnx · 2.00 KiB · abcdef0*');
    assert.strictEqual(v.contextValue, 'version.ready.aliased.onnx.evaluable.convertible');
    assert.deepStrictEqual(v.icon, { id: 'star-full' });
    assert.strictEqual(v.collapsible, true);
    const archived = item({ kind: 'version', version: version({ archivedAt: '2026-02-01' }) });
    assert.strictEqual(archived.contextValue, 'version.ready.archived.onnx.evaluable.convertible');
    assert.strictEqual(archived.description, 'archived · onnx · 2.00 KiB');
    assert.deepStrictEqual(archived.icon, { id: 'archive' });
    const killed = item({ kind: 'version', version: version({ status: 'importing', interrupted: true }) });
    assert.strictEqual(killed.contextValue, 'version.interrupted');
    assert.strictEqual(killed.description, 'interrupted: its import was stopped');
    assert.strictEqual(killed.collapsible, false);
    assert.deepStrictEqual(item({ kind: 'version', version: version({ status: 'importing' }) }).icon, {
      id: 'sync~spin',
    });
    assert.strictEqual(
      item({ kind: 'version', version: version({ status: 'failed' }) }).contextValue,
      'version.failed',
    );
  });

  it('Evaluate… shows only on versions with an ONNX file, Convert… only where a converter applies', () => {
    // The when clauses of the version row's menu, as package.json has them.
    const menus = (pkg.contributes.menus['view/item/context'] as { command: string; when: string }[]).filter((m) =>
      m.when.includes('view == modelRegistry.models'),
    );
    const offers = (contextValue: string | undefined, command: string) => {
      const m = menus.find((x) => x.command === command)!;
      const re = /viewItem =~ \/(.*?)\/ /.exec(m.when)![1];
      return new RegExp(re).test(contextValue ?? '');
    };
    const weights = (...w: [string, string][]) => ({ weights: w.map(([p, format]) => ({ path: p, format })) });
    const row = (over: Partial<VersionRecord>, settings?: Parameters<typeof treeItemOf>[1]) =>
      treeItemOf(on({ kind: 'version', version: version(over) }), settings).contextValue;
    const menu = (cv: string | undefined) =>
      [COMMANDS.evaluateVersion, COMMANDS.convertVersion].filter((c) => offers(cv, c)).map((c) => c.split('.')[1]);

    const gguf = row({ format: 'gguf', details: weights(['model.gguf', 'gguf']) });
    assert.strictEqual(gguf, 'version.ready');
    assert.deepStrictEqual(menu(gguf), []);
    const onnx = row({ format: 'onnx', details: weights(['export/model.onnx', 'onnx']), aliases: ['production'] });
    assert.strictEqual(onnx, 'version.ready.aliased.onnx.evaluable.convertible');
    assert.deepStrictEqual(menu(onnx), ['evaluateVersion', 'convertVersion']);
    const st = row({ format: 'safetensors', details: weights(['model.safetensors', 'safetensors']) });
    assert.strictEqual(st, 'version.ready.convertible');
    assert.deepStrictEqual(menu(st), ['convertVersion']);
    // A .bin the reader found to be no torch checkpoint is nothing the torch converter takes.
    assert.strictEqual(
      row({ format: 'tfjs', details: weights(['model.json', 'tfjs'], ['w.bin', 'tfjs']) }),
      'version.ready',
    );
    // External evaluators take any model; a user's tool profile can make GGUF convertible.
    assert.strictEqual(
      row({ format: 'gguf', details: weights(['model.gguf', 'gguf']) }, { profiles: [ggufProfile], evaluators: true }),
      'version.ready.evaluable.convertible',
    );
    // Without a recorded weights list (older imports): by format, and Convert… says what applies.
    assert.deepStrictEqual(menu(row({ format: 'gguf', details: {} })), ['convertVersion']);
    // Not ready: neither.
    assert.strictEqual(row({ status: 'failed', details: weights(['m.onnx', 'onnx']) }), 'version.failed');
  });

  it('groups, files, metrics, facts and the commit row', () => {
    const v = version({ git });
    const files = item({ kind: 'group', group: 'files', version: v });
    assert.deepStrictEqual(
      [files.label, files.contextValue, files.description],
      ['Files', 'group.files', '4 · 2.00 KiB'],
    );
    const file = item({
      kind: 'file',
      file: { path: 'model.onnx', sha256: 'f'.repeat(64), size: 10, role: 'weights' },
      version: v,
    });
    assert.deepStrictEqual([file.label, file.contextValue, file.icon], ['model.onnx', 'file', { id: 'symbol-array' }]);
    const metric = item({
      kind: 'metric',
      metric: { key: 'accuracy', value: 0.9, step: 10, isBest: true, pointCount: 5, source: 'log.csv' },
      version: v,
    });
    assert.strictEqual(metric.description, '0.9 (best)');
    const commit = item({ kind: 'fact', label: 'commit', value: 'abcdef0123', version: v });
    assert.strictEqual(commit.contextValue, 'commit');
    assert.deepStrictEqual(commit.command, {
      id: COMMANDS.openCommit,
      title: 'Open Commit',
      arguments: [on({ kind: 'fact', label: 'commit', value: 'abcdef0123', version: v })],
    });
    const warning = item({ kind: 'fact', label: 'warning', value: 'pickle calls posix.system', version: v });
    assert.deepStrictEqual(warning.icon, { id: 'warning', color: 'problemsWarningIcon.foreground' });
  });

  it('an evaluation: dataset/split, accuracy and samples; opens its panel', () => {
    const e = {
      id: 4,
      versionId: 7,
      ref: 'resnet@v3',
      datasetName: 'cifar',
      datasetSha256: 'a'.repeat(64),
      split: 'test',
      evaluator: 'builtin',
      status: 'done',
      startedAt: '2026-01-04T10:00:00Z',
      finishedAt: '2026-01-04T10:01:00Z',
      git: null,
      sampleCount: 100,
      errorCount: 2,
      metrics: { accuracy: 0.75 },
    } as unknown as EvaluationRecord;
    const n: NodeData = { kind: 'evaluation', evaluation: e, version: version() };
    const it = item(n);
    assert.strictEqual(it.label, 'cifar/test');
    assert.match(it.description ?? '', /^accuracy 0\.75 · 100 samples \(\+2 errors\) · /);
    assert.strictEqual(it.contextValue, 'evaluation');
    assert.deepStrictEqual(it.command, { id: COMMANDS.openEvaluation, title: 'Open Evaluation', arguments: [on(n)] });
  });

  it('team rows open nothing locally; "Show more…" still pages', () => {
    const v = version({ git, config: { text: '{}', templateId: 'image-classification' } });
    const rows: NodeData[] = [
      { kind: 'related', role: 'parent', relation: 'clone', version: v, other: version({ id: 6, ref: 'resnet@v2' }) },
      { kind: 'fact', label: 'commit', value: 'abc', version: v },
      { kind: 'config', version: v },
    ];
    assert.deepStrictEqual(
      rows.map((n) => item(n, 'local').command && 'yes'),
      ['yes', 'yes', 'yes'],
    );
    assert.deepStrictEqual(
      rows.map((n) => item(n, 'team').command),
      [undefined, undefined, undefined],
    );
    assert.deepStrictEqual(item({ kind: 'config', version: v }).command, {
      openStoredConfig: v,
      title: 'Open config.json',
    });
    const more = on({ kind: 'more', of: 'resnet' }, 'team');
    assert.deepStrictEqual(treeItemOf(more).command, { id: COMMANDS.showMore, title: 'Show More', arguments: [more] });
    assert.strictEqual(treeItemOf(more).label, 'Show more…');
  });

  it('hostile names stay text: labels as given, tooltips escaped Markdown without links or HTML', () => {
    const name = '**x** [run](command:modelRegistry.gc) <img src=x onerror=alert(1)>';
    const m = item({ kind: 'model', model: model({ name, description: '![t](https://evil.example/t.png)' }) });
    assert.strictEqual(m.label, name);
    assert.ok(m.tooltip && typeof m.tooltip === 'object');
    const md = m.tooltip.markdown;
    assert.doesNotMatch(md, /\]\(/, 'a Markdown link or image');
    assert.doesNotMatch(md, /(^|[^\\])<img/, 'raw HTML');
    const v = item({ kind: 'version', version: version({ description: '# Big\n[x](command:y)', tags: ['<b>'] }) });
    assert.ok(v.tooltip && typeof v.tooltip === 'object');
    assert.doesNotMatch(v.tooltip.markdown, /\]\(|^# |(^|[^\\])<b>/m);
  });

  it('a dataset and its facts', () => {
    const d: DatasetRecord = {
      id: 2,
      name: 'cifar',
      kind: 'image-folder',
      root: '/data/cifar',
      manifestSha256: 'b'.repeat(64),
      sampleCount: 60,
      classes: ['cat', 'dog'],
      splits: ['train', 'test'],
      createdAt: '2026-01-05',
      details: {},
    };
    const row = datasetItemOf({ kind: 'dataset', dataset: d });
    assert.deepStrictEqual(
      [row.id, row.label, row.description, row.contextValue, row.icon, row.collapsible],
      ['dataset/2', 'cifar', 'image-folder · 60 samples · 2 classes', 'dataset', { id: 'database' }, true],
    );
    const facts = datasetFacts(d).map(datasetItemOf);
    assert.deepStrictEqual(
      facts.map((f) => [f.label, f.description]),
      [
        ['kind', 'image-folder'],
        ['samples', '60'],
        ['classes', '2: cat, dog'],
        ['splits', 'train, test'],
        ['manifest', 'b'.repeat(16)],
        ['root', '/data/cifar'],
      ],
    );
    assert.strictEqual(facts[4].tooltip, `manifest: ${'b'.repeat(64)}`);
    assert.strictEqual(facts[0].contextValue, undefined);
  });
});

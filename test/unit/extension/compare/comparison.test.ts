import * as assert from 'assert';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { buildComparison, seriesWindow } from '../../../../src/extension/compare/comparison';
import { comparisonCsv, comparisonMarkdown } from '../../../../src/extension/compare/export';
import { findRepository } from '../../../../src/core/git/git';
import { convertVersion } from '../../../../src/core/convert/convert';
import { toFp16 } from '../../../../src/core/convert/safetensors';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { writeParamsFile, writeTrainerState } from '../../helpers/makeLogs';
import { writeSafetensors } from '../../helpers/makeWeights';
import { git, makeGitRepo, tempDir } from '../../helpers/tmp';

describe('buildComparison', () => {
  let repo: string;
  let r: Registry;
  let ids: number[];
  let commits: string[];

  before(async () => {
    repo = tempDir();
    commits = [makeGitRepo(repo, { 'train.py': 'lr = 0.01\n', '.gitignore': 'outputs/\n' })];
    const run = async (name: string, lr: number, steps: number) => {
      const out = path.join(repo, 'outputs', name);
      mkdirSync(out, { recursive: true });
      await writeSafetensors(path.join(out, 'model.safetensors'), [{ name: 'w', dtype: 'F32', shape: [8, 8] }]);
      await writeTrainerState(path.join(out, 'trainer_state.json'), {
        totalSteps: steps,
        loggingSteps: 1,
        evalSteps: steps / 2,
        metricForBestModel: 'accuracy',
      });
      await writeParamsFile(path.join(out, 'training_args.json'), { learning_rate: lr, seed: 42 });
    };
    await run('a', 0.01, 5000);
    writeFileSync(path.join(repo, 'train.py'), 'lr = 0.001\n');
    writeFileSync(path.join(repo, 'data.py'), 'augment = True\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'Lower the learning rate and augment');
    commits.push(git(repo, 'rev-parse', 'HEAD'));
    await run('b', 0.001, 100);
    r = await Registry.open(path.join(tempDir(), '.modelreg'));
    git(repo, 'checkout', '-q', commits[0]);
    const a = await importTrainingOutput(r, path.join(repo, 'outputs', 'a'), { model: 'clf' });
    git(repo, 'checkout', '-q', 'main');
    const b = await importTrainingOutput(r, path.join(repo, 'outputs', 'b'), { model: 'clf' });
    ids = [a.id, b.id];
  });
  after(() => r.close());

  it('lines up final metrics with directions and best values', async () => {
    const m = await buildComparison(r, ids);
    assert.deepStrictEqual(
      m.versions.map((v) => v.ref),
      ['clf@v1', 'clf@v2'],
    );
    assert.notStrictEqual(m.versions[0].color, m.versions[1].color);
    const acc = m.metrics.find((x) => x.key === 'eval_accuracy')!;
    assert.strictEqual(acc.direction, 'higher');
    assert.strictEqual(acc.best.length >= 1, true);
    const best = Math.max(...(acc.values as number[]));
    assert.deepStrictEqual(
      acc.best,
      acc.values.flatMap((v, i) => (v === best ? [i] : [])),
    );
    const loss = m.metrics.find((x) => x.key === 'loss')!;
    assert.strictEqual(loss.direction, 'lower');
    const lr = m.metrics.find((x) => x.key === 'learning_rate')!;
    assert.strictEqual(lr.direction, 'none'); // a setting, not a result
    assert.deepStrictEqual(lr.best, []);
  });

  it('honours direction overrides', async () => {
    const m = await buildComparison(r, ids, { directions: { learning_rate: 'lower' } });
    const lr = m.metrics.find((x) => x.key === 'learning_rate')!;
    assert.strictEqual(lr.direction, 'lower');
    assert.strictEqual(lr.directionOverridden, true);
    const min = Math.min(...(lr.values as number[]));
    assert.deepStrictEqual(
      lr.best,
      lr.values.flatMap((v, i) => (v === min ? [i] : [])),
    );
  });

  it('downsamples long series to the budget and keeps short ones whole', async () => {
    const m = await buildComparison(r, ids, { maxPoints: 500 });
    const long = m.series.find((s) => s.versionId === ids[0] && s.key === 'loss')!;
    assert.strictEqual(long.totalPoints, 5000);
    assert.ok(long.steps.length <= 500 && long.steps.length >= 250, `${long.steps.length} points`); // flat buckets keep one point
    assert.strictEqual(long.steps[0], 1);
    assert.strictEqual(long.steps.at(-1), 5000);
    const short = m.series.find((s) => s.versionId === ids[1] && s.key === 'loss')!;
    assert.strictEqual(short.steps.length, 100);
    const zoom = await seriesWindow(r, ids, 'loss', 'step', 1000, 1100, 500);
    const z = zoom.find((s) => s.versionId === ids[0])!;
    assert.strictEqual(z.steps[0], 999);
    assert.strictEqual(z.steps.at(-1), 1101);
    assert.strictEqual(z.steps.length, 103, 'the window at full resolution');
  });

  it('diffs parameters and compares the code between the two commits, read from the workspace repository', async () => {
    const m = await buildComparison(r, ids, { repositories: [(await findRepository(repo))!] });
    const lr = m.params.find((p) => p.key === 'training_args.json › learning_rate')!;
    assert.deepStrictEqual(lr.values, ['0.01', '0.001']);
    assert.strictEqual(lr.differs, true);
    assert.strictEqual(m.params.find((p) => p.key === 'training_args.json › seed')!.differs, false);
    assert.strictEqual(m.code.length, 1);
    const code = m.code[0];
    assert.strictEqual(code.unavailable, undefined);
    assert.deepStrictEqual(code.files.map((f) => [f.path, f.insertions, f.deletions]).sort(), [
      ['data.py', 1, 0],
      ['train.py', 1, 1],
    ]);
    assert.deepStrictEqual(
      code.commits.map((c) => [c.hash, c.subject]),
      [[commits[1], 'Lower the learning rate and augment']],
    );
  });

  it('explains when code cannot be compared', async () => {
    const loose = tempDir();
    await writeSafetensors(path.join(loose, 'model.safetensors'), [{ name: 'w', dtype: 'F32', shape: [2] }]);
    const v = await importTrainingOutput(r, loose, { model: 'loose' });
    const m = await buildComparison(r, [ids[0], v.id]);
    assert.match(m.code[0].unavailable ?? '', /loose@v1 was not imported from a git repository/);
  });

  it("never runs git where a stored version says: without the workspace's repository, code is not compared", async () => {
    const m = await buildComparison(r, ids);
    assert.match(m.code[0].unavailable ?? '', /is not in the workspace's repository/);
    const other = tempDir();
    makeGitRepo(other);
    const elsewhere = await buildComparison(r, ids, { repositories: [(await findRepository(other))!] });
    assert.match(elsewhere.code[0].unavailable ?? '', /is not in the workspace's repository/);
  });

  it('exports CSV with deltas and safe cells, and Markdown with the best values in bold', async () => {
    const m = await buildComparison(r, ids);
    const csv = comparisonCsv(m, ids[0]);
    const [header, ...rows] = csv.trim().split('\n');
    assert.strictEqual(header, 'section,key,clf@v1,clf@v2,delta clf@v1 vs clf@v1,delta clf@v2 vs clf@v1');
    const lossRow = rows.find((l) => l.startsWith('metric,loss,'))!.split(',');
    const loss = m.metrics.find((x) => x.key === 'loss')!.values as number[];
    assert.strictEqual(Number(lossRow[5]), loss[1] - loss[0]);
    assert.strictEqual(Number(lossRow[4]), 0);
    const md = comparisonMarkdown(m, ids[0]);
    const acc = m.metrics.find((x) => x.key === 'eval_accuracy')!;
    assert.ok(md.includes(`**${acc.values[acc.best[0]]}**`));
    assert.match(md, /## Parameters that differ/);
    assert.match(md, /training_args.json › learning_rate \| `0.01` \| `0.001`/);
  });

  // Last: it adds a version to the model the other cases compare.
  it("shows a converted version's converter, dtype and sizes, and that its metrics are its parent's", async () => {
    const conv = await convertVersion(r, 'clf@v1', toFp16);
    const m = await buildComparison(r, [ids[0], conv.id]);
    assert.strictEqual(m.versions[0].conversion, null);
    const c = m.versions[1].conversion;
    assert.ok(c, 'conversion facts');
    assert.strictEqual(c.converter, 'fp16');
    assert.strictEqual(c.dtype, 'fp16');
    assert.strictEqual(c.from, 'clf@v1');
    assert.strictEqual(c.size, '328 B → 200 B'); // the file, header included
    assert.strictEqual(c.verification, null); // safetensors conversions are exact casts, not checked in a runtime
    assert.ok(m.metrics.every((row) => row.values[1] === null)); // not measured on the converted weights
  });
});

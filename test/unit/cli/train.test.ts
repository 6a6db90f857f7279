// `modelreg train` through the real CLI, on a git repository with the sample's train.py (python3 +
// numpy) and a modelreg.json recipe: the detached runner runs it and imports its output. Exit 0 when
// every run succeeded (a version made), 1 when one did not, 2 on bad input, with nothing queued.
// The runner's mechanics (stop, retry, devices, orphans) are in test/unit/core/train/runs.test.ts.
import * as assert from 'assert/strict';
import { spawnSync } from 'child_process';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { CLI_JS, repoPath } from '../helpers/paths';
import { makeGitRepo, tempDir } from '../helpers/tmp';

const RECIPES = {
  train: {
    classifier: {
      command: [
        'python3',
        'train.py',
        '--out',
        '${output}',
        '--lr',
        '${param:lr}',
        '--epochs',
        '${param:epochs}',
        '--fail-at-epoch',
        '${param:fail_at_epoch}',
      ],
      baseArgs: ['--base', '${base}'],
      // fail_at_epoch 0 never fails (epochs count from 1).
      params: { lr: 0.5, epochs: 2, fail_at_epoch: 0 },
      output: 'outputs/${run}',
      metric: 'eval_accuracy',
      env: { PYTHONUNBUFFERED: '1' },
    },
  },
};

/** The keys of a run as `train --json` gives it (RunRecord). */
const RUN_KEYS = [
  'argv',
  'base',
  'batch',
  'details',
  'devices',
  'env',
  'error',
  'exitCode',
  'finishedAt',
  'git',
  'id',
  'jobs',
  'log',
  'logObject',
  'metric',
  'model',
  'output',
  'overridden',
  'params',
  'pid',
  'queuedAt',
  'recipe',
  'root',
  'runner',
  'signal',
  'startedAt',
  'status',
  'stopRequested',
  'versionId',
  'versionRef',
];

interface RunJson {
  id: string;
  batch: string;
  status: string;
  params: Record<string, unknown>;
  overridden: string[];
  exitCode: number | null;
  error: string | null;
  versionRef: string | null;
  base: { id: number; ref: string } | null;
  git: { commit: string; dirty: boolean; diff: string | null } | null;
  output: string;
  logObject: string | null;
}

describe('modelreg train (real CLI, runner and train.py)', function () {
  this.timeout(120_000);
  let ws: string;
  let head: string;

  function modelreg(...args: string[]) {
    const r = spawnSync(process.execPath, [CLI_JS, ...args], { cwd: ws, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }
  const trainJson = (...args: string[]) => {
    const r = modelreg('train', ...args, '--json');
    assert.equal(r.err, '');
    return { code: r.code, json: JSON.parse(r.out) as { batch: string; runs: RunJson[] } };
  };
  const runCount = () => (JSON.parse(modelreg('runs', '--json').out) as unknown[]).length;

  before(() => {
    ws = tempDir('modelreg-cli-train-');
    head = makeGitRepo(ws, {
      'train.py': readFileSync(repoPath('test', 'fixtures', 'sample', 'train.py'), 'utf8'),
      'modelreg.json': JSON.stringify(RECIPES, null, 2) + '\n',
      '.gitignore': 'outputs/\n.modelreg/\n',
    });
  });

  it('exit 0 and a version made: --json gives the batch and its ended run', () => {
    const { code, json } = trainJson('--recipe', 'classifier', '-p', 'lr=0.25');
    assert.equal(code, 0);
    assert.deepEqual(Object.keys(json).sort(), ['batch', 'runs']);
    assert.match(json.batch, /^batch-\d{8}-\d{6}-[0-9a-f]{4}$/);
    assert.equal(json.runs.length, 1);
    const [run] = json.runs;
    assert.deepEqual(Object.keys(run).sort(), RUN_KEYS);
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.equal(run.batch, json.batch);
    assert.match(run.id, /^classifier-\d{8}-\d{6}-[0-9a-f]{4}$/);
    assert.equal(run.exitCode, 0);
    assert.equal(run.error, null);
    assert.equal(run.versionRef, 'classifier@v1');
    assert.equal(run.base, null);
    assert.deepEqual(run.params, { lr: 0.25, epochs: 2, fail_at_epoch: 0 });
    assert.deepEqual(run.overridden, ['lr']);
    assert.deepEqual(run.git, { commit: head, dirty: false, diff: null });
    assert.equal(run.output, path.join(ws, 'outputs', run.id));
    assert.ok(existsSync(path.join(run.output, 'model.safetensors')), 'train.py wrote its weights');
    assert.ok(run.logObject, 'the log is stored');

    const version = JSON.parse(modelreg('show', 'classifier@v1', '--json').out) as {
      details: { training: { run: string; recipe: string; params: unknown } };
      metrics: { key: string }[];
    };
    assert.equal(version.details.training.run, run.id);
    assert.equal(version.details.training.recipe, 'classifier');
    assert.ok(
      version.metrics.some((m) => m.key === 'eval_accuracy'),
      'the metric log was imported',
    );
  });

  it('from a base version (REF): the next version, the base passed with --base; the plain output says so', () => {
    const r = modelreg('train', 'classifier@v1', '--recipe', 'classifier');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Queued 1 run of classifier from classifier@v1 \(batch-/);
    assert.match(r.out, /\nsucceeded {2}classifier-\S+ → classifier@v2 in \d+s\n/);
    const version = JSON.parse(modelreg('show', 'classifier@v2', '--json').out) as {
      parentKind: string;
      details: { training: { argv: string[] } };
    };
    assert.equal(version.parentKind, 'train');
    assert.ok(version.details.training.argv.includes('--base'), version.details.training.argv.join(' '));
  });

  it('exit 1 when the run fails: no version, the error and the log kept', () => {
    const { code, json } = trainJson('--recipe', 'classifier', '-p', 'fail_at_epoch=1');
    assert.equal(code, 1);
    const [run] = json.runs;
    assert.equal(run.status, 'failed');
    assert.equal(run.exitCode, 3);
    assert.equal(run.error, 'the command exited with code 3');
    assert.equal(run.versionRef, null);
    assert.ok(run.logObject);
    const log = modelreg('runs', 'log', run.id);
    assert.match(log.out, /RuntimeError: simulated failure at epoch 1/);
    assert.match(modelreg('list').out, /^classifier\t2 versions\tlatest v2\n/);

    // The plain output names the run, why, and where its log is.
    const plain = modelreg('train', '--recipe', 'classifier', '-p', 'fail_at_epoch=2');
    assert.equal(plain.code, 1, plain.err);
    assert.match(
      plain.out,
      /\nfailed {5}(classifier-\S+) \(fail_at_epoch=2\): the command exited with code 3; its log: modelreg runs log \1\n/,
    );
  });

  it('exit 1 when one run of a sweep fails and the other succeeds', () => {
    const { code, json } = trainJson('--recipe', 'classifier', '--sweep', 'fail_at_epoch=0,1', '--jobs', '2');
    assert.equal(code, 1);
    const byFail = Object.fromEntries(json.runs.map((r) => [String(r.params.fail_at_epoch), r]));
    assert.equal(byFail['0'].status, 'succeeded', byFail['0'].error ?? '');
    assert.equal(byFail['0'].versionRef, 'classifier@v3');
    assert.equal(byFail['1'].status, 'failed');
  });

  it('exit 2 on bad input, naming the recipe and the key; nothing is queued', () => {
    const before = runCount();
    const refused = (args: string[], message: RegExp) => {
      const r = modelreg('train', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.equal(r.out, '');
      assert.match(r.err, message);
    };
    refused(
      ['--recipe', 'classifier', '-p', 'lr=abc'],
      /^modelreg: modelreg\.json: recipe 'classifier': -p lr: 'abc' is not a number \(the default is 0\.5\)\n$/,
    );
    refused(
      ['--recipe', 'classifier', '-p', 'lrr=0.1'],
      /^modelreg: modelreg\.json: recipe 'classifier': -p lrr: is not a parameter of this recipe \(params: lr, epochs, fail_at_epoch\)\n$/,
    );
    refused(
      ['--recipe', 'classifier', '--sweep', 'lr=0.1,x'],
      /^modelreg: modelreg\.json: recipe 'classifier': --sweep lr: 'x' is not a number/,
    );
    refused(
      ['--recipe', 'nope'],
      /^modelreg: .*modelreg\.json: no recipe 'nope' under "train" \(recipes: classifier\)\n$/,
    );
    refused(['--recipe', 'classifier', '--jobs', '0'], /--jobs 0: give a whole number of at least 1/);
    refused(['missing@v1', '--recipe', 'classifier'], /^modelreg: no model named 'missing' in the registry at /);
    assert.equal(runCount(), before);
  });

  it('exit 2 when modelreg.json is missing or broken, naming the file', () => {
    const other = tempDir('modelreg-cli-train-none-');
    makeGitRepo(other);
    const none = spawnSync(process.execPath, [CLI_JS, 'train', '--recipe', 'classifier'], {
      cwd: other,
      encoding: 'utf8',
    });
    assert.equal(none.status, 2, none.stderr);
    assert.match(none.stderr, /modelreg\.json: no such file; a modelreg\.json with a "train" section holds/);

    const broken = JSON.parse(readFileSync(path.join(ws, 'modelreg.json'), 'utf8')) as typeof RECIPES;
    (broken.train.classifier.command as string[]).push('${param:seed}');
    writeFileSync(path.join(other, 'modelreg.json'), JSON.stringify(broken));
    const bad = spawnSync(process.execPath, [CLI_JS, 'train', '--recipe', 'classifier'], {
      cwd: other,
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /recipe 'classifier': command: .*\$\{param:seed\}/);
  });
});

// modelreg.json training recipes on real files: reading, every refusal (naming the file, the recipe
// and the key), overrides, sweeps and the expansion of placeholders into one run's command line.
import * as assert from 'assert/strict';
import { execFileSync } from 'child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { InputError } from '../../../../src/core/errors';
import {
  expandRecipe,
  findRecipe,
  loadRecipes,
  parseOverrides,
  parseRecipes,
  Recipe,
  RECIPE_FILE,
  starterRecipeFile,
  sweepGrid,
} from '../../../../src/core/train/recipe';
import { tempDir } from '../../helpers/tmp';

/** The recipe of issue 18, as a user writes it. */
const ISSUE_EXAMPLE = `{
  "train": {
    "sentiment": {
      "command": ["python3", "train.py", "--out", "\${output}", "--lr", "\${param:lr}", "--epochs", "\${param:epochs}"],
      "baseArgs": ["--base", "\${base}"],
      "params": { "lr": 5e-5, "epochs": 2 },
      "output": "outputs/\${run}",
      "model": "sentiment",
      "env": { "PYTHONUNBUFFERED": "1" }
    }
  }
}
`;

function workspace(text: string = ISSUE_EXAMPLE): string {
  const root = tempDir('modelreg-recipe-');
  writeFileSync(path.join(root, RECIPE_FILE), text);
  return root;
}

/** The sentiment recipe with `change` applied to its body (a key set to undefined is removed). */
function variant(change: Record<string, unknown>): string {
  const file = JSON.parse(ISSUE_EXAMPLE) as { train: { sentiment: Record<string, unknown> } };
  Object.assign(file.train.sentiment, change);
  return JSON.stringify(file);
}

function refusal(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `an InputError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

async function refusalAsync(p: Promise<unknown>, pattern: RegExp): Promise<InputError> {
  const e = await p.then(
    () => assert.fail(`expected a refusal matching ${pattern}`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof InputError, `an InputError, got ${String(e)}`);
  assert.match(e.message, pattern);
  return e;
}

const sentiment = (text = ISSUE_EXAMPLE): Recipe => parseRecipes(text, RECIPE_FILE)[0];

describe('modelreg.json recipes', () => {
  it("reads the issue's example recipe as written, with every key", async () => {
    const root = workspace();
    const file = await loadRecipes(root);
    assert.equal(file.file, path.join(root, RECIPE_FILE));
    assert.equal(file.root, root);
    assert.deepEqual(file.recipes, [
      {
        name: 'sentiment',
        command: ['python3', 'train.py', '--out', '${output}', '--lr', '${param:lr}', '--epochs', '${param:epochs}'],
        baseArgs: ['--base', '${base}'],
        params: { lr: 5e-5, epochs: 2 },
        output: 'outputs/${run}',
        model: 'sentiment',
        env: { PYTHONUNBUFFERED: '1' },
      },
    ]);
    assert.equal(findRecipe(file, 'sentiment'), file.recipes[0]);
  });

  it('fills in the defaults: model is the recipe name, output outputs/${run}, no base args, params or env', () => {
    const [r] = parseRecipes('{"train": {"tiny": {"command": ["./train.sh"], "metric": "eval_accuracy"}}}', 'x.json');
    assert.deepEqual(r, {
      name: 'tiny',
      command: ['./train.sh'],
      baseArgs: [],
      params: {},
      output: 'outputs/${run}',
      model: 'tiny',
      env: {},
      metric: 'eval_accuracy',
    });
  });

  it('findRecipe names the recipes there are', async () => {
    const file = await loadRecipes(workspace());
    refusal(
      () => findRecipe(file, 'sentimen'),
      /modelreg\.json: no recipe 'sentimen' under "train" \(recipes: sentiment\)/,
    );
  });

  describe('refuses, naming the file, the recipe and the key', () => {
    const cases: [string, string, RegExp][] = [
      ['no train section', '{"recipes": {}}', /^x\.json: train: missing/],
      ['train not an object', '{"train": ["a"]}', /^x\.json: train: must be an object of recipes/],
      [
        'a recipe not an object',
        '{"train": {"sentiment": "python3 train.py"}}',
        /recipe 'sentiment': must be an object with a "command"/,
      ],
      ['a missing command', variant({ command: undefined }), /recipe 'sentiment': command: missing/],
      ['an empty command', variant({ command: [] }), /recipe 'sentiment': command: is empty/],
      [
        'a command that is one string',
        variant({ command: 'python3 train.py' }),
        /recipe 'sentiment': command: must be a list of strings \(got a string\)/,
      ],
      [
        'a command with a number',
        variant({ command: ['python3', 3] }),
        /recipe 'sentiment': command: must be a list of strings/,
      ],
      [
        'baseArgs not strings',
        variant({ baseArgs: '--base' }),
        /recipe 'sentiment': baseArgs: must be a list of strings/,
      ],
      [
        'a parameter without a default',
        variant({ params: { lr: null } }),
        /recipe 'sentiment': params\.lr: has no default/,
      ],
      ['a parameter that is a list', variant({ params: { lr: [1, 2] } }), /recipe 'sentiment': params\.lr: is a list/],
      [
        'a bad parameter name',
        variant({ params: { 'my lr': 1 } }),
        /recipe 'sentiment': params\.my lr: is not a parameter name/,
      ],
      [
        'output not a string',
        variant({ output: 3 }),
        /recipe 'sentiment': output: must be a non-empty string \(got a number\)/,
      ],
      ['model not a string', variant({ model: true }), /recipe 'sentiment': model: must be a non-empty string/],
      [
        'model not a model name',
        variant({ model: 'my model' }),
        /recipe 'sentiment': model: my model is not a model name/,
      ],
      ['env not an object', variant({ env: ['A=1'] }), /recipe 'sentiment': env: must be an object/],
      [
        'an env value that is a number',
        variant({ env: { PYTHONUNBUFFERED: 1 } }),
        /recipe 'sentiment': env\.PYTHONUNBUFFERED: must be a string/,
      ],
      ['a bad env name', variant({ env: { 'A-B': '1' } }), /recipe 'sentiment': env\.A-B: is not a variable name/],
      [
        'an unknown key',
        variant({ args: ['--x'] }),
        /recipe 'sentiment': args: unknown key \(a recipe has command, baseArgs/,
      ],
      [
        'an unknown placeholder',
        variant({ command: ['python3', '${foo}'] }),
        /recipe 'sentiment': command: \$\{foo\} is not a placeholder/,
      ],
      [
        'a placeholder naming no parameter',
        variant({ command: ['python3', 'train.py', '--lr', '${param:lrr}'] }),
        /^x\.json: recipe 'sentiment': command: \$\{param:lrr\} names no parameter \(params: lr, epochs\)$/,
      ],
      [
        'an unclosed placeholder',
        variant({ command: ['python3', '--out=${output'] }),
        /recipe 'sentiment': command: \$\{output is not closed/,
      ],
      [
        '${base} in the command',
        variant({ command: ['python3', 'train.py', '--base', '${base}'] }),
        /recipe 'sentiment': command: \$\{base\} has a value only when training from a base version; use it in baseArgs/,
      ],
      [
        '${base} in env',
        variant({ env: { BASE: '${base}' } }),
        /recipe 'sentiment': env\.BASE: \$\{base\} has a value only/,
      ],
      [
        '${base} in output',
        variant({ output: 'outputs/${base}' }),
        /recipe 'sentiment': output: \$\{base\} has a value only/,
      ],
      [
        '${output} in output',
        variant({ output: 'outputs/${output}' }),
        /recipe 'sentiment': output: \$\{output\} is this folder itself/,
      ],
      [
        'a param in env naming no parameter',
        variant({ env: { LR: '${param:rate}' } }),
        /recipe 'sentiment': env\.LR: \$\{param:rate\} names no parameter/,
      ],
      [
        'an output outside the folder',
        variant({ output: '../outputs/${run}' }),
        /recipe 'sentiment': output: \.\.\/outputs\/\$\{run\} must be a folder inside the folder of modelreg\.json/,
      ],
      [
        'an absolute output',
        variant({ output: '/tmp/${run}' }),
        /recipe 'sentiment': output: \/tmp\/\$\{run\} must be a folder inside/,
      ],
      [
        'the folder itself as output',
        variant({ output: './' }),
        /recipe 'sentiment': output: \.\/ must be a folder inside/,
      ],
      [
        'a recipe name that is no model name',
        '{"train": {"my recipe": {"command": ["x"]}}}',
        /recipe 'my recipe': its name must start with a letter or digit/,
      ],
      [
        'two recipes with one name',
        '{"train": {"a": {"command": ["x"]}, "a": {"command": ["y"]}}}',
        /^x\.json: .*repeats the key "a"/,
      ],
      ['not JSON', '{"train": {', /^x\.json: not valid JSON/],
    ];
    for (const [what, text, pattern] of cases) it(what, () => refusal(() => parseRecipes(text, 'x.json'), pattern));

    it('shows a name with control characters escaped', () => {
      refusal(
        () => parseRecipes('{"train": {"a\\u001b[31m": {"command": ["x"]}}}', 'x.json'),
        /recipe "a\\u001b\[31m": its name/,
      );
    });
  });

  it('loadRecipes names the file it refuses, with its path', async () => {
    const root = workspace(variant({ command: ['python3', '${param:lrr}'] }));
    await refusalAsync(
      loadRecipes(root),
      new RegExp(`^${path.join(root, RECIPE_FILE)}: recipe 'sentiment': command: `),
    );
    await refusalAsync(loadRecipes(tempDir()), /modelreg\.json: no such file; a modelreg\.json with a "train" section/);
  });

  it('refuses a FIFO named modelreg.json without waiting for a writer', async function () {
    // Opened without O_NONBLOCK, the read would block until mocha's timeout.
    this.timeout(10_000);
    const root = tempDir('modelreg-recipe-fifo-');
    execFileSync('mkfifo', [path.join(root, RECIPE_FILE)]);
    await refusalAsync(
      loadRecipes(root),
      new RegExp(`^${path.join(root, RECIPE_FILE)}: is a named pipe \\(FIFO\\), not a regular file`),
    );
  });

  it('refuses a modelreg.json linked out of its folder, and reads one linked inside it', async () => {
    const outside = workspace();
    const root = tempDir('modelreg-recipe-link-');
    symlinkSync(path.join(outside, RECIPE_FILE), path.join(root, RECIPE_FILE));
    await refusalAsync(loadRecipes(root), new RegExp(`^${path.join(root, RECIPE_FILE)}: is a link to .*, outside `));

    const inside = tempDir('modelreg-recipe-link-in-');
    mkdirSync(path.join(inside, 'config'));
    writeFileSync(path.join(inside, 'config', 'recipes.json'), ISSUE_EXAMPLE);
    symlinkSync(path.join('config', 'recipes.json'), path.join(inside, RECIPE_FILE));
    assert.equal((await loadRecipes(inside)).recipes[0].name, 'sentiment');
  });

  it('refuses a modelreg.json too large to be a recipe file', async () => {
    const root = workspace(`{"train": {}, "pad": "${'x'.repeat(2 * 1024 * 1024)}"}`);
    await refusalAsync(loadRecipes(root), /modelreg\.json: file is too large to read \(2\.0 MB, limit 1 MB\)/);
  });

  describe('expanding a run', () => {
    let root = '';
    before(() => (root = workspace()));
    const at = (rel: string) => path.join(root, rel);

    it('without a base: the command with params and output, no base args', () => {
      const run = expandRecipe(sentiment(), root, { run: 'sentiment-1', overrides: {} });
      assert.deepEqual(run, {
        argv: ['python3', 'train.py', '--out', at('outputs/sentiment-1'), '--lr', '0.00005', '--epochs', '2'],
        env: { PYTHONUNBUFFERED: '1' },
        output: at('outputs/sentiment-1'),
        params: { lr: 5e-5, epochs: 2 },
        overridden: [],
      });
    });

    it('with a base: base args appended, ${base} replaced; overrides marked', () => {
      const run = expandRecipe(sentiment(), root, { run: 'r2', base: '/store/v3', overrides: { epochs: 5 } });
      assert.deepEqual(run.argv.slice(-4), ['--epochs', '5', '--base', '/store/v3']);
      assert.deepEqual(run.params, { lr: 5e-5, epochs: 5 });
      assert.deepEqual(run.overridden, ['epochs']);
    });

    it('replaces placeholders in env values', () => {
      const recipe = sentiment(
        variant({ env: { OUT: '${output}/logs', RUN: 'run-${run}', LR: '${param:lr}', PYTHONUNBUFFERED: '1' } }),
      );
      const run = expandRecipe(recipe, root, { run: 'r3', overrides: { lr: 0.1 } });
      assert.deepEqual(run.env, {
        OUT: at('outputs/r3/logs'),
        RUN: 'run-r3',
        LR: '0.1',
        PYTHONUNBUFFERED: '1',
      });
    });

    it('refuses an output that a parameter takes out of the folder', () => {
      const recipe = sentiment(variant({ params: { name: 'a' }, output: 'outputs/${param:name}', command: ['x'] }));
      assert.equal(expandRecipe(recipe, root, { run: 'r', overrides: {} }).output, at('outputs/a'));
      refusal(
        () => expandRecipe(recipe, root, { run: 'r', overrides: { name: '../../../etc' } }),
        /^modelreg\.json: recipe 'sentiment': output: 'outputs\/\.\.\/\.\.\/\.\.\/etc' is not a folder inside \//,
      );
    });

    it('refuses an output folder under a link out of the folder', () => {
      const ws = workspace();
      symlinkSync(tempDir('modelreg-elsewhere-'), path.join(ws, 'outputs'));
      refusal(
        () => expandRecipe(sentiment(), ws, { run: 'r', overrides: {} }),
        /recipe 'sentiment': output: 'outputs\/r': .*outputs: is a link to .*, outside /,
      );
    });

    it('refuses an override that is no parameter or of the wrong type', () => {
      refusal(
        () => expandRecipe(sentiment(), root, { run: 'r', overrides: { rate: 1 } }),
        /recipe 'sentiment': rate: is not a parameter of this recipe \(params: lr, epochs\)/,
      );
      refusal(
        () => expandRecipe(sentiment(), root, { run: 'r', overrides: { lr: 'fast' } }),
        /recipe 'sentiment': lr: override 'fast' is string, the default is number/,
      );
    });
  });

  describe('-p overrides', () => {
    const recipe = sentiment(variant({ params: { lr: 0.01, epochs: 2, fp16: false, optim: 'adam' } }));

    it('types each value after its default', () => {
      assert.deepEqual(parseOverrides(recipe, ['lr=1e-3', 'epochs=10', 'fp16=true', 'optim=sgd']), {
        lr: 0.001,
        epochs: 10,
        fp16: true,
        optim: 'sgd',
      });
      assert.deepEqual(parseOverrides(recipe, ['optim=', 'fp16=false']), { optim: '', fp16: false });
    });

    it('refuses what it cannot read, naming the recipe and the key', () => {
      refusal(
        () => parseOverrides(recipe, ['lr=fast']),
        /^modelreg\.json: recipe 'sentiment': -p lr: 'fast' is not a number \(the default is 0\.01\)/,
      );
      refusal(() => parseOverrides(recipe, ['lr=']), /-p lr: '' is not a number/);
      refusal(() => parseOverrides(recipe, ['epochs=NaN']), /-p epochs: 'NaN' is not a number/);
      refusal(() => parseOverrides(recipe, ['fp16=yes']), /recipe 'sentiment': -p fp16: 'yes' is not true or false/);
      refusal(
        () => parseOverrides(recipe, ['rate=1']),
        /recipe 'sentiment': -p rate: is not a parameter of this recipe \(params: lr, epochs, fp16, optim\)/,
      );
      refusal(() => parseOverrides(recipe, ['lr']), /recipe 'sentiment': -p lr: expected KEY=VALUE/);
      refusal(() => parseOverrides(recipe, ['lr=1', 'lr=2']), /recipe 'sentiment': -p lr: is given twice/);
    });
  });

  describe('--sweep', () => {
    const recipe = sentiment(variant({ params: { lr: 0.01, epochs: 2, optim: 'adam' } }));

    it('a 2×2 sweep is 4 runs, the first sweep varying slowest, each with the overrides', () => {
      assert.deepEqual(sweepGrid(recipe, { optim: 'sgd' }, ['lr=0.1,0.01', 'epochs=1,3']), [
        { optim: 'sgd', lr: 0.1, epochs: 1 },
        { optim: 'sgd', lr: 0.1, epochs: 3 },
        { optim: 'sgd', lr: 0.01, epochs: 1 },
        { optim: 'sgd', lr: 0.01, epochs: 3 },
      ]);
    });

    it('without sweeps, one run with the overrides', () => {
      assert.deepEqual(sweepGrid(recipe, { lr: 1 }, []), [{ lr: 1 }]);
    });

    it('refuses a key in both -p and --sweep, an unknown key, a bad value, a key swept twice', () => {
      refusal(() => sweepGrid(recipe, { lr: 1 }, ['lr=1,2']), /recipe 'sentiment': --sweep lr: is also set with -p lr/);
      refusal(
        () => sweepGrid(recipe, {}, ['rate=1,2']),
        /recipe 'sentiment': --sweep rate: is not a parameter of this recipe \(params: lr, epochs, optim\)/,
      );
      refusal(
        () => sweepGrid(recipe, {}, ['epochs=1,two']),
        /recipe 'sentiment': --sweep epochs: 'two' is not a number/,
      );
      refusal(() => sweepGrid(recipe, {}, ['epochs=1,,2']), /--sweep epochs: has an empty value/);
      refusal(() => sweepGrid(recipe, {}, ['epochs=1,2', 'epochs=3']), /--sweep epochs: is swept twice/);
      refusal(() => sweepGrid(recipe, {}, ['epochs=1,1.0']), /--sweep epochs: lists 1 twice/);
    });

    it('refuses a grid of more than 1000 runs', () => {
      const many = Array.from({ length: 40 }, (_, i) => i + 1).join(',');
      refusal(
        () => sweepGrid(recipe, {}, [`epochs=${many}`, `lr=${many}`]),
        /--sweep lr: makes more than 1000 runs \(1600 so far\)/,
      );
    });
  });

  it('the starter file is a valid recipe for the given script', () => {
    const [r] = parseRecipes(starterRecipeFile({ name: 'classifier', script: 'train.py' }), 'x.json');
    assert.equal(r.name, 'classifier');
    assert.deepEqual(r.command.slice(0, 2), ['python3', 'train.py']);
    assert.deepEqual(r.baseArgs, ['--base', '${base}']);
    const ws = workspace();
    const run = expandRecipe(r, ws, { run: 'r1', overrides: { epochs: 1 } });
    assert.deepEqual(run.argv, [
      'python3',
      'train.py',
      '--out',
      path.join(ws, 'outputs/r1'),
      '--lr',
      '0.001',
      '--epochs',
      '1',
    ]);
    assert.deepEqual(
      parseRecipes(starterRecipeFile({ script: 'scripts/train.mjs' }), 'x.json')[0].command.slice(0, 2),
      ['node', 'scripts/train.mjs'],
    );
    refusal(() => starterRecipeFile({ name: 'my model' }), /recipe 'my model': its name must/);
  });
});

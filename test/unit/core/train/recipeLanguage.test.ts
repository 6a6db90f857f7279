// modelreg.json in the editor: the schema's diagnostics and completion, recipe.ts's placeholder
// checks with their ranges, completion of placeholder names, and the CLI agreeing with the editor.
import * as assert from 'assert/strict';
import { spawnSync } from 'child_process';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { CompletionItem, Diagnostic, TextDocument } from 'vscode-json-languageservice';
import { InputError } from '../../../../src/core/errors';
import { parseRecipes, starterRecipeFile } from '../../../../src/core/train/recipe';
import { isRecipeDocument, RecipeLanguage } from '../../../../src/core/train/recipeLanguage';
import { CLI_JS } from '../../helpers/paths';
import { tempDir } from '../../helpers/tmp';

let shared: Promise<RecipeLanguage> | undefined;
const language = () => (shared ??= RecipeLanguage.load());

const URI = 'file:///work/ws/modelreg.json';
const doc = (text: string) => TextDocument.create(URI, 'json', 1, text);

async function diagnostics(value: unknown): Promise<{ list: Diagnostic[]; text: string }> {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return { list: await (await language()).validate(doc(text), { syntax: true }), text };
}

/** A recipe file with one recipe `s` (a small, valid one unless `body` changes it). */
function file(body: Record<string, unknown>): Record<string, unknown> {
  return {
    train: {
      s: {
        command: ['python3', 'train.py', '--out', '${output}', '--lr', '${param:lr}'],
        baseArgs: ['--base', '${base}'],
        params: { lr: 0.01, epochs: 2 },
        ...body,
      },
    },
  };
}

/** Completion at the `|` in `text`. */
async function completeAt(textWithCursor: string): Promise<CompletionItem[]> {
  const offset = textWithCursor.indexOf('|');
  const d = doc(textWithCursor.replace('|', ''));
  return (await (await language()).complete(d, d.positionAt(offset))).items;
}

const msg = (d: Diagnostic) => (typeof d.message === 'string' ? d.message : d.message.value);
const messages = (list: Diagnostic[]) => list.map(msg);

describe('modelreg.json language', () => {
  it('handles files named modelreg.json only', () => {
    assert.ok(isRecipeDocument('file:///work/ws/modelreg.json'));
    assert.ok(isRecipeDocument('file:///work/ws/sub%20dir/modelreg.json'));
    assert.ok(!isRecipeDocument('file:///work/ws/config.json'));
    assert.ok(!isRecipeDocument('file:///work/ws/my-modelreg.json'));
    assert.ok(!isRecipeDocument('untitled:modelreg.json'));
  });

  it('a valid recipe (the starter, the issue example) has no diagnostics', async () => {
    assert.deepEqual(messages((await diagnostics(starterRecipeFile({ name: 'sentiment' }))).list), []);
    assert.deepEqual(
      messages((await diagnostics(file({ output: 'outputs/${param:lr}', env: { A: '${run}' } }))).list),
      [],
    );
  });

  it('reports from the schema: a missing command, unknown keys, wrong types', async () => {
    const { list, text } = await diagnostics(
      file({ command: undefined, args: ['x'], params: { lr: [1] }, env: { N: 1 }, model: 'a b' }),
    );
    const found = (pattern: RegExp) => list.find((d) => pattern.test(msg(d)));
    assert.ok(found(/Missing property "command"/), JSON.stringify(messages(list)));
    assert.ok(found(/Property args is not allowed/), JSON.stringify(messages(list)));
    assert.ok(found(/Incorrect type\. Expected one of number, string, boolean/), JSON.stringify(messages(list)));
    assert.ok(found(/Incorrect type\. Expected "string"/), JSON.stringify(messages(list)));
    assert.ok(found(/A model name starts with a letter or digit/), JSON.stringify(messages(list)));
    const args = found(/Property args/)!;
    assert.equal(args.range.start.line + 1, text.split('\n').findIndex((l) => l.includes('"args"')) + 1);
    assert.ok(list.every((d) => d.source === 'Model Registry'));
  });

  it("reports recipe.ts's placeholder checks in the CLI's words, on the placeholder itself", async () => {
    const { list, text } = await diagnostics(
      file({
        command: ['python3', 'train.py', '--lr=${param:lrr}', '--base', '${base}'],
        env: { X: '${nope}' },
        output: '../outside/${run}',
      }),
    );
    const lines = text.split('\n');
    const at = (d: Diagnostic) => lines[d.range.start.line].slice(d.range.start.character, d.range.end.character);
    const byCode = (code: string) => list.filter((d) => d.code === code);
    const [unknownParam, unknownName] = byCode('placeholder');
    assert.equal(msg(unknownParam), "recipe 's': command: ${param:lrr} names no parameter (params: lr, epochs)");
    assert.equal(at(unknownParam), '${param:lrr}');
    assert.match(msg(unknownName), /^recipe 's': env\.X: \$\{nope\} is not a placeholder/);
    assert.equal(at(unknownName), '${nope}');
    const [base] = byCode('base-outside-baseArgs');
    assert.match(msg(base), /^recipe 's': command: \$\{base\} has a value only when training from a base version/);
    assert.equal(at(base), '${base}');
    assert.equal(byCode('output-outside-root').length, 1);
    assert.equal(list.length, 4, JSON.stringify(messages(list)));

    // The CLI refuses the same file with the first of them.
    assert.throws(() => parseRecipes(text, 'modelreg.json'), { message: `modelreg.json: ${msg(unknownParam)}` });
  });

  it('a parameter with a bad default is still a parameter: ${param:lr} is not reported too', async () => {
    const { list } = await diagnostics(file({ params: { lr: null } }));
    assert.equal(list.length, 1, JSON.stringify(messages(list)));
    assert.match(msg(list[0]), /Incorrect type/);
  });

  it('agrees with the CLI on what is a valid file', async () => {
    const variants: [string, Record<string, unknown>][] = [
      ['empty command', file({ command: [] })],
      ['empty program', file({ command: [''] })],
      ['command a string', file({ command: 'python3 train.py' })],
      ['baseArgs a string', file({ baseArgs: '--base' })],
      ['param without default', file({ params: { lr: null } })],
      ['param name with a space', file({ params: { 'l r': 1 } })],
      ['output empty', file({ output: '' })],
      ['model name', file({ model: '-x' })],
      ['env number', file({ env: { A: 1 } })],
      ['env name', file({ env: { '1A': 'x' } })],
      ['metric empty', file({ metric: '' })],
      ['unknown key', file({ cmd: ['x'] })],
      ['recipe name', { train: { 'a/b': { command: ['x'] } } }],
      ['recipe not an object', { train: { a: ['x'] } }],
      ['no train', { recipes: {} }],
      ['train a list', { train: [] }],
    ];
    for (const [what, value] of variants) {
      const text = JSON.stringify(value);
      assert.throws(() => parseRecipes(text, 'modelreg.json'), InputError, `the CLI refuses: ${what}`);
      assert.ok((await diagnostics(text)).list.length > 0, `the editor reports: ${what}`);
    }
    const fine = file({ metric: 'eval_accuracy', model: 'm.v2', env: { _A: 'x' }, output: 'out/${run}-${param:lr}' });
    assert.doesNotThrow(() => parseRecipes(JSON.stringify(fine), 'modelreg.json'));
    assert.deepEqual(messages((await diagnostics(fine)).list), []);
  });

  it('a file nested too deeply gets one diagnostic and is not parsed further', async () => {
    const { list } = await diagnostics(`{"train": ${'['.repeat(200)}${']'.repeat(200)}}`);
    assert.equal(list.length, 1);
    assert.match(
      msg(list[0]),
      /nested more than 128 levels deep; it is not checked\. A recipe file needs only a few levels/,
    );
  });

  it('modelreg validate prints the same diagnostics, and exits 1; 0 on a valid file', async () => {
    const ws = tempDir('modelreg-recipe-validate-');
    const text = JSON.stringify(file({ command: ['python3', '${param:lrr}'], cmd: 1 }), null, 2);
    writeFileSync(path.join(ws, 'modelreg.json'), text);
    const run = () => spawnSync(process.execPath, [CLI_JS, 'validate', 'modelreg.json'], { cwd: ws, encoding: 'utf8' });
    const bad = run();
    assert.equal(bad.status, 1, bad.stderr);
    const expected = (await diagnostics(text)).list.map(
      (d) => `modelreg.json:${d.range.start.line + 1}:${d.range.start.character + 1}: error: ${msg(d)}`,
    );
    assert.equal(expected.length, 2);
    assert.deepEqual(bad.stdout.trim().split('\n').sort(), expected.sort());
    writeFileSync(path.join(ws, 'modelreg.json'), starterRecipeFile());
    const ok = run();
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /modelreg\.json: no errors/);
  });

  describe('completion', () => {
    it("after ${param: proposes the recipe's parameters, closing the placeholder", async () => {
      const text = '{"train": {"s": {"command": ["python3", "--lr=${param:|"], "params": {"lr": 1, "epochs": 2}}}}';
      const items = await completeAt(text);
      assert.deepEqual(
        items.map((i) => i.label),
        ['lr', 'epochs'],
      );
      const edit = items[0].textEdit as { newText: string };
      assert.equal(edit.newText, 'lr}');
    });

    it('after ${ proposes the placeholders that may stand there', async () => {
      const labels = async (text: string) => (await completeAt(text)).map((i) => i.label);
      assert.deepEqual(await labels('{"train": {"s": {"command": ["x", "${|"]}}}'), ['output', 'run', 'param:']);
      assert.deepEqual(await labels('{"train": {"s": {"command": ["x"], "baseArgs": ["${|}"]}}}'), [
        'output',
        'run',
        'base',
        'param:',
      ]);
      assert.deepEqual(await labels('{"train": {"s": {"command": ["x"], "output": "o/${r|"}}}'), ['run', 'param:']);
      assert.deepEqual(await labels('{"train": {"s": {"command": ["x"], "env": {"A": "${|"}}}}'), [
        'output',
        'run',
        'param:',
      ]);
      const closed = (await completeAt('{"train": {"s": {"command": ["x", "${ou|}"]}}}'))[0].textEdit as {
        newText: string;
      };
      assert.equal(closed.newText, 'output', 'no second } when one follows');
    });

    it('elsewhere, the schema: the keys of a recipe with their defaults', async () => {
      const items = await completeAt('{"train": {"s": {"command": ["x"], |}}}');
      const labels = items.map((i) => i.label);
      for (const key of ['baseArgs', 'params', 'output', 'model', 'env', 'metric'])
        assert.ok(labels.includes(key), `${key} in ${labels}`);
      assert.ok(!labels.includes('command'), 'a key already there is not proposed');
      assert.match(items.find((i) => i.label === 'output')!.insertText!, /outputs\/\\\$\{run\\\}/);
      // A string that takes no placeholders (the recipe's model) gets no placeholder list.
      assert.ok(
        !(await completeAt('{"train": {"s": {"command": ["x"], "model": "${|"}}}')).some((i) => i.label === 'run'),
      );
    });
  });
});

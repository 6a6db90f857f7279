/**
 * Training recipes: the `train` section of a workspace's `modelreg.json`, read, checked and expanded
 * into the command line of one run. The CLI, the extension and the language server (recipeLanguage.ts)
 * all check a recipe here, so each refuses a file with the same words.
 */
import { existsSync } from 'fs';
import * as path from 'path';
import { InputError } from '../errors';
import { MODEL_NAME } from '../registry/rows';
import { parseJsonBounded } from '../util/json';
import { isInside, realPathWithin, realPathWithinSync } from '../util/paths';
import { readRegularText } from '../util/readFile';

export const RECIPE_FILE = 'modelreg.json';

import type { ParamValue } from '../registry/runTypes';

export type { ParamValue };

export interface Recipe {
  /** The key under "train". */
  name: string;
  /** Raw, with placeholders. */
  command: string[];
  /** Raw; appended only when there is a base version. */
  baseArgs: string[];
  /** Defaults. */
  params: Record<string, ParamValue>;
  /** Raw, default "outputs/${run}". */
  output: string;
  /** Default: the recipe's name. */
  model: string;
  /** Raw values, placeholders allowed. */
  env: Record<string, string>;
  /** The recipe's main metric (optional key "metric"), e.g. "eval_accuracy". */
  metric?: string;
}

export interface RecipeFile {
  file: string;
  root: string;
  recipes: Recipe[];
}

export const DEFAULT_OUTPUT = 'outputs/${run}';

/** The keys a recipe may have, in the order the docs and messages list them. */
export const RECIPE_KEYS = ['command', 'baseArgs', 'params', 'output', 'model', 'env', 'metric'] as const;

/** A recipe file is a few recipes written by hand; one this big is not one. */
const MAX_RECIPE_FILE_BYTES = 1024 * 1024;

/** Parameter names: what `-p key=value`, `--sweep key=a,b` and `${param:NAME}` can spell. */
const PARAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** Environment variable names a process can be given on every platform. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** More runs than this from one `train` is a typo in a sweep, not a plan. */
export const MAX_GRID_RUNS = 1000;

/** Which check found a problem. `shape` problems are the ones modelreg.schema.json also reports. */
export type RecipeCheck = 'shape' | 'placeholder' | 'base-outside-baseArgs' | 'output-outside-root';

/** One problem of a recipe file, located by its JSON path (for the editor) and worded for people. */
export interface RecipeProblem {
  /** JSON path of the value at fault, e.g. ['train', 'sentiment', 'command', 3]. */
  path: (string | number)[];
  code: RecipeCheck;
  /** The problem after the file name: "recipe 'sentiment': command: ${param:lrr} names no parameter (params: lr, epochs)". */
  message: string;
  /** The placeholder at fault, as written in the string, when the problem is one. */
  placeholder?: string;
}

/**
 * Reads <root>/modelreg.json (a regular file inside root, size-limited) and checks every recipe.
 * Throws InputError naming the file, the recipe and the key.
 */
export async function loadRecipes(root: string): Promise<RecipeFile> {
  const { file, text } = await readRecipeText(root);
  return { file, root: path.dirname(file), recipes: parseRecipes(text, file) };
}

/** The text of <root>/modelreg.json, read as loadRecipes reads it (`modelreg validate` checks it all). */
export async function readRecipeText(root: string): Promise<{ file: string; text: string }> {
  const dir = path.resolve(root);
  const file = path.join(dir, RECIPE_FILE);
  // A modelreg.json linked out of the repository is not the repository's recipe.
  const real = await realPathWithin(file, dir).catch((e: unknown) => {
    if (e instanceof InputError && !existsSync(file))
      throw new InputError(file, `no such file; a ${RECIPE_FILE} with a "train" section holds the training recipes`);
    throw e;
  });
  return { file, text: await readRegularText(real, { maxBytes: MAX_RECIPE_FILE_BYTES, name: file }) };
}

/** The recipes of a modelreg.json text, with the checks of loadRecipes; `file` names it in errors. */
export function parseRecipes(text: string, file: string): Recipe[] {
  // Two recipes with one name would silently be one: JSON.parse keeps the last.
  const value = parseJsonBounded(text, file, { uniqueKeys: true });
  const { recipes, problems } = checkRecipes(value);
  if (problems.length) throw new InputError(file, problems[0].message);
  return recipes;
}

/** The recipe called `name`; InputError listing the names there are. */
export function findRecipe(file: RecipeFile, name: string): Recipe {
  const recipe = file.recipes.find((r) => r.name === name);
  if (recipe) return recipe;
  const names = file.recipes.map((r) => r.name);
  throw new InputError(
    file.file,
    `no recipe ${shown(name)} under "train" (${names.length ? `recipes: ${names.join(', ')}` : 'it has no recipes'})`,
  );
}

/**
 * Every problem of a parsed modelreg.json, and the recipes that have none. The editor shows them all;
 * parseRecipes refuses the file with the first.
 */
export function checkRecipes(value: unknown): { recipes: Recipe[]; problems: RecipeProblem[] } {
  const problems: RecipeProblem[] = [];
  const recipes: Recipe[] = [];
  if (!isObject(value)) {
    problems.push({ path: [], code: 'shape', message: 'must hold a JSON object with a "train" section of recipes' });
    return { recipes, problems };
  }
  if (value.train === undefined) {
    problems.push({
      path: [],
      code: 'shape',
      message:
        'train: missing; it holds the recipes by name, e.g. {"train": {"my-model": {"command": ["python3", "train.py"]}}}',
    });
  } else if (!isObject(value.train)) {
    problems.push({ path: ['train'], code: 'shape', message: 'train: must be an object of recipes by name' });
  } else {
    for (const [name, body] of Object.entries(value.train)) {
      const before = problems.length;
      const recipe = checkRecipe(name, body, problems);
      if (recipe && problems.length === before) recipes.push(recipe);
    }
  }
  return { recipes, problems };
}

function checkRecipe(name: string, body: unknown, problems: RecipeProblem[]): Recipe | undefined {
  const at = (key: string, ...rest: (string | number)[]) => ['train', name, key, ...rest];
  const fail = (
    where: (string | number)[],
    key: string,
    problem: string,
    code: RecipeCheck = 'shape',
    placeholder?: string,
  ) => problems.push({ path: where, code, message: `recipe ${shown(name)}: ${key}: ${problem}`, placeholder });
  if (!MODEL_NAME.test(name))
    problems.push({
      path: ['train', name],
      code: 'shape',
      message: `recipe ${shown(name)}: its name must start with a letter or digit and hold only letters, digits, '.', '_' or '-' (at most 128): it is the model's name unless "model" says otherwise, and part of each run's id`,
    });
  if (!isObject(body)) {
    problems.push({
      path: ['train', name],
      code: 'shape',
      message: `recipe ${shown(name)}: must be an object with a "command", e.g. {"command": ["python3", "train.py", "--out", "\${output}"]}`,
    });
    return undefined;
  }
  for (const key of Object.keys(body))
    if (!(RECIPE_KEYS as readonly string[]).includes(key))
      fail(at(key), plain(key), `unknown key (a recipe has ${RECIPE_KEYS.join(', ')})`);

  const strings = (key: 'command' | 'baseArgs'): string[] => {
    const v = body[key];
    if (v === undefined) {
      if (key === 'command')
        fail(
          at(key),
          key,
          'missing; the program and its arguments, e.g. ["python3", "train.py", "--out", "${output}"]',
        );
      return [];
    }
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
      fail(at(key), key, `must be a list of strings (got ${typeName(v)})`);
      return [];
    }
    if (key === 'command' && (v.length === 0 || v[0] === ''))
      fail(
        at(key),
        key,
        v.length ? 'the program (its first item) is empty' : 'is empty; it needs at least the program to run',
      );
    return v as string[];
  };
  const command = strings('command');
  const baseArgs = strings('baseArgs');

  const params: Record<string, ParamValue> = {};
  if (body.params !== undefined) {
    if (!isObject(body.params))
      fail(at('params'), 'params', `must be an object of parameter defaults (got ${typeName(body.params)})`);
    else
      for (const [key, v] of Object.entries(body.params)) {
        if (!PARAM_NAME.test(key))
          fail(at('params', key), `params.${plain(key)}`, "is not a parameter name: letters, digits, '_', '.' or '-'");
        else if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))
          params[key] = v;
        else
          fail(
            at('params', key),
            `params.${key}`,
            `${v === null ? 'has no default' : `is ${typeName(v)}`}; a parameter's default is a number, a string or true/false (it also sets how -p ${key}=VALUE is read)`,
          );
      }
  }

  const text = (key: 'output' | 'model' | 'metric'): string | undefined => {
    const v = body[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') {
      fail(at(key), key, `must be a non-empty string (got ${typeName(v)})`);
      return undefined;
    }
    return v;
  };
  const output = text('output') ?? DEFAULT_OUTPUT;
  const model = text('model') ?? name;
  const metric = text('metric');
  if (body.model !== undefined && typeof body.model === 'string' && body.model && !MODEL_NAME.test(body.model))
    fail(
      at('model'),
      'model',
      `${plain(body.model)} is not a model name: letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );

  const env: Record<string, string> = {};
  if (body.env !== undefined) {
    if (!isObject(body.env))
      fail(at('env'), 'env', `must be an object of variable names to strings (got ${typeName(body.env)})`);
    else
      for (const [key, v] of Object.entries(body.env)) {
        if (!ENV_NAME.test(key))
          fail(
            at('env', key),
            `env.${plain(key)}`,
            "is not a variable name: letters, digits and '_', not starting with a digit",
          );
        else if (typeof v !== 'string')
          fail(
            at('env', key),
            `env.${key}`,
            `must be a string (got ${typeName(v)}); write numbers in quotes, e.g. "1"`,
          );
        else env[key] = v;
      }
  }

  // Placeholders: each string is checked where it is used, since what it may name depends on the key.
  // A parameter with a bad default is still declared (its own problem is reported); with no params
  // object to read, names in ${param:...} are not judged.
  const paramNames = isObject(body.params) ? Object.keys(body.params) : body.params === undefined ? [] : undefined;
  const checkText = (
    s: string,
    where: (string | number)[],
    key: string,
    allowed: { base: boolean; output: boolean },
  ) => {
    for (const p of placeholderProblems(s, paramNames, allowed)) fail(where, key, p.problem, p.code, p.placeholder);
  };
  command.forEach((s, i) => checkText(s, at('command', i), 'command', { base: false, output: true }));
  baseArgs.forEach((s, i) => checkText(s, at('baseArgs', i), 'baseArgs', { base: true, output: true }));
  for (const [k, v] of Object.entries(env)) checkText(v, at('env', k), `env.${k}`, { base: false, output: true });
  if (body.output !== undefined && typeof body.output === 'string') {
    checkText(output, at('output'), 'output', { base: false, output: false });
    // Placeholders stand for single names here (a run id, a parameter), so a path that leaves the
    // folder without them leaves it with them too; expandRecipe checks the real values.
    const lexical = output.replace(PLACEHOLDER, 'x').replace(/\\/g, '/');
    const rel = path.posix.relative('/r', path.posix.resolve('/r', lexical));
    if (rel === '' || rel === '..' || rel.startsWith('../') || path.win32.isAbsolute(output))
      fail(
        at('output'),
        'output',
        `${plain(output)} must be a folder inside the folder of ${RECIPE_FILE}, such as ${DEFAULT_OUTPUT}`,
        'output-outside-root',
      );
  }

  return { name, command, baseArgs, params, output, model, env, ...(metric !== undefined ? { metric } : {}) };
}

/** `${...}` in a string; an unclosed `${` matches with an empty group 2 so it is reported too. */
const PLACEHOLDER = /\$\{([^}]*)(\})|\$\{([^}]*)$/g;

/** The placeholders of one string that are not allowed where it is used. */
function placeholderProblems(
  s: string,
  params: string[] | undefined,
  allowed: { base: boolean; output: boolean },
): { problem: string; code: RecipeCheck; placeholder: string }[] {
  const out: { problem: string; code: RecipeCheck; placeholder: string }[] = [];
  for (const m of s.matchAll(PLACEHOLDER)) {
    const written = m[0];
    const inner = m[2] ? m[1] : m[3];
    const bad = (problem: string, code: RecipeCheck = 'placeholder') =>
      out.push({ problem, code, placeholder: written });
    if (!m[2]) bad(`${plain(written)} is not closed: a placeholder ends with '}'`);
    else if (inner === 'base') {
      if (!allowed.base)
        bad(
          '${base} has a value only when training from a base version; use it in baseArgs, which are left out when training from scratch',
          'base-outside-baseArgs',
        );
    } else if (inner === 'output') {
      if (!allowed.output) bad('${output} is this folder itself; it cannot be part of its own name');
    } else if (inner === 'run') {
      // always known
    } else if (inner.startsWith('param:')) {
      const name = inner.slice('param:'.length);
      if (params && !params.includes(name))
        bad(
          `${plain(written)} names no parameter (${params.length ? `params: ${params.join(', ')}` : 'the recipe has no params'})`,
        );
    } else bad(`${plain(written)} is not a placeholder (there are \${base}, \${output}, \${run} and \${param:NAME})`);
  }
  return out;
}

/** `-p key=value` overrides, typed by the default's type (number/boolean/string); unknown key → InputError naming the recipe and key. */
export function parseOverrides(recipe: Recipe, pairs: string[]): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const pair of pairs) {
    const { key, raw } = splitPair(recipe, pair, '-p');
    if (key in out) throw recipeError(recipe, `-p ${key}`, 'is given twice');
    out[key] = typed(recipe, key, raw, `-p ${key}`);
  }
  return out;
}

/**
 * `--sweep key=a,b,c` (repeatable) → the grid: every combination of the swept values (the first
 * sweep varies slowest), each with the overrides. No sweeps: the overrides alone, one run.
 */
export function sweepGrid(
  recipe: Recipe,
  overrides: Record<string, ParamValue>,
  sweeps: string[],
): Record<string, ParamValue>[] {
  let grid: Record<string, ParamValue>[] = [{ ...overrides }];
  const swept = new Set<string>();
  for (const sweep of sweeps) {
    const { key, raw } = splitPair(recipe, sweep, '--sweep');
    const where = `--sweep ${key}`;
    if (key in overrides) throw recipeError(recipe, where, `is also set with -p ${key}; give it one way`);
    if (swept.has(key)) throw recipeError(recipe, where, 'is swept twice; list all its values in one --sweep');
    swept.add(key);
    const parts = raw.split(',');
    if (parts.some((p) => p === ''))
      throw recipeError(recipe, where, `has an empty value in ${shown(raw)}; separate values with single commas`);
    const values = parts.map((p) => typed(recipe, key, p, where));
    const dup = values.find((v, i) => values.indexOf(v) !== i);
    if (dup !== undefined) throw recipeError(recipe, where, `lists ${String(dup)} twice`);
    if (grid.length * values.length > MAX_GRID_RUNS)
      throw recipeError(
        recipe,
        where,
        `makes more than ${MAX_GRID_RUNS} runs (${grid.length * values.length} so far); sweep fewer values`,
      );
    grid = grid.flatMap((set) => values.map((v) => ({ ...set, [key]: v })));
  }
  return grid;
}

export interface ExpandedRun {
  /** command (+ baseArgs when base) with every placeholder replaced. */
  argv: string[];
  env: Record<string, string>;
  /** Absolute, inside root (refused otherwise, InputError). */
  output: string;
  /** Final values. */
  params: Record<string, ParamValue>;
  /** Keys whose value came from overrides. */
  overridden: string[];
}

/**
 * One run's command line, environment and output folder. Placeholders: ${base} (baseArgs only, and
 * baseArgs only with a base), ${output}, ${run}, ${param:NAME}. Unknown → InputError with recipe name and key.
 */
export function expandRecipe(
  recipe: Recipe,
  root: string,
  ctx: { run: string; base?: string; overrides: Record<string, ParamValue> },
): ExpandedRun {
  const dir = path.resolve(root);
  for (const [key, v] of Object.entries(ctx.overrides)) {
    if (!(key in recipe.params)) throw unknownParam(recipe, plain(key));
    if (typeof v !== typeof recipe.params[key])
      throw recipeError(
        recipe,
        key,
        `override ${shown(String(v))} is ${typeof v}, the default is ${typeof recipe.params[key]}`,
      );
  }
  const params = { ...recipe.params, ...ctx.overrides };
  const overridden = Object.keys(recipe.params).filter((k) => k in ctx.overrides);
  const names = Object.keys(params);
  const expand = (s: string, key: string, values: { output?: string; base?: string }) => {
    const problem = placeholderProblems(s, names, {
      base: values.base !== undefined,
      output: values.output !== undefined,
    })[0];
    if (problem) throw recipeError(recipe, key, problem.problem);
    return s.replace(PLACEHOLDER, (_, inner: string) => {
      if (inner === 'base') return values.base!;
      if (inner === 'output') return values.output!;
      if (inner === 'run') return ctx.run;
      return String(params[inner.slice('param:'.length)]);
    });
  };

  const relative = expand(recipe.output, 'output', {});
  const output = path.resolve(dir, relative);
  if (!isInside(dir, output) || output === dir)
    throw recipeError(recipe, 'output', `${shown(relative)} is not a folder inside ${dir}`);
  // The folder may not exist yet; what exists of it below root must not be a link out of root.
  let existing = output;
  while (existing !== dir && !existsSync(existing)) existing = path.dirname(existing);
  if (existing !== dir) {
    try {
      realPathWithinSync(existing, dir);
    } catch (e) {
      if (e instanceof InputError) throw recipeError(recipe, 'output', `${shown(relative)}: ${e.message}`);
      throw e;
    }
  }

  const values = { output, base: ctx.base };
  const argv = [
    ...recipe.command.map((s) => expand(s, 'command', { output })),
    ...(ctx.base !== undefined ? recipe.baseArgs.map((s) => expand(s, 'baseArgs', values)) : []),
  ];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(recipe.env)) env[k] = expand(v, `env.${k}`, { output });
  return { argv, env, output, params, overridden };
}

/** Interpreters for a starter recipe, by the script's extension; anything else runs as a program. */
const INTERPRETERS: Record<string, string> = {
  '.py': 'python3',
  '.js': 'node',
  '.mjs': 'node',
  '.cjs': 'node',
  '.sh': 'bash',
};

/** A starter modelreg.json text (for "create modelreg.json"), for a given script. */
export function starterRecipeFile(opts: { name?: string; script?: string } = {}): string {
  const name = opts.name ?? 'model';
  const script = opts.script ?? 'train.py';
  if (!MODEL_NAME.test(name))
    throw new InputError(
      RECIPE_FILE,
      `recipe ${shown(name)}: its name must start with a letter or digit and hold only letters, digits, '.', '_' or '-'`,
    );
  const interpreter = INTERPRETERS[path.extname(script).toLowerCase()];
  const command = [...(interpreter ? [interpreter] : []), script];
  const list = (items: string[]) => `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;
  return [
    '{',
    '  "train": {',
    `    ${JSON.stringify(name)}: {`,
    `      "command": ${list([...command, '--out', '${output}', '--lr', '${param:lr}', '--epochs', '${param:epochs}'])},`,
    `      "baseArgs": ${list(['--base', '${base}'])},`,
    '      "params": { "lr": 0.001, "epochs": 3 },',
    `      "output": ${JSON.stringify(DEFAULT_OUTPUT)},`,
    '      "env": { "PYTHONUNBUFFERED": "1" }',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

function splitPair(recipe: Recipe, pair: string, flag: string): { key: string; raw: string } {
  const eq = pair.indexOf('=');
  if (eq <= 0)
    throw recipeError(recipe, `${flag} ${plain(pair)}`, `expected KEY=VALUE${flag === '--sweep' ? ',VALUE...' : ''}`);
  const key = pair.slice(0, eq);
  if (!(key in recipe.params)) throw unknownParam(recipe, `${flag} ${plain(key)}`);
  return { key, raw: pair.slice(eq + 1) };
}

/** A value from the command line, read as the type of the parameter's default. */
function typed(recipe: Recipe, key: string, raw: string, where: string): ParamValue {
  const def = recipe.params[key];
  if (typeof def === 'number') {
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(n)) throw recipeError(recipe, where, `${shown(raw)} is not a number (the default is ${def})`);
    return n;
  }
  if (typeof def === 'boolean') {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw recipeError(recipe, where, `${shown(raw)} is not true or false (the default is ${def})`);
  }
  return raw;
}

function unknownParam(recipe: Recipe, where: string): InputError {
  const names = Object.keys(recipe.params);
  return recipeError(
    recipe,
    where,
    `is not a parameter of this recipe (${names.length ? `params: ${names.join(', ')}` : 'it has no params'})`,
  );
}

function recipeError(recipe: Recipe, key: string, problem: string): InputError {
  return new InputError(RECIPE_FILE, `recipe ${shown(recipe.name)}: ${key}: ${problem}`);
}

/** Text from the file or the command line in a message: as written, or escaped when it holds anything but printable ASCII. */
function plain(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) ? s : JSON.stringify(s);
}

/** A name from the file in a message: quoted, and escaped when it holds anything but plain printable text. */
function shown(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) && !s.includes("'") ? `'${s}'` : JSON.stringify(s);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return v === '' ? 'an empty string' : 'a string';
  return `a ${typeof v}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

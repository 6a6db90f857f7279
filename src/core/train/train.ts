/**
 * Training from a recipe, the way the CLI and the extension start it: read modelreg.json, resolve
 * the base version, expand the recipe once per point of the sweep grid, queue the runs.
 */
import * as path from 'path';
import { InputError, RegistryError } from '../errors';
import { checkCommitId, findRepository, runGit } from '../git/git';
import { Registry } from '../registry/registry';
import { ParamValue, RunRecord } from '../registry/runTypes';
import { VersionRecord } from '../registry/types';
import { expandRecipe, findRecipe, loadRecipes, parseOverrides, Recipe, RECIPE_FILE, sweepGrid } from './recipe';
import { baseFolder, newRunId, PlannedRun, startTraining } from './runs';

export interface TrainOptions {
  /** The folder holding modelreg.json. */
  root: string;
  recipe: string;
  /** The base version's reference (`sentiment@production`); without it, training starts from scratch. */
  base?: string;
  /** `key=value` overrides (-p). */
  overrides?: string[];
  /** `key=a,b,c` sweeps (--sweep): the grid of their values. */
  sweeps?: string[];
  jobs?: number;
  devices?: string[];
  /** Queue: start only once the runs of other batches now running have ended (one machine, one GPU). */
  queue?: boolean;
  details?: Record<string, unknown>;
}

/** Queues the recipe's runs and starts their runner; bad input throws before anything is queued. */
export async function train(registry: Registry, opts: TrainOptions): Promise<{ batch: string; runs: RunRecord[] }> {
  const file = await loadRecipes(opts.root);
  const recipe = findRecipe(file, opts.recipe);
  const base = opts.base ? await registry.resolve(opts.base) : null;
  if (base && base.status !== 'ready')
    throw new RegistryError(`${base.ref} is not ready (${base.status}): it cannot be a base`);
  const runs = planRuns(registry, recipe, file.root, {
    base,
    overrides: parseOverrides(recipe, opts.overrides ?? []),
    sweeps: opts.sweeps ?? [],
  });
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new InputError(file.file, `--jobs ${jobs}: give a whole number of at least 1`);
  return startTraining(registry, {
    recipe: { name: recipe.name, model: recipe.model, metric: recipe.metric },
    root: file.root,
    base,
    runs,
    jobs,
    devices: opts.devices,
    details: { ...opts.details, ...(opts.queue ? { queue: 'after-running' } : {}) },
  });
}

/** One run per point of the grid; refused when two of them would write to one output folder. */
export function planRuns(
  registry: Registry,
  recipe: Recipe,
  root: string,
  opts: { base: VersionRecord | null; overrides: Record<string, ParamValue>; sweeps: string[] },
): PlannedRun[] {
  const runs = sweepGrid(recipe, opts.overrides, opts.sweeps).map((overrides) => {
    const id = newRunId(recipe.name);
    const base = opts.base ? baseFolder(registry, id) : undefined;
    return { id, ...expandRecipe(recipe, root, { run: id, base, overrides }) };
  });
  const outputs = new Set(runs.map((r) => r.output));
  if (outputs.size < runs.length)
    throw new InputError(
      path.join(root, RECIPE_FILE),
      `recipe '${recipe.name}': output: the ${runs.length} runs of the sweep would share ${runs[0].output}; put \${run} in it`,
    );
  return runs;
}

/** What a version trained here recorded of its run (details.training). */
export interface TrainingFacts {
  run: string;
  recipe: string;
  root: string;
  params: Record<string, ParamValue>;
  overridden: string[];
  argv: string[];
  exitCode: number | null;
  durationMs: number;
  commit: string | null;
  dirty: boolean | null;
  diff: string | null;
  log: string;
  rerunOf?: string;
}

export function trainingOf(v: VersionRecord): TrainingFacts | undefined {
  const t = v.details.training;
  return t && typeof t === 'object' && typeof (t as TrainingFacts).recipe === 'string'
    ? (t as TrainingFacts)
    : undefined;
}

/** One line on how a version was trained (`modelreg show`, the tree's Source group). */
export function describeTraining(t: TrainingFacts): string {
  const set = t.overridden.map((k) => `${k}=${String(t.params[k])}`).join(' ');
  return [
    `recipe ${t.recipe}${set ? ` (${set})` : ''}, run ${t.run}, exit ${t.exitCode} after ${(t.durationMs / 1000).toFixed(1)} s`,
    ...(t.diff ? ['on uncommitted changes (diff stored)'] : []),
    ...(t.rerunOf ? [`a re-run of ${t.rerunOf}`] : []),
  ].join(', ');
}

/**
 * Re-run Training: the version's recipe and parameters again, on a git worktree at its commit with
 * its stored diff applied, from the same base. The worktree is in the run's folder of the registry,
 * so the user's checkout is left as it is.
 */
export async function rerunVersion(registry: Registry, ref: string): Promise<{ batch: string; runs: RunRecord[] }> {
  const v = await registry.resolve(ref);
  const t = trainingOf(v);
  if (!t) throw new RegistryError(`${v.ref} was not trained with a recipe here, so there is nothing to re-run`);
  if (!t.commit)
    throw new RegistryError(`${v.ref} was trained outside a git repository: its code cannot be checked out again`);
  checkCommitId(t.commit);
  const repo = await findRepository(t.root);
  if (!repo) throw new RegistryError(`${v.ref} was trained in ${t.root}, which is no longer a git repository`);
  const code = path.join(registry.dir, 'runs', `code-${newRunId(t.recipe)}`);
  await runGit(repo, ['worktree', 'add', '--detach', '--quiet', code, t.commit]).catch((e: Error) => {
    throw new RegistryError(`cannot check out ${t.commit} of ${repo.workTree} to re-run ${v.ref}: ${e.message}`);
  });
  if (t.diff) {
    const worktree = (await findRepository(code))!;
    // -C: apply takes the patch's paths from the current folder.
    await runGit(worktree, [
      '-C',
      code,
      'apply',
      '--binary',
      '--whitespace=nowarn',
      registry.store.objectPath(t.diff),
    ]).catch(async (e: Error) => {
      await runGit(repo, ['worktree', 'remove', '--force', code]).catch(() => undefined);
      throw new RegistryError(`cannot apply the uncommitted changes ${v.ref} was trained with: ${e.message}`);
    });
  }
  const root = path.join(code, path.relative(repo.workTree, t.root));
  const file = await loadRecipes(root);
  const recipe = findRecipe(file, t.recipe);
  const base =
    v.parentId !== null && v.parentKind === 'train' ? ((await registry.getVersionById(v.parentId)) ?? null) : null;
  const overrides = Object.fromEntries(t.overridden.filter((k) => k in recipe.params).map((k) => [k, t.params[k]]));
  const runs = planRuns(registry, recipe, file.root, { base, overrides, sweeps: [] });
  return startTraining(registry, {
    recipe: { name: recipe.name, model: recipe.model, metric: recipe.metric },
    root: file.root,
    base,
    runs,
    jobs: 1,
    details: { rerunOf: v.ref, worktree: code },
  });
}

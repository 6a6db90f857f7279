import { existsSync } from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  DEFAULT_STOP_GRACE_MS,
  isActiveStatus,
  loadRecipes,
  MODEL_NAME,
  parseOverrides,
  readableRunOutput,
  Recipe,
  RECIPE_FILE,
  RegistryError,
  rerunVersion,
  retryRun,
  RunRecord,
  starterRecipeFile,
  stopRun,
  train,
  trainingOf,
  VersionRecord,
} from '../../core';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand, runCommand } from '../commands/register';
import { ComparePanel } from '../compare/comparePanel';
import { log, showError } from '../errors';
import { revealVersion } from '../importing/importCommands';
import { CommandTargets } from '../registry/registries';
import { RunLogTerminal } from './runLog';
import { overridesText, runEndMessage } from './runRows';
import { RunsTreeProvider, workspaceFolderPaths } from './runsTree';

export const RUN_TASK_TYPE = 'modelreg-run';

/** What Train New Version… was given instead of asking (tests, keybindings). */
interface TrainArgs {
  fromScratch?: boolean;
  recipe?: string;
  /** `key=value` (as -p). */
  overrides?: string[];
  /** `key=a,b` (as --sweep). */
  sweeps?: string[];
  jobs?: number;
  queue?: boolean;
}

export interface Training {
  tree: RunsTreeProvider;
  view: vscode.TreeView<RunRecord>;
}

function settings() {
  const c = vscode.workspace.getConfiguration('modelRegistry');
  return {
    graceMs: (c.get<number>('train.stopGraceSeconds') ?? DEFAULT_STOP_GRACE_MS / 1000) * 1000,
    devices: (c.get<string[]>('train.devices') ?? []).map(String).filter((d) => d.trim() !== ''),
  };
}

/** Running a recipe runs a program of the workspace: only once the user trusts it. */
async function refuseUntrusted(what: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return false;
  const manage = 'Manage Workspace Trust';
  const c = await vscode.window.showErrorMessage(
    `${what} runs the workspace's training command; that is only allowed in a trusted workspace.`,
    manage,
  );
  if (c === manage) void vscode.commands.executeCommand('workbench.trust.manage');
  return true;
}

/**
 * Training from the editor: Train New Version… and Re-run Training on versions, the Runs view with
 * Stop, Open Log, Retry, Compare and Reveal Version on its rows, each running run as a task, and a
 * notification when a run ends.
 */
export function registerTraining(
  context: vscode.ExtensionContext,
  targets: CommandTargets,
): { training: Training; disposables: vscode.Disposable[] } {
  const { service, tree: modelsTree, view: modelsView } = targets.registries.local;
  const tree = new RunsTreeProvider(service);
  const view = vscode.window.createTreeView<RunRecord>('modelRegistry.runs', { treeDataProvider: tree });
  const logTerminals = new Map<string, vscode.Terminal>();

  const registry = () => service.get();
  const runOf = async (args: unknown[], pick: (r: RunRecord) => boolean, action: string) => {
    const [first] = args;
    if (typeof first === 'string') return (await registry()).requireRun(first);
    if (isRun(first)) return first;
    const selected = view.selection.find(pick);
    if (selected) return selected;
    const choices = tree.all.filter(pick);
    if (!choices.length) {
      void vscode.window.showInformationMessage(`No run to ${action.toLowerCase()}.`);
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      choices.map((r) => ({ label: r.id, description: `${r.status} ${overridesText(r)}`, run: r })),
      { title: action, placeHolder: 'Which run?' },
    );
    return picked?.run;
  };

  const runTask = (run: RunRecord): vscode.Task => {
    const folder = vscode.workspace.workspaceFolders?.find(
      (f) => !path.relative(f.uri.fsPath, run.root).startsWith('..'),
    );
    const task = new vscode.Task(
      { type: RUN_TASK_TYPE, run: run.id },
      folder ?? vscode.TaskScope.Workspace,
      `${run.recipe}${overridesText(run) ? ` ${overridesText(run)}` : ''} (${run.id})`,
      'Model Registry',
      new vscode.CustomExecution(
        async () => new RunLogTerminal(service, run.id, { closeOnEnd: true, onInterrupt: (r) => void confirmStop(r) }),
      ),
    );
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Silent, panel: vscode.TaskPanelKind.Dedicated };
    task.isBackground = false;
    return task;
  };

  /** Each running run as a task (reattached after a reload: the view announces the runs it finds running). */
  const startTask = (run: RunRecord) => {
    if (!vscode.workspace.isTrusted) return; // tasks do not run in restricted mode
    if (vscode.tasks.taskExecutions.some((e) => e.task.definition.run === run.id)) return;
    vscode.tasks.executeTask(runTask(run)).then(undefined, (e: Error) => {
      log().appendLine(`The task of run ${run.id} did not start: ${e.message}`);
    });
  };

  const stop = async (run: RunRecord) => {
    try {
      const ended = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Stopping ${run.id}…` },
        async () => stopRun(await registry(), run.id, { graceMs: settings().graceMs }),
      );
      void tree.refresh();
      void vscode.window.showInformationMessage(
        ended.status === 'stopped'
          ? `Stopped ${ended.id}; no version was made.${ended.error ? ` (${ended.error})` : ''}`
          : `${ended.id} had already ${ended.status}.`,
      );
      return ended;
    } catch (e) {
      showError(`Could not stop ${run.id}`, e);
      return undefined;
    }
  };

  const confirmStop = async (run: RunRecord) => {
    const c = await vscode.window.showWarningMessage(`Stop ${run.id}?`, { modal: true }, 'Stop');
    if (c === 'Stop') await stop(run);
  };

  const openLog = (run: RunRecord) => {
    const open = logTerminals.get(run.id);
    if (open && vscode.window.terminals.includes(open)) {
      open.show();
      return open;
    }
    const terminal = vscode.window.createTerminal({
      name: `Run log: ${run.id}`,
      pty: new RunLogTerminal(service, run.id, { closeOnEnd: false, onInterrupt: (r) => void confirmStop(r) }),
      iconPath: new vscode.ThemeIcon('output'),
    });
    logTerminals.set(run.id, terminal);
    terminal.show();
    return terminal;
  };

  const compareLive = async (run: RunRecord) => {
    const ids: number[] = [];
    if (run.base?.id) ids.push(run.base.id);
    if (run.versionId !== null) {
      ids.push(run.versionId);
      return runCommand(COMMANDS.compareVersions, undefined, await rows(ids));
    }
    // Its curves are read from its output: only one inside its root, inside the workspace (the row may be crafted).
    const output = readableRunOutput(run, workspaceFolderPaths());
    if (!output)
      throw new RegistryError(
        `run ${run.id}: its output ${run.output} is not a folder inside its root ${run.root} within the workspace folders; not reading it`,
      );
    // Into the Compare panel already open (a sweep's runs side by side), else a new one with the base.
    const panel = ComparePanel.all().at(-1) ?? ComparePanel.show(service, context.extensionUri, ids);
    const label = `${run.recipe} ${overridesText(run)}`.trim();
    panel.addLiveRun({ id: run.id, label, output, metric: run.metric });
    return panel;
  };

  const rows = async (ids: number[]) => {
    const r = await registry();
    const versions = await Promise.all(ids.map((id) => r.getVersionById(id)));
    return versions
      .filter((v): v is VersionRecord => !!v)
      .map((version) => ({ kind: 'version', version, registry: 'local' }));
  };

  const announceEnd = async (run: RunRecord) => {
    for (const panel of ComparePanel.all()) void panel.markLiveRunEnded(run.id, run.versionId ?? undefined);
    const message = runEndMessage(run);
    if (run.status === 'succeeded' && run.versionId !== null) {
      const rerunOf = typeof run.details.rerunOf === 'string' ? run.details.rerunOf : undefined;
      const compare = rerunOf ? 'Compare with Original' : run.base?.id ? 'Compare with Base' : undefined;
      const pick = await vscode.window.showInformationMessage(
        message,
        ...[compare, 'Evaluate…', 'Reveal'].filter((b): b is string => !!b),
      );
      if (!pick) return;
      const r = await registry();
      if (pick === 'Reveal') {
        const v = await r.getVersionById(run.versionId);
        if (v) await revealVersion(modelsTree, modelsView, v);
      } else if (pick === 'Evaluate…') {
        void runCommand(COMMANDS.evaluateVersion, { ref: run.versionRef });
      } else {
        const other = rerunOf ? (await r.resolve(rerunOf)).id : run.base!.id!;
        void runCommand(COMMANDS.compareVersions, undefined, await rows([other, run.versionId]));
      }
    } else if (run.status === 'failed') {
      const pick = await vscode.window.showErrorMessage(message, 'Open Log', 'Retry');
      if (pick === 'Open Log') openLog(run);
      if (pick === 'Retry') void runCommand(COMMANDS.retryRun, run.id);
    } else {
      void vscode.window.showInformationMessage(message);
    }
  };

  /** After runs were queued: show them, and say so. */
  const started = async (runs: RunRecord[], what: string) => {
    service.fireSoon();
    await tree.refresh();
    void view.reveal(runs[0], { select: true, focus: false }).then(undefined, () => undefined);
    void vscode.window
      .showInformationMessage(
        `${what}: ${runs.length === 1 ? runs[0].id : `${runs.length} runs`}.`,
        'Open Log',
        'Compare Live',
      )
      .then((pick) => {
        if (pick === 'Open Log') openLog(runs[0]);
        if (pick === 'Compare Live')
          void compareLive(runs[0]).catch((e) => showError(`Could not compare ${runs[0].id}`, e));
      });
  };

  const disposables: vscode.Disposable[] = [
    tree,
    view,
    tree.onDidEndRun((run) => void announceEnd(run).catch((e) => showError(`After ${run.id} ended`, e))),
    tree.onDidStartRun(startTask),
    vscode.tasks.registerTaskProvider(RUN_TASK_TYPE, {
      provideTasks: () => tree.all.filter((r) => r.status === 'running' || r.status === 'queued').map(runTask),
      resolveTask: async (task) => {
        const id = (task.definition as { run?: unknown }).run;
        if (typeof id !== 'string') return undefined;
        const run = await (await registry()).getRun(id);
        return run && runTask(run);
      },
    }),
    vscode.window.onDidCloseTerminal((t) => {
      for (const [id, open] of logTerminals) if (open === t) logTerminals.delete(id);
    }),

    registerCommand(COMMANDS.trainNewVersion, async (...args: unknown[]) => {
      const given = optionsArg<TrainArgs>(args[1]) ?? optionsArg<TrainArgs>(args[0]);
      try {
        if (await refuseUntrusted('Train New Version')) return undefined;
        const base = await chooseBase(targets, args, given);
        if (base === undefined) return undefined;
        const root = await chooseRoot(base?.model);
        if (!root) return undefined;
        const file = await loadRecipes(root);
        const recipe = given?.recipe
          ? file.recipes.find((r) => r.name === given.recipe)
          : await pickRecipe(file.recipes, base?.model);
        if (!recipe) {
          if (given?.recipe) void vscode.window.showErrorMessage(`${RECIPE_FILE} has no recipe '${given.recipe}'.`);
          return undefined;
        }
        const form = given?.recipe ? formOf(given) : await editTraining(recipe, base);
        if (!form) return undefined;
        const { runs } = await train(await registry(), {
          root,
          recipe: recipe.name,
          base: base?.ref,
          overrides: form.overrides,
          sweeps: form.sweeps,
          jobs: form.jobs,
          queue: form.queue,
          devices: settings().devices,
        });
        await started(
          runs,
          `${form.queue ? 'Queued' : 'Started'} ${recipe.name} ${base ? `from ${base.ref}` : 'from scratch'}`,
        );
        return runs;
      } catch (e) {
        showError('Could not start training', e);
        return undefined;
      }
    }),

    registerCommand(COMMANDS.rerunTraining, async (...args: unknown[]) => {
      const v = (await targets.version(args, { ask: 'Re-run Training', only: (x) => !!trainingOf(x) }))?.version;
      if (!v) return undefined;
      try {
        if (await refuseUntrusted('Re-run Training')) return undefined;
        const t = trainingOf(v);
        if (!t) {
          void vscode.window.showInformationMessage(
            `${v.ref} was not trained from a recipe here: there is nothing to re-run.`,
          );
          return undefined;
        }
        const { runs } = await vscode.window.withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: `Re-run Training of ${v.ref}: checking out ${t.commit?.slice(0, 12) ?? 'its code'}${t.diff ? ' with its uncommitted changes' : ''}…`,
          },
          async () => rerunVersion(await registry(), v.ref),
        );
        await started(runs, `Re-running ${v.ref}'s training (${t.recipe})`);
        return runs;
      } catch (e) {
        showError(`Could not re-run the training of ${v.ref}`, e);
        return undefined;
      }
    }),

    registerCommand(COMMANDS.stopRun, async (...args: unknown[]) => {
      const run = await runOf(args, isActive, 'Stop Run');
      return run && stop(run);
    }),

    registerCommand(COMMANDS.openRunLog, async (...args: unknown[]) => {
      const run = await runOf(args, () => true, 'Open Run Log');
      return run && openLog(run);
    }),

    registerCommand(COMMANDS.retryRun, async (...args: unknown[]) => {
      const run = await runOf(args, (r) => r.status === 'failed' || r.status === 'stopped', 'Retry Run');
      if (!run) return undefined;
      try {
        if (await refuseUntrusted('Retry Run')) return undefined;
        const again = await retryRun(await registry(), run.id);
        await started([again], `Retry of ${run.id} started`);
        return again;
      } catch (e) {
        showError(`Could not retry ${run.id}`, e);
        return undefined;
      }
    }),

    registerCommand(COMMANDS.revealRunVersion, async (...args: unknown[]) => {
      const run = await runOf(args, (r) => r.versionId !== null, 'Reveal Version');
      if (!run || run.versionId === null) return undefined;
      const v = await (await registry()).getVersionById(run.versionId);
      if (!v) {
        void vscode.window.showInformationMessage(`${run.versionRef ?? 'The version'} of ${run.id} was deleted.`);
        return undefined;
      }
      return revealVersion(modelsTree, modelsView, v);
    }),

    registerCommand(COMMANDS.compareRun, async (...args: unknown[]) => {
      const run = await runOf(args, (r) => r.status === 'running' || r.versionId !== null, 'Compare Run');
      try {
        return run && (await compareLive(run));
      } catch (e) {
        showError(`Could not compare ${run?.id}`, e);
        return undefined;
      }
    }),

    registerCommand(COMMANDS.refreshRuns, () => tree.refresh()),

    registerCommand(COMMANDS.createRecipeFile, (opts?: { model?: string }) =>
      createRecipeFile(opts).catch((e) => showError(`Could not create ${RECIPE_FILE}`, e)),
    ),
  ];
  return { training: { tree, view }, disposables };
}

function isRun(x: unknown): x is RunRecord {
  return typeof x === 'object' && x !== null && typeof (x as RunRecord).batch === 'string' && 'argv' in x;
}

const isActive = (r: RunRecord) => isActiveStatus(r.status);

function optionsArg<T>(x: unknown): T | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !('kind' in x) && !('ref' in x) && !isRun(x)
    ? (x as T)
    : undefined;
}

function formOf(given: TrainArgs): TrainingForm {
  return { overrides: given.overrides ?? [], sweeps: given.sweeps ?? [], jobs: given.jobs ?? 1, queue: !!given.queue };
}

/**
 * The base version: the version row or reference the call is on; on a model row, or from the
 * palette, a pick of the ready versions or From scratch. null is from scratch; undefined cancelled.
 */
async function chooseBase(
  targets: CommandTargets,
  args: unknown[],
  given: TrainArgs | undefined,
): Promise<VersionRecord | null | undefined> {
  if (given?.fromScratch) return null;
  const version = await targets.version(args);
  if (version) return version.version;
  const service = targets.registries.local.service;
  const model = targets.model(args)?.model;
  const versions: VersionRecord[] = [];
  if (service.exists()) {
    const registry = await service.get();
    const models = model ? [model] : (await registry.listModels()).map((m) => m.name);
    for (const name of models)
      versions.push(...(await registry.listVersions(name, { limit: 50 })).filter((v) => v.status === 'ready'));
  }
  type Item = vscode.QuickPickItem & { base: VersionRecord | null };
  const scratch: Item = {
    label: '$(add) From scratch',
    description: 'no base version: the recipe’s baseArgs are left out',
    base: null,
  };
  const picked = await vscode.window.showQuickPick<Item>(
    [
      ...versions.map((v) => ({
        label: v.ref,
        description: [v.aliases.join(', '), v.format ?? ''].filter(Boolean).join(' · '),
        base: v,
      })),
      scratch,
    ],
    {
      title: `Train New Version${model ? ` of ${model}` : ''}: start from`,
      placeHolder: 'The version whose weights the run starts from',
    },
  );
  return picked?.base;
}

/** The workspace folder holding modelreg.json; without one, offers to create it from a starter. */
async function chooseRoot(model: string | undefined): Promise<string | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  if (!folders.length) {
    void vscode.window.showErrorMessage('Open a folder first: training runs the recipes of its modelreg.json.');
    return undefined;
  }
  const withRecipes = folders.filter((f) => existsSync(path.join(f.uri.fsPath, RECIPE_FILE)));
  if (withRecipes.length === 1) return withRecipes[0].uri.fsPath;
  if (withRecipes.length > 1) {
    const picked = await vscode.window.showWorkspaceFolderPick({
      placeHolder: `Which folder's ${RECIPE_FILE}?`,
      ignoreFocusOut: true,
    });
    return picked && withRecipes.includes(picked) ? picked.uri.fsPath : undefined;
  }
  const create = `Create ${RECIPE_FILE}`;
  const c = await vscode.window.showInformationMessage(
    `No ${RECIPE_FILE} in ${folders.length === 1 ? folders[0].name : 'the workspace folders'}: a recipe says how to train (the command, its parameters, where the output goes).`,
    create,
  );
  if (c === create) void runCommand(COMMANDS.createRecipeFile, { model });
  return undefined;
}

/**
 * Create Training Recipe (modelreg.json): a starter recipe for the folder's training script, opened
 * to be edited. An existing file is opened, never overwritten.
 */
async function createRecipeFile(opts: { model?: string } = {}): Promise<vscode.Uri | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  const folder = folders.length <= 1 ? folders[0] : await vscode.window.showWorkspaceFolderPick();
  if (!folder) {
    if (!folders.length) void vscode.window.showErrorMessage(`Open a folder first: ${RECIPE_FILE} goes at its root.`);
    return undefined;
  }
  const uri = vscode.Uri.joinPath(folder.uri, RECIPE_FILE);
  if (existsSync(uri.fsPath)) {
    await vscode.window.showTextDocument(uri);
    void vscode.window.showInformationMessage(
      `${folder.name} already has a ${RECIPE_FILE}; add a recipe under "train".`,
    );
    return uri;
  }
  const script = ['train.py', 'train.mjs', 'train.js', 'train.sh'].find((s) =>
    existsSync(path.join(folder.uri.fsPath, s)),
  );
  const name = opts.model && MODEL_NAME.test(opts.model) ? opts.model : 'model';
  await vscode.workspace.fs.writeFile(uri, Buffer.from(starterRecipeFile({ name, script })));
  await vscode.window.showTextDocument(uri);
  void vscode.window.showInformationMessage(
    `Created ${RECIPE_FILE} with a recipe '${name}' for ${script ?? 'train.py'}: adjust its command and parameters, then run Train New Version….`,
  );
  return uri;
}

async function pickRecipe(recipes: Recipe[], model: string | undefined): Promise<Recipe | undefined> {
  if (recipes.length === 1) return recipes[0];
  // The recipes that train the base's model first.
  const sorted = [...recipes].sort((a, b) => Number(b.model === model) - Number(a.model === model));
  const picked = await vscode.window.showQuickPick(
    sorted.map((r) => ({ label: r.name, description: `model ${r.model}`, detail: r.command.join(' '), recipe: r })),
    { title: 'Train New Version: recipe', placeHolder: `A recipe of ${RECIPE_FILE}` },
  );
  return picked?.recipe;
}

interface TrainingForm {
  overrides: string[];
  sweeps: string[];
  jobs: number;
  queue: boolean;
}

/**
 * The parameter form, in the style of Convert…: each parameter with its value (several values,
 * comma-separated, make a sweep), how many run at once, then Run or Queue.
 */
async function editTraining(recipe: Recipe, base: VersionRecord | null): Promise<TrainingForm | undefined> {
  const values = new Map<string, string[]>(Object.entries(recipe.params).map(([k, v]) => [k, [String(v)]]));
  let jobs = 1;
  for (;;) {
    const count = [...values.values()].reduce((n, v) => n * v.length, 1);
    const from = base ? `from ${base.ref}` : 'from scratch';
    type Item = vscode.QuickPickItem & { action?: 'run' | 'queue' | 'jobs'; param?: string };
    const items: Item[] = [
      {
        label: '$(play) Run',
        description: `${count === 1 ? '1 run' : `${count} runs`} of ${recipe.name} ${from}`,
        action: 'run',
      },
      { label: '$(list-ordered) Queue', description: 'start once the runs in progress have ended', action: 'queue' },
      { label: 'Parameters', kind: vscode.QuickPickItemKind.Separator },
      ...[...values].map(([k, v]) => ({
        label: `${k} = ${v.join(', ')}`,
        description: v.length > 1 ? `sweep of ${v.length}` : String(recipe.params[k]) === v[0] ? 'default' : 'set',
        detail: `default ${String(recipe.params[k])}; several values separated by commas make a sweep`,
        param: k,
      })),
      ...(count > 1
        ? [
            {
              label: `jobs = ${jobs}`,
              description: 'runs at once; the rest wait in the queue',
              action: 'jobs' as const,
            },
          ]
        : []),
    ];
    const pick = await vscode.window.showQuickPick(items, {
      title: `Train New Version: ${recipe.name}`,
      placeHolder: 'Enter runs; pick a parameter to change it',
      ignoreFocusOut: true,
    });
    if (!pick) return undefined;
    if (pick.action === 'run' || pick.action === 'queue') {
      const overrides: string[] = [];
      const sweeps: string[] = [];
      for (const [k, v] of values) {
        if (v.length > 1) sweeps.push(`${k}=${v.join(',')}`);
        else if (v[0] !== String(recipe.params[k])) overrides.push(`${k}=${v[0]}`);
      }
      return { overrides, sweeps, jobs, queue: pick.action === 'queue' };
    }
    if (pick.action === 'jobs') {
      const v = await vscode.window.showInputBox({
        title: 'jobs',
        prompt: 'How many runs at once',
        value: String(jobs),
        validateInput: (s) => (/^[1-9]\d*$/.test(s.trim()) ? undefined : 'A whole number of at least 1'),
      });
      if (v !== undefined) jobs = Number(v.trim());
      continue;
    }
    const key = pick.param!;
    const v = await vscode.window.showInputBox({
      title: key,
      prompt: `${key} (default ${String(recipe.params[key])}); several values separated by commas make a sweep`,
      value: values.get(key)!.join(', '),
      validateInput: (s) => problemOf(recipe, key, s),
    });
    if (v !== undefined) values.set(key, splitValues(v));
  }
}

function splitValues(s: string): string[] {
  const parts = s.split(',').map((p) => p.trim());
  return parts.length > 1 ? parts.filter((p) => p !== '') : parts;
}

/** The recipe's own message for a value that does not parse (a number for a number's default…). */
function problemOf(recipe: Recipe, key: string, s: string): string | undefined {
  try {
    for (const v of splitValues(s)) parseOverrides(recipe, [`${key}=${v}`]);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

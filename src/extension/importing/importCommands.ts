import * as vscode from 'vscode';
import { configImporter, currentLanguage } from './catalog';
import { askCheckpoints, batchCheckpoints } from './checkpointPrompt';
import {
  CancelledError,
  CheckpointRecord,
  confidentModel,
  defaultModelName,
  describesModel,
  DuplicateImportError,
  importArchive,
  ImportOptions,
  importTrainingOutput,
  ModelCandidate,
  MODEL_NAME,
  rankModels,
  mayHoldWeights,
  NoWeightsError,
  Registry,
  VersionRecord,
} from '../../core';
import { formatBytes } from '../../shared/format';
import { RegistryService } from '../registry/registryService';
import { RegistryTreeProvider } from '../registry/registryTree';
import { TreeNode } from '../registry/treeNodes';
import { describeError, log, showError } from '../errors';
import { BatchOutcome, batchSummary } from './batchSummary';
import { withCancellableProgress } from '../progress';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand, runCommand } from '../commands/register';

/** "Import as Model" (Explorer context menu) and "Import Training Output…" (palette, view title). */
export function registerImportCommands(
  service: RegistryService,
  tree: RegistryTreeProvider,
  view: vscode.TreeView<TreeNode>,
): vscode.Disposable[] {
  const run = async (target: vscode.Uri, seam: Seam = {}) => {
    // A folder whose config.json names a template is checked against it, as "Import as Model" on the config is
    // (its registry.name, else the folder's name, names the model).
    if (await describesModel(target.fsPath))
      return importAndAnnounce(service, tree, view, target, configImporter(await currentLanguage()), seam);
    // No weights: the import asks about that first (Import Anyway makes a model named after the folder).
    const model =
      seam.model ?? ((await mayHoldWeights(target.fsPath)) ? await pickModel(await service.get(), target) : undefined);
    if (model === null) return undefined;
    return importAndAnnounce(service, tree, view, target, undefined, { ...seam, model });
  };
  return [
    // Explorer passes (clicked, allSelected); import each selected output as its own version. A third
    // argument (tests, keybindings) is the button to press if the import asks (see importAndAnnounce),
    // or { model, answer }: the model to import into instead of asking which.
    registerCommand(COMMANDS.importOutput, async (uri?: vscode.Uri, uris?: vscode.Uri[], answer?: unknown) => {
      const targets = uris?.length ? uris : uri ? [uri] : await pickOutput();
      if (targets && targets.length > 1) return importBatch(service, tree, targets, asSeam(answer).answer);
      const done: unknown[] = [];
      for (const t of targets ?? []) {
        const v = await run(t, asSeam(answer));
        if (v) done.push(v);
      }
      return done.length === 1 ? done[0] : done;
    }),
    // An archive made by "Export Version…" or `modelreg export`: a .tar/.tar.gz or an exported folder.
    registerCommand(COMMANDS.importArchive, async (uri?: vscode.Uri) => {
      const target =
        uri ??
        (
          await vscode.window.showOpenDialog({
            canSelectFiles: true,
            canSelectFolders: true,
            openLabel: 'Import Archive',
            title: 'Pick an exported version: a .tar, .tar.gz or an exported folder',
            filters: { 'Model archives': ['tar', 'gz', 'tgz'] },
            defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
          })
        )?.[0];
      return target && importAndAnnounce(service, tree, view, target, archiveImporter);
    }),
    registerCommand(COMMANDS.importOutputPick, async () => {
      const picked = await pickOutput();
      return picked ? run(picked[0]) : undefined;
    }),
  ];
}

async function pickOutput(): Promise<vscode.Uri[] | undefined> {
  return vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: true,
    canSelectMany: false,
    openLabel: 'Import as Model',
    title: 'Pick a training output folder or a weights file',
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
}

/** What an import may ask: `answer` presses that button instead of asking; `allow` says what was already accepted. */
interface Asking {
  answer?: string;
  allow?: { duplicate?: boolean; noWeights?: boolean };
  /** The model to import into (default: the importer's, the folder's name). */
  model?: string;
}

/** What a caller of Import as Model may settle in advance: the button to press, the model to import into. */
type Seam = Pick<Asking, 'answer' | 'model'>;

function asSeam(arg: unknown): Seam {
  if (typeof arg === 'string') return { answer: arg };
  if (!arg || typeof arg !== 'object') return {};
  const { answer, model } = arg as Record<string, unknown>;
  return {
    answer: typeof answer === 'string' ? answer : undefined,
    model: typeof model === 'string' ? model : undefined,
  };
}

type ModelItem = vscode.QuickPickItem & { model?: string; isNew?: boolean };

/**
 * Which model a training output goes into: undefined (a new model named after the folder) when the
 * registry has none yet, else asked. The models it is likely a new run of come first, best first, with
 * the evidence as detail (core's rankModels); the confident ones before "New model…", so Enter does
 * what `modelreg import` does; then the other models. The choice is remembered by the registry itself
 * (the version records the folder it came from), and proposed first the next time. null: cancelled.
 */
async function pickModel(registry: Registry, target: vscode.Uri): Promise<string | undefined | null> {
  const models = await registry.listModels({ limit: 200 });
  if (models.length === 0) return undefined;
  const isDir =
    (await vscode.workspace.fs.stat(target).then(
      (s) => s.type,
      () => 0,
    )) & vscode.FileType.Directory;
  const folderName = defaultModelName(target.fsPath, isDir !== 0);
  const candidates = await rankModels(registry, target.fsPath, vscode.workspace.getWorkspaceFolder(target)?.uri.fsPath);
  const item = (c: ModelCandidate): ModelItem => ({
    label: c.model,
    description: 'new version',
    detail: c.reasons.join(' · '),
    model: c.model,
  });
  const ranked = new Set(candidates.map((c) => c.model));
  const items: ModelItem[] = [
    ...candidates.filter((c) => c.confident).map(item),
    { label: '$(add) New model…', description: folderName, isNew: true },
    ...candidates.filter((c) => !c.confident).map(item),
    ...(models.some((m) => !ranked.has(m.name))
      ? [{ label: 'other models', kind: vscode.QuickPickItemKind.Separator } as ModelItem]
      : []),
    ...models
      .filter((m) => !ranked.has(m.name))
      .map((m) => ({ label: m.name, description: 'new version', model: m.name })),
  ];
  const name = vscode.workspace.asRelativePath(target);
  const picked = await vscode.window.showQuickPick(items, {
    title: `Import ${name} as a new version of…`,
    placeHolder: 'an existing model, or a new model',
    matchOnDetail: true,
    ignoreFocusOut: true, // kept open when the focus moves: a walkthrough page that started this takes the focus back
  });
  if (!picked) return null;
  if (!picked.isNew) return picked.model ?? null;
  const typed = await vscode.window.showInputBox({
    title: `Import ${name} as a new model`,
    prompt: 'Model name',
    value: folderName,
    validateInput: (v) =>
      MODEL_NAME.test(v.trim())
        ? undefined
        : "Letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit",
  });
  return typed?.trim() || null;
}

/**
 * Imports with progress, refreshes the tree and offers to reveal the new version. An input with no
 * weights is asked about first (modal: Import Anyway, or Register as Dataset… when it has a
 * dataset's shape); files a version already holds import nothing and offer to open it or import
 * a copy. Returns the new version, or what the chosen action returned.
 */
export async function importAndAnnounce(
  service: RegistryService,
  tree: RegistryTreeProvider,
  view: vscode.TreeView<TreeNode>,
  target: vscode.Uri,
  importer?: Importer,
  asking: Asking = {},
): Promise<unknown> {
  const allow = asking.allow ?? {};
  const again = (more: Asking['allow']) =>
    importAndAnnounce(service, tree, view, target, importer, { ...asking, allow: { ...allow, ...more } });
  const name = vscode.workspace.asRelativePath(target);
  const version = await importWithProgress(service, target, importer, allow, asking.model);
  if (version instanceof NoWeightsError) {
    const dataset = 'Register as Dataset…';
    const choice =
      asking.answer ??
      (await vscode.window.showWarningMessage(
        `${name} has no model weights.`,
        {
          modal: true,
          detail: version.looksLikeDataset
            ? 'It looks like a dataset (images in class folders, a table with a label column, or inputs and labels arrays).'
            : 'No weights file (.safetensors, .onnx, .pt, .gguf…) was found in it.',
        },
        'Import Anyway',
        ...(version.looksLikeDataset ? [dataset] : []),
      ));
    if (choice === 'Import Anyway') return again({ noWeights: true });
    if (choice === dataset && version.looksLikeDataset) return runCommand(COMMANDS.registerDataset, target);
    return undefined;
  }
  if (version instanceof DuplicateImportError) {
    const { ref, number } = version.existing;
    const open = `Open v${number}`;
    const copy = 'Import a Copy';
    const act = async (choice: string | undefined): Promise<unknown> => {
      if (choice === open) return runCommand(COMMANDS.revealVersion, ref);
      if (choice === copy) return again({ duplicate: true });
      return undefined;
    };
    if (asking.answer !== undefined) return act(asking.answer);
    // Not modal: nothing was imported, and the user may well just move on.
    void vscode.window.showInformationMessage(`Same files as ${ref}.`, open, copy).then(act);
    return undefined;
  }
  if (!version) return undefined;
  service.fireSoon();
  tree.refresh();
  void vscode.window
    .showInformationMessage(
      `Imported ${version.ref} (${version.format ?? 'no weights detected'}, ${formatBytes(version.sizeBytes)}).`,
      'Reveal',
    )
    .then(async (choice) => {
      if (choice === 'Reveal') await revealVersion(tree, view, version);
    });
  return version;
}

/**
 * Several selected folders: one cancellable progress notification ("Importing 3 of 5: outputs/x"),
 * each into the model it is confidently a new run of (as `modelreg import` decides), else a new model
 * named after it, asking nothing on the way; then one summary naming what was imported, skipped and
 * failed, with Compare these when two or more versions came in. `answer` presses that button
 * (tests). Returns the new versions, the summary, and what the button opened.
 */
async function importBatch(
  service: RegistryService,
  tree: RegistryTreeProvider,
  targets: vscode.Uri[],
  answer?: string,
): Promise<{ versions: VersionRecord[]; summary: string; opened?: unknown }> {
  const registry = await service.get();
  const outcomes: BatchOutcome[] = [];
  const versions: VersionRecord[] = [];
  let notStarted = 0;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      try {
        for (const [i, target] of targets.entries()) {
          if (abort.signal.aborted) {
            notStarted = targets.length - i;
            break;
          }
          const name = vscode.workspace.asRelativePath(target);
          const step = `Importing ${i + 1} of ${targets.length}: ${name}`;
          progress.report({ message: step, increment: i === 0 ? 0 : 100 / targets.length });
          const boundary = vscode.workspace.getWorkspaceFolder(target)?.uri.fsPath;
          try {
            const described = await describesModel(target.fsPath);
            const importer = described ? configImporter(await currentLanguage()) : importTrainingOutput;
            const model = described ? undefined : (await confidentModel(registry, target.fsPath, boundary))?.model;
            const v = await importer(registry, target.fsPath, {
              model,
              signal: abort.signal,
              refuseDuplicate: true,
              refuseNoWeights: true,
              // Nothing is asked on the way: the final weights, unless the setting says all (the summary says so).
              checkpoints: batchCheckpoints(),
              boundary,
              onProgress: (p) =>
                progress.report({
                  message:
                    p.phase === 'copying' && p.bytesTotal > 0
                      ? `${step} — ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`
                      : `${step} (${p.phase}…)`,
                }),
            });
            versions.push(v);
            const cp = v.details.checkpoints as CheckpointRecord | undefined;
            outcomes.push({ name, imported: v, checkpointsLeftOut: cp?.included === 'final' ? cp.found.length : 0 });
          } catch (e) {
            if (e instanceof CancelledError) {
              notStarted = targets.length - i;
              break;
            }
            if (e instanceof DuplicateImportError) outcomes.push({ name, skipped: `same files as ${e.existing.ref}` });
            else if (e instanceof NoWeightsError) outcomes.push({ name, skipped: 'no model weights' });
            else {
              const text = describeError(`Could not import ${name}`, e);
              log().appendLine(`${new Date().toISOString()} ${text.log}`);
              outcomes.push({ name, failed: text.toast.replace(/ — could not import .*$/, '') });
            }
          }
        }
      } finally {
        sub.dispose();
      }
    },
  );
  if (versions.length) {
    service.fireSoon();
    tree.refresh();
  }
  const summary = batchSummary(outcomes, notStarted);
  const compare = 'Compare these';
  const buttons = versions.length >= 2 ? [compare] : [];
  const warn = outcomes.some((o) => 'failed' in o) || notStarted > 0;
  const show = (text: string, ...items: string[]) =>
    warn ? vscode.window.showWarningMessage(text, ...items) : vscode.window.showInformationMessage(text, ...items);
  const act = (c: string | undefined) =>
    c === compare && buttons.length
      ? runCommand(
          COMMANDS.compareVersions,
          undefined,
          versions.map((version) => ({ kind: 'version', version, registry: 'local' })),
        )
      : undefined;
  if (answer !== undefined) return { versions, summary, opened: await act(answer) };
  void Promise.resolve(show(summary, ...buttons)).then(act);
  return { versions, summary };
}

/** importArchive in the shape of the other importers, its bytes reported as the copying phase. */
const archiveImporter: Importer = (registry, target, opts) =>
  importArchive(registry, target, {
    model: opts.model,
    signal: opts.signal,
    onProgress: (bytesDone, bytesTotal) => opts.onProgress?.({ phase: 'copying', bytesDone, bytesTotal }),
  });

type Importer = (registry: Registry, target: string, opts: ImportOptions) => Promise<VersionRecord>;

/** Runs an import with a cancellable progress notification; errors and cancels are shown, not thrown. */
export async function importWithProgress(
  service: RegistryService,
  target: vscode.Uri,
  importer: Importer = importTrainingOutput,
  allow: Asking['allow'] = {},
  model?: string,
): Promise<VersionRecord | DuplicateImportError | NoWeightsError | undefined> {
  const name = vscode.workspace.asRelativePath(target);
  try {
    return await withCancellableProgress(
      `Importing ${name}`,
      `Import of ${name} cancelled; nothing was registered.`,
      async ({ signal, say, advance }) =>
        importer(await service.get(), target.fsPath, {
          model,
          signal,
          refuseDuplicate: !allow.duplicate,
          refuseNoWeights: !allow.noWeights,
          checkpoints: askCheckpoints(name),
          // Links inside the workspace may point anywhere in it, but not out of it.
          boundary: vscode.workspace.getWorkspaceFolder(target)?.uri.fsPath,
          onProgress: (p) => {
            if (p.phase !== 'copying' || p.bytesTotal === 0) return say(`${p.phase}…`);
            advance(
              p.bytesDone,
              p.bytesTotal,
              `${p.file ?? ''} — ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`,
            );
          },
        }),
    );
  } catch (e) {
    // These two are questions for the caller to ask, not failures.
    if (e instanceof DuplicateImportError || e instanceof NoWeightsError) return e;
    showError(`Could not import ${name}`, e);
    return undefined;
  }
}

export async function revealVersion(
  tree: RegistryTreeProvider,
  view: vscode.TreeView<TreeNode>,
  version: VersionRecord,
): Promise<void> {
  // A refresh (this window's change arriving again through the file watcher) can land while reveal
  // walks the tree and make it lose the node; look it up again and retry.
  // Likewise a refresh this window has scheduled (a command just changed the registry) would reset
  // the selection right after the reveal: let it land first.
  await tree.settled();
  for (let attempt = 1; ; attempt++) {
    const node = await tree.nodeFor(version);
    if (!node) return;
    try {
      return await view.reveal(node, { select: true, focus: true, expand: true });
    } catch (e) {
      if (attempt === 3) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

import * as vscode from 'vscode';
import {
  CancelledError,
  checkEvaluatorProfile,
  DatasetRecord,
  evaluateExternally,
  evaluateFromPredictions,
  evaluateVersion,
  EvaluatorProfile,
  registerDataset,
  splitChoices,
  VersionRecord,
} from '../../core';
import { formatMetric } from '../../shared/format';
import { showError } from '../errors';
import { outputChannel } from '../outputChannels';
import { withCancellableProgress } from '../progress';
import { RegistryService } from '../registry/registryService';
import { CommandTargets } from '../registry/registries';
import { datasetFacts, datasetItemOf, DatasetNode } from '../registry/treeItems';
import { toTreeItem } from '../registry/registryTree';
import { openEvaluation } from './evaluationPanel';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand } from '../commands/register';

const evaluationLog = () => outputChannel('Model Registry: Evaluations');

/** The "Datasets" view: each registered dataset with its kind, size, classes, splits and manifest hash. */
export class DatasetsTree implements vscode.TreeDataProvider<DatasetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly service: RegistryService) {
    this.sub = service.onDidChange(() => this.changed.fire());
  }

  refresh(): void {
    this.changed.fire();
  }

  async getChildren(n?: DatasetNode): Promise<DatasetNode[]> {
    if (!n)
      return this.service.exists()
        ? (await (await this.service.get()).listDatasets()).map((dataset) => ({ kind: 'dataset', dataset }))
        : [];
    return n.kind === 'dataset' ? datasetFacts(n.dataset) : [];
  }

  getTreeItem(n: DatasetNode): vscode.TreeItem {
    return toTreeItem(datasetItemOf(n));
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}

/** Register Dataset…, Evaluate… (a version) and the Datasets view. Arguments skip the pickers (tests, keybindings). */
/**
 * A COCO file's images folder: a folder picked, null to go on without images (boxes only), or
 * undefined when the user cancels.
 */
async function pickCocoImages(target: vscode.Uri, name: string): Promise<string | null | undefined> {
  const choose = 'Choose Images Folder…';
  const without = 'Without Images';
  const choice = await vscode.window.showInformationMessage(
    `${name} is read as COCO annotations. Where are its images? (Metrics need only the boxes.)`,
    { modal: true },
    choose,
    without,
  );
  if (choice === without) return null;
  if (choice !== choose) return undefined;
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    openLabel: 'Use Images Folder',
    title: `The folder the file_name entries of ${name} are relative to`,
    defaultUri: vscode.Uri.joinPath(target, '..'),
  });
  return picked?.[0]?.fsPath;
}

export function registerEvaluateCommands(
  context: vscode.ExtensionContext,
  targets: CommandTargets,
): vscode.Disposable[] {
  const service = targets.registries.local.service;
  const datasets = new DatasetsTree(service);
  const register = async (uri?: vscode.Uri): Promise<DatasetRecord | undefined> => {
    const target =
      uri ??
      (
        await vscode.window.showOpenDialog({
          canSelectFiles: true,
          canSelectFolders: true,
          openLabel: 'Register Dataset',
          title:
            'A folder of class folders with images, a CSV/JSONL with a label column, a .npz, a COCO .json, a YOLO data.yaml or a Pascal VOC folder',
          defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        })
      )?.[0];
    if (!target) return undefined;
    const name = vscode.workspace.asRelativePath(target);
    const images = /\.json$/i.test(target.fsPath) ? await pickCocoImages(target, name) : null;
    if (images === undefined) return undefined;
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Registering dataset ${name}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          const d = await registerDataset(await service.get(), target.fsPath, {
            images: images ?? undefined,
            signal: abort.signal,
            boundary: vscode.workspace.getWorkspaceFolder(target)?.uri.fsPath,
            onProgress: (done, total) =>
              progress.report({ message: `hashing ${Math.round((100 * done) / Math.max(1, total))}%` }),
          });
          service.fireSoon();
          const problems = Number(d.details.problemCount ?? 0);
          void vscode.window.showInformationMessage(
            d.kind === 'detection'
              ? `Registered dataset ${d.name}: ${d.sampleCount} images, ${Number(d.details.boxes ?? 0)} boxes, ${d.classes.length} classes${d.splits.length ? `, splits ${d.splits.join('/')}` : ''}${d.details.imagesMissing ? ', without images' : ''}; ${problems} problem${problems === 1 ? '' : 's'}${problems ? ` (modelreg dataset show ${d.name} lists them)` : ''}.`
              : `Registered dataset ${d.name}: ${d.sampleCount} samples, ${d.classes.length} classes${d.splits.length ? `, splits ${d.splits.join('/')}` : ''}.`,
          );
          return d;
        } catch (e) {
          if (!(e instanceof CancelledError)) showError(`Could not register ${name} as a dataset`, e);
          return undefined;
        } finally {
          sub.dispose();
        }
      },
    );
  };

  return [
    datasets,
    vscode.window.createTreeView('modelRegistry.datasets', { treeDataProvider: datasets }),
    registerCommand(COMMANDS.registerDataset, (uri?: vscode.Uri) =>
      register(uri instanceof vscode.Uri ? uri : undefined),
    ),
    registerCommand(COMMANDS.evaluateVersion, async (...args: unknown[]) => {
      const v = (await targets.version(args, { ask: 'Evaluate', offers: /^version\.ready.*\.evaluable/ }))?.version;
      if (!v) return undefined;
      const arg = args[1];
      const given =
        typeof arg === 'object' && arg !== null && 'dataset' in arg
          ? (arg as { dataset: string; split?: string; open?: boolean; evaluator?: string })
          : undefined;
      try {
        const target = given ?? (await pickDataset(service, v, register));
        if (!target) return undefined;
        const profiles = evaluatorProfiles();
        const evaluator = given ? profiles.find((p) => p.id === given.evaluator) : await pickEvaluator(profiles);
        if (evaluator === null) return undefined;
        if (evaluator && !vscode.workspace.isTrusted) {
          void vscode.window.showErrorMessage(
            `The evaluator ${evaluator.id} runs an external program; that is only allowed in a trusted workspace.`,
          );
          return undefined;
        }
        const e = await run(service, v, target.dataset, target.split, evaluator);
        if (e && given?.open !== false) await openEvaluation(service, context.extensionUri, e.id);
        return e;
      } catch (e) {
        showError(`Could not evaluate ${v.ref}`, e);
        return undefined;
      }
    }),
    registerCommand(COMMANDS.importPredictions, async (...args: unknown[]) => {
      const v = (await targets.version(args, { ask: 'Import predictions for', offers: /^version\.ready/ }))?.version;
      if (!v) return undefined;
      const arg = args[1];
      const given =
        typeof arg === 'object' && arg !== null && 'file' in arg
          ? (arg as { dataset: string; split?: string; file: string; open?: boolean })
          : undefined;
      try {
        const target =
          given ??
          (await pickDataset(service, v, register, { kind: 'detection', title: `Import predictions of ${v.ref} on` }));
        if (!target) return undefined;
        const file =
          given?.file ??
          (
            await vscode.window.showOpenDialog({
              canSelectFiles: true,
              openLabel: 'Import Predictions',
              title: `Predictions of ${v.ref} on ${target.dataset}: COCO results JSON ([{image_id, category_id, bbox, score}])`,
              filters: { 'COCO results': ['json'] },
              defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
            })
          )?.[0]?.fsPath;
        if (!file) return undefined;
        const out = evaluationLog();
        const e = await withCancellableProgress(
          `Importing predictions of ${v.ref} on ${target.dataset}`,
          `Import of ${v.ref}'s predictions cancelled; nothing was recorded.`,
          async ({ signal }) =>
            evaluateFromPredictions(await service.get(), v.ref, file, {
              dataset: target.dataset,
              split: target.split,
              cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
              signal,
              log: (l) => out.appendLine(`${v.ref}: ${l}`),
            }),
        );
        if (!e) return undefined;
        service.fireSoon();
        void vscode.window.showInformationMessage(
          `${v.ref} on ${target.dataset}: AP ${formatMetric(e.metrics.AP ?? null)}, AP50 ${formatMetric(e.metrics.AP50 ?? null)} from ${String(e.details.predictionCount)} predictions.`,
        );
        if (given?.open !== false) await openEvaluation(service, context.extensionUri, e.id);
        return e;
      } catch (e) {
        showError(`Could not import predictions for ${v.ref}`, e);
        return undefined;
      }
    }),
  ];
}

async function pickDataset(
  service: RegistryService,
  v: VersionRecord,
  register: () => Promise<DatasetRecord | undefined>,
  only: { kind?: DatasetRecord['kind']; title?: string } = {},
): Promise<{ dataset: string; split?: string } | undefined> {
  const list = (await (await service.get()).listDatasets()).filter((d) => !only.kind || d.kind === only.kind);
  const add = {
    label: '$(add) Register a Dataset…',
    detail:
      only.kind === 'detection'
        ? 'A COCO instances .json, a YOLO data.yaml or a Pascal VOC folder'
        : 'A folder of class folders with images, a CSV/JSONL, or a .npz',
  };
  const items = [
    ...list.map((d) => ({
      label: d.name,
      description: `${d.kind} · ${d.sampleCount} samples · ${d.classes.length} classes`,
      detail: d.root,
      dataset: d,
    })),
    add,
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: only.title ?? `Evaluate ${v.ref} on`,
    placeHolder: list.length ? 'Pick a dataset' : 'No datasets yet',
    ignoreFocusOut: true, // kept open when the focus moves: a walkthrough page that started this takes the focus back
  });
  if (!pick) return undefined;
  const d: DatasetRecord | undefined =
    'dataset' in pick ? (pick as { dataset: DatasetRecord }).dataset : await register();
  if (!d) return undefined;
  if (d.splits.length === 0) return { dataset: d.name };
  // Held-out data first (Enter takes it); train last, and never the default.
  const split = await vscode.window.showQuickPick(
    splitChoices(d.splits).map((s, i) => ({
      label: s,
      description: i === 0 && !/^train/i.test(s) ? 'default' : undefined,
    })),
    { title: `Which split of ${d.name}?`, ignoreFocusOut: true },
  );
  return split && { dataset: d.name, split: split.label };
}

function evaluatorProfiles(): EvaluatorProfile[] {
  const list = vscode.workspace.getConfiguration('modelRegistry').get<unknown[]>('evaluate.profiles') ?? [];
  return list.map((p) => checkEvaluatorProfile(p, 'setting modelRegistry.evaluate.profiles'));
}

/** undefined = the built-in evaluator; null = cancelled. Asks only when external evaluators are configured. */
async function pickEvaluator(profiles: EvaluatorProfile[]): Promise<EvaluatorProfile | undefined | null> {
  if (profiles.length === 0) return undefined;
  const builtin = { label: 'Built-in (onnxruntime)', detail: 'Runs the ONNX model on the samples in this window' };
  const pick = await vscode.window.showQuickPick(
    [
      builtin,
      ...profiles.map((p) => ({ label: p.title ?? p.id, detail: `${p.tool} ${p.args.join(' ')}`, profile: p })),
    ],
    { title: 'Evaluator' },
  );
  if (!pick) return null;
  return 'profile' in pick ? (pick as { profile: EvaluatorProfile }).profile : undefined;
}

async function run(
  service: RegistryService,
  v: VersionRecord,
  dataset: string,
  split?: string,
  evaluator?: EvaluatorProfile,
) {
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return withCancellableProgress(
    `Evaluating ${v.ref} on ${dataset}`,
    `Evaluation of ${v.ref} cancelled; nothing was recorded.`,
    async ({ signal, advance }) => {
      if (evaluator) {
        const out = evaluationLog();
        out.show(true);
        const e = await evaluateExternally(await service.get(), v.ref, evaluator, {
          dataset,
          split,
          cwd,
          signal,
          log: (l) => out.appendLine(l),
        });
        service.fireSoon();
        return e;
      }
      const e = await evaluateVersion(await service.get(), v.ref, {
        dataset,
        split,
        cwd,
        signal,
        onProgress: (done, total) => advance(done, total, `${done} of ${total} samples`),
      });
      service.fireSoon();
      void vscode.window.setStatusBarMessage(
        e.details.task === 'detection'
          ? `${v.ref} on ${dataset}: AP ${formatMetric(e.metrics.AP ?? null)}`
          : `${v.ref} on ${dataset}: accuracy ${formatMetric(e.metrics.accuracy ?? null)}`,
        8000,
      );
      return e;
    },
  );
}

import { randomBytes } from 'crypto';
import * as path from 'path';
import * as vscode from 'vscode';
import { Registry } from '../../core';
import type { DatasetRecord } from '../../core/datasets/types';
import {
  EvaluationView,
  HostMessage,
  PageMessage,
  parseFromWebview,
  SampleQuery,
  SampleView,
} from '../../core/evaluate/contract';
import { TableSnippets, truncate } from '../../core/evaluate/snippets';
import { evaluationSamples, getDatasetById, getEvaluation, readManifest } from '../../core/evaluate/store';
import type { SamplePrediction } from '../../core/evaluate/types';
import { evaluationIdOf, evaluationView, imagePath, sampleTotal } from '../../core/evaluate/view';
import { showError } from '../errors';
import { RegistryService } from '../registry/registryService';
import { evaluationPageHtml } from './pageHtml';

export const EVALUATION_VIEW_TYPE = 'modelRegistry.evaluation';
export const OPEN_EVALUATION_COMMAND = 'modelRegistry.openEvaluation';
/** Samples listed per query; the page says how many more there are. */
const SAMPLE_LIMIT = 200;

/**
 * One evaluation's results: metric cards, per-class table, confusion matrix, and a browser of the
 * samples behind a cell. One panel per evaluation; the page asks, the host queries the store.
 */
export class EvaluationPanel implements vscode.Disposable {
  private static readonly open = new Map<number, Promise<EvaluationPanel>>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Sample ids the page has been shown: the only ones it may ask to open. */
  private readonly shown = new Set<string>();
  /** Resolves when the page has said it is ready; posts before that would be lost. */
  private readonly ready: Promise<void>;
  private markReady!: () => void;
  private pageReady = false;
  private disposed = false;
  /** Row snippets of a table dataset, read on the first request. */
  private readonly snippets: TableSnippets | undefined;
  /** For tests: the last message posted to the page. */
  lastPosted: HostMessage | undefined;

  /** Opens the evaluation's panel, or reveals it when it is open already. */
  static async show(
    service: RegistryService,
    extensionUri: vscode.Uri,
    evaluationId: number,
  ): Promise<EvaluationPanel> {
    const existing = EvaluationPanel.open.get(evaluationId);
    if (existing) {
      const p = await existing;
      p.panel.reveal();
      return p;
    }
    // Registered before the awaits so a second click while loading reveals rather than opens a twin.
    const opening = EvaluationPanel.create(service, extensionUri, evaluationId);
    EvaluationPanel.open.set(evaluationId, opening);
    opening.catch(() => EvaluationPanel.open.delete(evaluationId));
    return opening;
  }

  private static async create(
    service: RegistryService,
    extensionUri: vscode.Uri,
    id: number,
  ): Promise<EvaluationPanel> {
    const registry = await service.get();
    const evaluation = await getEvaluation(registry, id);
    if (!evaluation) throw new Error(`evaluation ${id} does not exist (it may have been deleted)`);
    const dataset = await getDatasetById(registry, evaluation.datasetId);
    const view = evaluationView(evaluation, dataset);
    const panel = vscode.window.createWebviewPanel(
      EVALUATION_VIEW_TYPE,
      `Evaluation: ${view.ref} on ${view.dataset.name}`,
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        retainContextWhenHidden: true, // keeps the selected cell and its samples across tab switches
        localResourceRoots: resourceRoots(extensionUri, dataset),
      },
    );
    return new EvaluationPanel(panel, service, extensionUri, id, view, dataset);
  }

  /** Panels open now (for tests). */
  static async all(): Promise<EvaluationPanel[]> {
    return Promise.all([...EvaluationPanel.open.values()]);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly service: RegistryService,
    extensionUri: vscode.Uri,
    readonly evaluationId: number,
    private view: EvaluationView,
    private readonly dataset: DatasetRecord | undefined,
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    if (dataset?.kind === 'table')
      this.snippets = new TableSnippets(dataset.root, async () => readManifest(await this.registry(), dataset));
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'registry.svg');
    const dist = panel.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview')).toString();
    panel.webview.html = evaluationPageHtml({
      cspSource: panel.webview.cspSource,
      dist,
      nonce: randomBytes(16).toString('base64'),
    });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m) => void this.onMessage(m)),
      service.onDidChange(() => void this.refresh()),
    );
    void this.ready.then(() => this.post({ type: 'init', evaluation: this.view }));
  }

  private registry(): Promise<Registry> {
    return this.service.get();
  }

  /** A running evaluation finishes, or one is deleted: show what the registry holds now. */
  private async refresh(): Promise<void> {
    try {
      const e = await getEvaluation(await this.registry(), this.evaluationId);
      if (!e) {
        await this.post({ type: 'error', message: 'This evaluation was deleted from the registry.' });
        return;
      }
      const next = evaluationView(e, this.dataset);
      if (JSON.stringify(next) === JSON.stringify(this.view)) return;
      this.view = next;
      if (this.pageReady) await this.post({ type: 'init', evaluation: next });
    } catch (e) {
      showError('Evaluation panel', e);
    }
  }

  private async post(message: HostMessage): Promise<void> {
    if (this.disposed) return;
    this.lastPosted = message;
    await this.panel.webview.postMessage(message);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const msg = parseFromWebview(raw, this.view.classes.length);
    if (!msg) return; // malformed or unknown: ignore, never act on it
    try {
      await this.handle(msg);
    } catch (e) {
      if ('request' in msg)
        await this.post({
          type: 'error',
          request: msg.request,
          message: `Could not load the samples: ${(e as Error).message}`,
        });
      else showError('Evaluation panel', e);
    }
  }

  private async handle(msg: PageMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        // A later 'ready' means the page reloaded and needs the data again.
        if (this.pageReady) await this.post({ type: 'init', evaluation: this.view });
        this.pageReady = true;
        this.markReady();
        return;
      case 'cell':
        return this.sendSamples(msg.request, { label: msg.label, prediction: msg.prediction });
      case 'class-errors':
        return this.sendSamples(msg.request, { kind: msg.kind, cls: msg.cls });
      case 'errors':
        return this.sendSamples(msg.request, { kind: 'errors' });
      case 'open-sample': {
        const file = this.shown.has(msg.sampleId) ? this.imageFile(msg.sampleId) : undefined;
        if (file) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
        return;
      }
    }
  }

  private async sendSamples(request: number, cell: SampleQuery): Promise<void> {
    // Off-diagonal cells are at once the false positives of the prediction and the false negatives of the label.
    const filter =
      'label' in cell
        ? { label: cell.label, prediction: cell.prediction }
        : cell.kind === 'fp'
          ? { prediction: cell.cls, wrong: true }
          : cell.kind === 'fn'
            ? { label: cell.cls, wrong: true }
            : { errors: true };
    const rows = await evaluationSamples(await this.registry(), this.evaluationId, { ...filter, limit: SAMPLE_LIMIT });
    const samples = await Promise.all(rows.map((s) => this.sampleView(s)));
    await this.post({ type: 'samples', request, cell, samples, total: sampleTotal(this.view, cell) });
  }

  private async sampleView(s: SamplePrediction): Promise<SampleView> {
    this.shown.add(s.sampleId);
    const v: SampleView = { sampleId: s.sampleId, label: s.label, prediction: s.prediction, score: s.score };
    if (s.error) v.error = s.error;
    const file = this.imageFile(s.sampleId);
    if (file) v.thumbnail = this.panel.webview.asWebviewUri(vscode.Uri.file(file)).toString();
    else v.text = this.snippets ? await this.snippets.get(s.sampleId) : truncate(s.sampleId);
    return v;
  }

  /** The sample's image under the dataset root; undefined for other datasets or ids leading elsewhere. */
  private imageFile(sampleId: string): string | undefined {
    return this.dataset?.kind === 'image-folder' ? imagePath(this.dataset.root, sampleId) : undefined;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    EvaluationPanel.open.delete(this.evaluationId);
    this.markReady(); // release the pending init for a page that is gone
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

/** The bundle's folder, plus the dataset root for image datasets (thumbnails); nothing else is loadable. */
function resourceRoots(extensionUri: vscode.Uri, dataset: DatasetRecord | undefined): vscode.Uri[] {
  const roots = [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')];
  if (dataset?.kind === 'image-folder' && path.isAbsolute(dataset.root)) roots.push(vscode.Uri.file(dataset.root));
  return roots;
}

/** The command modelRegistry.openEvaluation: argument an evaluation id or a tree node {kind: 'evaluation', evaluation}. */
export function registerEvaluationPanel(
  context: vscode.ExtensionContext,
  service: RegistryService,
): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(OPEN_EVALUATION_COMMAND, async (arg?: unknown) => {
      const id = evaluationIdOf(arg);
      if (id === undefined) {
        void vscode.window.showInformationMessage(
          'Choose an evaluation under a version in the Models view to open it.',
        );
        return undefined;
      }
      try {
        return await EvaluationPanel.show(service, context.extensionUri, id);
      } catch (e) {
        showError('Could not open the evaluation', e);
        return undefined;
      }
    }),
  ];
}

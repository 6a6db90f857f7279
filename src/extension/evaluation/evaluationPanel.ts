import * as path from 'path';
import * as vscode from 'vscode';
import { Registry } from '../../core';
import type { DatasetRecord } from '../../core/datasets/types';
import { TableSnippets, truncate } from '../../core/evaluate/snippets';
import type { SamplePrediction } from '../../core/evaluate/types';
import { evaluationIdOf, imagePath } from '../../core/evaluate/view';
import {
  EVALUATION_PAGE,
  EvaluationState,
  EvaluationView,
  HostMessage,
  PageMessage,
  parseFromWebview,
  SampleQuery,
  SampleView,
} from '../../shared/evaluation/contract';
import { evaluationView, sampleTotal } from '../../shared/evaluation/view';
import { isDetectionEvaluation } from '../../shared/detection/view';
import { showError } from '../errors';
import { BasePanel, registerPanelSerializer } from '../panels/basePanel';
import { COMMANDS } from '../commands/commandIds';
import { RegistryService } from '../registry/registryService';
import { DetectionPanel, registerDetectionPanel } from './detectionPanel';

export const OPEN_EVALUATION_COMMAND = COMMANDS.openEvaluation;
/** Samples listed per query; the page says how many more there are. */
const SAMPLE_LIMIT = 200;

/**
 * One evaluation's results: metric cards, per-class table, confusion matrix, and a browser of the
 * samples behind a cell. One panel per evaluation; the page asks, the host queries the store.
 */
export class EvaluationPanel extends BasePanel<PageMessage, HostMessage, EvaluationState> {
  private static readonly open = new Map<number, Promise<EvaluationPanel>>();
  /** Sample ids the page has been shown: the only ones it may ask to open. */
  private readonly shown = new Set<string>();
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

  /** After a window reload, from the evaluation the page kept; an evaluation deleted meanwhile closes the panel. */
  static revive(panel: vscode.WebviewPanel, service: RegistryService, extensionUri: vscode.Uri, id: number): void {
    const opening = EvaluationPanel.create(service, extensionUri, id, panel);
    EvaluationPanel.open.set(id, opening);
    opening.catch(() => {
      EvaluationPanel.open.delete(id);
      panel.dispose();
    });
  }

  private static async create(
    service: RegistryService,
    extensionUri: vscode.Uri,
    id: number,
    restored?: vscode.WebviewPanel,
  ): Promise<EvaluationPanel> {
    const registry = await service.get();
    const evaluation = await registry.getEvaluation(id);
    if (!evaluation) throw new Error(`evaluation ${id} does not exist (it may have been deleted)`);
    const dataset = await registry.getDatasetById(evaluation.datasetId);
    const view = evaluationView(evaluation, dataset);
    const title = `Evaluation: ${view.ref} on ${view.dataset.name}`;
    if (restored) restored.title = title;
    const panel =
      restored ??
      BasePanel.createPanel(
        EVALUATION_PAGE,
        title,
        vscode.ViewColumn.Active,
        { extensionUri, roots: datasetRoots(dataset) },
        true, // keeps the selected cell and its samples across tab switches
      );
    return new EvaluationPanel(panel, service, extensionUri, id, view, dataset);
  }

  /** Panels open now (for tests). */
  static async all(): Promise<EvaluationPanel[]> {
    return Promise.all([...EvaluationPanel.open.values()]);
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly service: RegistryService,
    extensionUri: vscode.Uri,
    readonly evaluationId: number,
    private view: EvaluationView,
    private readonly dataset: DatasetRecord | undefined,
  ) {
    super(panel, EVALUATION_PAGE, { extensionUri, roots: datasetRoots(dataset) });
    if (dataset?.kind === 'table')
      this.snippets = new TableSnippets(dataset.root, async () => (await this.registry()).readManifest(dataset));
    this.track(
      new vscode.Disposable(() => EvaluationPanel.open.delete(evaluationId)),
      service.onDidChange(() => void this.refresh()),
    );
    void this.post({ type: 'init', payload: this.view });
  }

  private registry(): Promise<Registry> {
    return this.service.get();
  }

  /** A running evaluation finishes, or one is deleted: show what the registry holds now. */
  private async refresh(): Promise<void> {
    try {
      const e = await (await this.registry()).getEvaluation(this.evaluationId);
      if (!e) {
        await this.post({ type: 'error', payload: { message: 'This evaluation was deleted from the registry.' } });
        return;
      }
      const next = evaluationView(e, this.dataset);
      if (JSON.stringify(next) === JSON.stringify(this.view)) return;
      this.view = next;
      await this.post({ type: 'init', payload: next });
    } catch (e) {
      showError('Evaluation panel', e);
    }
  }

  protected override async post(message: HostMessage): Promise<boolean> {
    const posted = await super.post(message);
    if (posted) this.lastPosted = message;
    return posted;
  }

  /** Class indices must lie within this evaluation's classes. */
  protected override parse(raw: unknown): PageMessage | undefined {
    return parseFromWebview(raw, this.view.classes.length);
  }

  protected async onPageReloaded(): Promise<void> {
    await this.post({ type: 'init', payload: this.view });
  }

  /** A failed sample query is answered on the page, next to the samples it was for. */
  protected override async onHandleError(msg: PageMessage, e: unknown): Promise<void> {
    if ('payload' in msg && 'request' in msg.payload)
      await this.post({
        type: 'error',
        payload: { request: msg.payload.request, message: `Could not load the samples: ${(e as Error).message}` },
      });
    else showError('Evaluation panel', e);
  }

  protected async handle(msg: PageMessage): Promise<void> {
    switch (msg.type) {
      case 'cell':
        return this.sendSamples(msg.payload.request, { label: msg.payload.label, prediction: msg.payload.prediction });
      case 'classErrors':
        return this.sendSamples(msg.payload.request, { kind: msg.payload.kind, cls: msg.payload.cls });
      case 'errors':
        return this.sendSamples(msg.payload.request, { kind: 'errors' });
      case 'openSample': {
        const { sampleId } = msg.payload;
        const file = this.shown.has(sampleId) ? this.imageFile(sampleId) : undefined;
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
    const rows = await (await this.registry()).evaluationSamples(this.evaluationId, { ...filter, limit: SAMPLE_LIMIT });
    const samples = await Promise.all(rows.map((s) => this.sampleView(s)));
    await this.post({ type: 'samples', payload: { request, cell, samples, total: sampleTotal(this.view, cell) } });
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
}

/** The dataset root for image datasets (thumbnails), beside the bundle's folder; nothing else is loadable. */
function datasetRoots(dataset: DatasetRecord | undefined): vscode.Uri[] {
  return dataset?.kind === 'image-folder' && path.isAbsolute(dataset.root) ? [vscode.Uri.file(dataset.root)] : [];
}

/** Opens an evaluation in its panel: the detection review for a detection evaluation, else the classification one. */
export async function openEvaluation(
  service: RegistryService,
  extensionUri: vscode.Uri,
  id: number,
): Promise<EvaluationPanel | DetectionPanel> {
  const e = await (await service.get()).getEvaluation(id);
  if (e && isDetectionEvaluation(e)) return DetectionPanel.show(service, extensionUri, id);
  return EvaluationPanel.show(service, extensionUri, id);
}

/** The command modelRegistry.openEvaluation (argument an evaluation id or a tree node {kind: 'evaluation', evaluation}): a detection evaluation opens the detection panel. */
export function registerEvaluationPanel(
  context: vscode.ExtensionContext,
  service: RegistryService,
): vscode.Disposable[] {
  return [
    ...registerDetectionPanel(context, service),
    registerPanelSerializer(EVALUATION_PAGE, (panel, state) =>
      EvaluationPanel.revive(panel, service, context.extensionUri, state.evaluationId),
    ),
    vscode.commands.registerCommand(OPEN_EVALUATION_COMMAND, async (arg?: unknown) => {
      const id = evaluationIdOf(arg);
      if (id === undefined) {
        void vscode.window.showInformationMessage(
          'Choose an evaluation under a version in the Models view to open it.',
        );
        return undefined;
      }
      try {
        return await openEvaluation(service, context.extensionUri, id);
      } catch (e) {
        showError('Could not open the evaluation', e);
        return undefined;
      }
    }),
  ];
}

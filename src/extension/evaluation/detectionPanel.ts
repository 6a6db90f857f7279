import { existsSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  boxCrops,
  BrowsedImage,
  browseImages,
  confusionAt,
  countsAt,
  imageAt,
} from '../../core/evaluate/detection/browse';
import { imagesDirOf, ReviewImage, reviewImages, ThumbnailCache } from '../../core/evaluate/detection/thumbnails';
import type { ImageOutcomes } from '../../core/evaluate/detection/types';
import { ImagePool } from '../../core/evaluate/imagePool';
import type { DatasetRecord } from '../../core/registry/datasetTypes';
import {
  DETECTION_PAGE,
  DetectionState,
  DetectionView,
  HostMessage,
  ImageTile,
  PageMessage,
  parseFromDetectionPage,
} from '../../shared/detection/contract';
import { detectionView } from '../../shared/detection/view';
import { showError } from '../errors';
import { BasePanel, registerPanelSerializer } from '../panels/basePanel';
import { RegistryService } from '../registry/registryService';

/** Where thumbnails are cached, under the registry's own folder (local, also for a team registry). */
const thumbnailDir = (registryDir: string) => path.join(registryDir, 'cache', 'thumbnails');

/**
 * A detection evaluation's review: metrics, per-class table, PR curves, confusion matrix with
 * background, an image browser and the crops behind a cell. The host loads every image's outcomes
 * once and answers the page's queries with core/evaluate/detection/browse at the page's confidence.
 */
export class DetectionPanel extends BasePanel<PageMessage, HostMessage, DetectionState> {
  private static readonly open = new Map<number, Promise<DetectionPanel>>();
  private outcomes: Promise<ImageOutcomes[]> | undefined;
  private readonly pool = new ImagePool(Math.max(1, Math.min(2, os.cpus().length - 1)));
  /** For tests: the last message posted to the page. */
  lastPosted: HostMessage | undefined;

  static async show(service: RegistryService, extensionUri: vscode.Uri, evaluationId: number): Promise<DetectionPanel> {
    const existing = DetectionPanel.open.get(evaluationId);
    if (existing) {
      const p = await existing;
      p.panel.reveal();
      return p;
    }
    // Registered before the awaits so a second click while loading reveals rather than opens a twin.
    const opening = DetectionPanel.create(service, extensionUri, evaluationId);
    DetectionPanel.open.set(evaluationId, opening);
    opening.catch(() => DetectionPanel.open.delete(evaluationId));
    return opening;
  }

  static revive(panel: vscode.WebviewPanel, service: RegistryService, extensionUri: vscode.Uri, id: number): void {
    const opening = DetectionPanel.create(service, extensionUri, id, panel);
    DetectionPanel.open.set(id, opening);
    opening.catch(() => {
      DetectionPanel.open.delete(id);
      panel.dispose();
    });
  }

  static async all(): Promise<DetectionPanel[]> {
    return Promise.all([...DetectionPanel.open.values()]);
  }

  private static async create(
    service: RegistryService,
    extensionUri: vscode.Uri,
    id: number,
    restored?: vscode.WebviewPanel,
  ): Promise<DetectionPanel> {
    const registry = await service.get();
    const evaluation = await registry.getEvaluation(id);
    if (!evaluation) throw new Error(`evaluation ${id} does not exist (it may have been deleted)`);
    const dataset = await registry.getDatasetById(evaluation.datasetId);
    if (!dataset) throw new Error(`the dataset of evaluation ${id} is no longer registered`);
    const manifest = await registry.readManifest(dataset);
    const images = reviewImages(dataset, manifest);
    const view = detectionView(evaluation, { imagesMissing: manifest.detection?.imagesMissing === true });
    const title = `Detection: ${view.ref} on ${view.dataset.name}`;
    if (restored) restored.title = title;
    const roots = rootsOf(dataset, registry.dir);
    const panel =
      restored ?? BasePanel.createPanel(DETECTION_PAGE, title, vscode.ViewColumn.Active, { extensionUri, roots }, true);
    return new DetectionPanel(panel, service, extensionUri, roots, view, images, thumbnailDir(registry.dir));
  }

  private readonly thumbnails: ThumbnailCache;

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly service: RegistryService,
    extensionUri: vscode.Uri,
    roots: vscode.Uri[],
    private readonly view: DetectionView,
    private readonly images: Map<string, ReviewImage>,
    thumbDir: string,
  ) {
    super(panel, DETECTION_PAGE, { extensionUri, roots });
    this.thumbnails = new ThumbnailCache(thumbDir, this.pool);
    this.track(
      new vscode.Disposable(() => DetectionPanel.open.delete(view.id)),
      new vscode.Disposable(() => void this.pool.close()),
      service.onDidChange(() => void this.checkStillThere()),
    );
    void this.post({ type: 'init', payload: view });
  }

  /** All the evaluation's images, read once (5,000 images of 100 boxes are some tens of MB). */
  private all(): Promise<ImageOutcomes[]> {
    if (!this.outcomes) {
      this.outcomes = this.service
        .get()
        .then((r) => r.evaluationImages(this.view.id, { limit: Number.MAX_SAFE_INTEGER }));
      this.outcomes.catch(() => (this.outcomes = undefined)); // a failed read is tried again on the next query
    }
    return this.outcomes;
  }

  /** An evaluation is immutable once done; one deleted meanwhile is said so. */
  private async checkStillThere(): Promise<void> {
    try {
      if (!(await (await this.service.get()).getEvaluation(this.view.id)))
        await this.post({ type: 'error', payload: { message: 'This evaluation was deleted from the registry.' } });
    } catch (e) {
      showError('Detection panel', e);
    }
  }

  protected override async post(message: HostMessage): Promise<boolean> {
    const posted = await super.post(message);
    if (posted) this.lastPosted = message;
    return posted;
  }

  protected override parse(raw: unknown): PageMessage | undefined {
    return parseFromDetectionPage(raw, this.view.classes.length);
  }

  protected async onPageReloaded(): Promise<void> {
    await this.post({ type: 'init', payload: this.view });
  }

  protected override async onHandleError(msg: PageMessage, e: unknown): Promise<void> {
    if ('payload' in msg)
      await this.post({
        type: 'error',
        payload: { request: msg.payload.request, message: `Could not load the boxes: ${(e as Error).message}` },
      });
    else showError('Detection panel', e);
  }

  protected async handle(msg: PageMessage): Promise<void> {
    const K = this.view.classes.length;
    const images = await this.all();
    switch (msg.type) {
      case 'stats': {
        const { confidence, request } = msg.payload;
        const counts = countsAt(images, confidence, K);
        const confusion = confusionAt(images, confidence, K);
        await this.post({ type: 'stats', payload: { request, stats: { confidence, ...counts, confusion } } });
        return;
      }
      case 'images': {
        const { request, query, offset, limit } = msg.payload;
        const page = browseImages(images, {
          confidence: query.confidence,
          cls: query.cls ?? undefined,
          outcome: query.outcome ?? undefined,
          sort: query.sort,
          offset,
          limit,
        });
        const tiles = await Promise.all(page.images.map((b) => this.tile(b)));
        await this.post({ type: 'images', payload: { request, offset, total: page.total, images: tiles } });
        this.makeThumbnails(tiles);
        return;
      }
      case 'image': {
        const { request, confidence, index } = msg.payload;
        const found = imageAt(images, index, confidence);
        if (!found) throw new Error(`this evaluation has no image ${index}`);
        await this.post({ type: 'image', payload: { request, image: await this.tile(found) } });
        return;
      }
      case 'crops': {
        const { request, confidence, query } = msg.payload;
        const { total, crops } = boxCrops(images, confidence, query, K);
        const tiles = crops.map((c) => {
          const source = this.images.get(c.sampleId);
          const file = source?.file && existsSync(source.file) ? source.file : undefined;
          return {
            ...c,
            width: source?.width ?? 0,
            height: source?.height ?? 0,
            ...(file ? { src: this.uri(file) } : {}),
          };
        });
        await this.post({ type: 'crops', payload: { request, query, total, crops: tiles } });
        return;
      }
    }
  }

  /** An image as the page draws it: its boxes, size, and the webview URIs of its file and cached thumbnail. */
  private async tile({ index, image, counts }: BrowsedImage): Promise<ImageTile> {
    const source = this.images.get(image.sampleId);
    const tile: ImageTile = {
      index,
      sampleId: image.sampleId,
      width: source?.width ?? 0,
      height: source?.height ?? 0,
      counts,
      predictions: image.predictions,
      truths: image.truths,
    };
    if (source?.file && existsSync(source.file)) {
      tile.src = this.uri(source.file);
      const cached = source.sha256 ? await this.thumbnails.cached(source.sha256) : undefined;
      if (cached) tile.thumb = this.uri(cached);
    }
    return tile;
  }

  /** Thumbnails not cached yet are made on the pool's workers and sent as each is ready. */
  private makeThumbnails(tiles: ImageTile[]): void {
    for (const t of tiles) {
      const source = this.images.get(t.sampleId);
      if (t.thumb || !t.src || !source?.file || !source.sha256) continue;
      // An image the workers cannot read, or a cache that cannot be written: the grid shows the original.
      const send = (f: string | undefined) =>
        this.post({ type: 'thumbs', payload: { thumbs: [{ index: t.index, thumb: f ? this.uri(f) : t.src! }] } });
      void this.thumbnails.get(source.file, source.sha256).then(send, () => send(undefined));
    }
  }

  private uri(file: string): string {
    return this.panel.webview.asWebviewUri(vscode.Uri.file(file)).toString();
  }
}

/** The images folder and the thumbnail cache: the only files besides the bundle the page may load. */
function rootsOf(dataset: DatasetRecord, registryDir: string): vscode.Uri[] {
  const dir = imagesDirOf(dataset);
  return [...(path.isAbsolute(dir) ? [vscode.Uri.file(dir)] : []), vscode.Uri.file(thumbnailDir(registryDir))];
}

/** Brings detection panels back after a window reload. */
export function registerDetectionPanel(
  context: vscode.ExtensionContext,
  service: RegistryService,
): vscode.Disposable[] {
  return [
    registerPanelSerializer(DETECTION_PAGE, (panel, state) =>
      DetectionPanel.revive(panel, service, context.extensionUri, state.evaluationId),
    ),
  ];
}

import { promises as fsp } from 'fs';
import * as vscode from 'vscode';
import { Registry } from '../../core';
import { followRunMetrics } from '../../core/train/liveMetrics';
import {
  COMPARE_PAGE,
  CompareState,
  ComparisonModel,
  Direction,
  FromWebview,
  ToWebview,
} from '../../shared/compare/contract';
import { applyLiveSeries } from '../../shared/compare/live';
import { BasePanel } from '../panels/basePanel';
import { COMMANDS } from '../commands/commandIds';
import { runCommand } from '../commands/register';
import { RegistryService } from '../registry/registryService';
import { workspaceRepositories } from '../workspaceGit';
import { openCodeDiff } from './codeDiff';
import { buildComparison, DEFAULT_MAX_POINTS, seriesWindow } from './comparison';
import { comparisonCsv, comparisonMarkdown } from './export';
import { LiveColumnSeries, LiveColumnState, LiveRunInfo, withLiveColumns } from './live';

/** Most versions an across-versions panel shows (the newest), as many as its saved state holds. */
const MAX_ACROSS = 50;

/** Directions the user set for metric keys (the panel's ↑/↓ toggle writes here). */
function directionSettings(): Record<string, Direction> {
  return vscode.workspace.getConfiguration('modelRegistry').get<Record<string, Direction>>('metricDirections') ?? {};
}

/**
 * One compare panel: builds the comparison in the extension host, posts it to the page, answers
 * the page's requests, and rebuilds when the registry or the direction settings change.
 */
export class ComparePanel extends BasePanel<FromWebview, ToWebview, CompareState> {
  private static readonly open = new Set<ComparePanel>();
  private model: ComparisonModel | undefined;
  private rebuildTimer: NodeJS.Timeout | undefined;
  /** For tests: the last comparison posted to the page, with the live points posted since. */
  lastPosted: ComparisonModel | undefined;
  /** Training runs shown as live columns, by run id, each with the disposer of its follower. */
  private readonly live = new Map<string, LiveColumnState & { stop: () => void }>();
  private liveColumns = 0;

  static show(
    service: RegistryService,
    extensionUri: vscode.Uri,
    versionIds: number[],
    acrossModel?: string,
  ): ComparePanel {
    const panel = BasePanel.createPanel(
      COMPARE_PAGE,
      'Compare',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      { extensionUri },
      true, // charts are costly to rebuild on every tab switch
    );
    return new ComparePanel(panel, service, extensionUri, versionIds, acrossModel);
  }

  static revive(
    panel: vscode.WebviewPanel,
    service: RegistryService,
    extensionUri: vscode.Uri,
    state: CompareState,
  ): ComparePanel {
    return new ComparePanel(panel, service, extensionUri, state.versionIds, state.acrossModel);
  }

  /** Panels open now (the tests look at what they posted). */
  static all(): ComparePanel[] {
    return [...ComparePanel.open];
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly service: RegistryService,
    extensionUri: vscode.Uri,
    readonly versionIds: number[],
    /** Set in the across-versions mode: the panel shows every ready version of this model. */
    readonly acrossModel?: string,
  ) {
    super(panel, COMPARE_PAGE, { extensionUri });
    ComparePanel.open.add(this);
    this.track(
      new vscode.Disposable(() => {
        ComparePanel.open.delete(this);
        clearTimeout(this.rebuildTimer);
        for (const l of this.live.values()) l.stop();
      }),
      service.onDidChange(() => this.rebuildSoon()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (
          e.affectsConfiguration('modelRegistry.metricDirections') ||
          e.affectsConfiguration('modelRegistry.compare.maxPoints')
        )
          this.rebuildSoon();
      }),
    );
    void this.rebuild();
  }

  /**
   * Adds a running training run as a live column: its curves grow as it writes its metric logs,
   * read as the import will read them. Adding a run already shown does nothing.
   */
  addLiveRun(run: LiveRunInfo): void {
    if (this.live.has(run.id) || this.disposed) return;
    const series = new LiveColumnSeries(-++this.liveColumns, this.maxPoints());
    const state: LiveColumnState & { stop: () => void } = { run, running: true, series, stop: () => undefined };
    this.live.set(run.id, state);
    state.stop = followRunMetrics(run.output, (logs) => {
      const update = series.update(logs);
      if (!update || this.live.get(run.id) !== state) return;
      // A key the table has no row for yet (the run's first points): the whole comparison, once.
      if (!this.model || update.series.some((c) => !this.model!.metrics.some((r) => r.key === c.key))) {
        this.rebuildSoon();
        return;
      }
      // The page applies the same update to its copy; export and a reloaded page see the points too.
      applyLiveSeries(this.model, update);
      void this.post({ type: 'liveSeries', payload: update });
    });
    void this.rebuild();
  }

  /**
   * The run ended: its curves stop growing. When it became a version, that version's column takes
   * the live column's place; otherwise the column stays with the last points, marked as ended.
   */
  async markLiveRunEnded(id: string, versionId?: number): Promise<void> {
    const l = this.live.get(id);
    if (!l) return;
    l.stop();
    l.running = false;
    if (versionId !== undefined) {
      this.live.delete(id);
      if (!this.versionIds.includes(versionId)) this.versionIds.push(versionId);
    }
    await this.rebuild();
  }

  private async registry(): Promise<Registry> {
    return this.service.get();
  }

  private maxPoints(): number {
    return vscode.workspace.getConfiguration('modelRegistry').get<number>('compare.maxPoints') ?? DEFAULT_MAX_POINTS;
  }

  /**
   * New versions of the compared models that landed since the panel opened join the comparison,
   * so a panel left open during training shows each new run as it is imported.
   */
  private async followNewVersions(registry: Registry): Promise<void> {
    const known = new Set(this.versionIds);
    const newest = Math.max(...this.versionIds);
    const models = new Set<string>();
    for (const id of this.versionIds) {
      const v = await registry.getVersionById(id);
      if (v) models.add(v.model);
    }
    for (const model of models) {
      for (const v of (await registry.listVersions(model)).reverse()) {
        if (v.status === 'ready' && v.id > newest && !known.has(v.id)) this.versionIds.push(v.id);
      }
    }
  }

  /**
   * Across versions: the model's ready versions in order, re-read on each rebuild so imports and
   * deletes show. The newest 50 at most, as many as the panel's saved state holds.
   */
  private async allVersions(registry: Registry, model: string): Promise<void> {
    const ready = (await registry.listVersions(model)).filter((v) => v.status === 'ready');
    const ids = ready
      .map((v) => v.id)
      .sort((a, b) => a - b)
      .slice(-MAX_ACROSS);
    if (ids.length > 0) this.versionIds.splice(0, this.versionIds.length, ...ids);
  }

  /** Builds the comparison and posts it once the page is listening. */
  async rebuild(): Promise<ComparisonModel | undefined> {
    try {
      if (this.acrossModel) await this.allVersions(await this.registry(), this.acrossModel);
      else await this.followNewVersions(await this.registry());
      const built = await buildComparison(await this.registry(), this.versionIds, {
        directions: directionSettings(),
        maxPoints: this.maxPoints(),
        repositories: await workspaceRepositories(),
      });
      const withLive = withLiveColumns(built, [...this.live.values()], directionSettings());
      const model: ComparisonModel = this.acrossModel ? { ...withLive, acrossModel: this.acrossModel } : withLive;
      this.model = model;
      this.panel.title = this.acrossModel
        ? `${this.acrossModel} across versions`
        : `Compare ${model.versions.map((v) => (v.live ? `${v.ref} (live)` : v.ref)).join(' · ') || '(deleted versions)'}`;
      await this.post({ type: 'comparison', payload: model });
      this.lastPosted = model;
      return model;
    } catch (e) {
      await this.post({
        type: 'error',
        payload: { message: `Could not build the comparison: ${(e as Error).message}` },
      });
      return undefined;
    }
  }

  private rebuildSoon(): void {
    clearTimeout(this.rebuildTimer);
    this.rebuildTimer = setTimeout(() => void this.rebuild(), 200);
  }

  protected async onPageReloaded(): Promise<void> {
    if (this.model) await this.post({ type: 'comparison', payload: this.model });
  }

  protected async handle(msg: FromWebview): Promise<void> {
    switch (msg.type) {
      case 'requestWindow': {
        const { requestId, key, axis, min, max } = msg.payload;
        const series = await seriesWindow(
          await this.registry(),
          this.versionIds,
          key,
          axis,
          min,
          max,
          this.maxPoints(),
        );
        for (const l of this.live.values()) {
          const s = l.series.window(key, axis, min, max);
          if (s) series.push(s);
        }
        await this.post({ type: 'seriesWindow', payload: { requestId, key, axis, series } });
        return;
      }
      case 'openCommit': {
        const version = await (await this.registry()).getVersionById(msg.payload.versionId);
        if (version && this.versionIds.includes(version.id))
          await runCommand(COMMANDS.openCommit, { ref: version.ref });
        return;
      }
      case 'openDiff': {
        const r = await this.registry();
        const [base, head] = [
          await r.getVersionById(msg.payload.baseVersionId),
          await r.getVersionById(msg.payload.headVersionId),
        ];
        if (base && head && this.versionIds.includes(base.id) && this.versionIds.includes(head.id))
          await openCodeDiff(base, head);
        return;
      }
      case 'export': {
        if (!this.model) return;
        const { format, baselineVersionId } = msg.payload;
        const content =
          format === 'csv'
            ? comparisonCsv(this.model, baselineVersionId)
            : comparisonMarkdown(this.model, baselineVersionId);
        const doc = await vscode.workspace.openTextDocument({
          content,
          language: format === 'csv' ? 'csv' : 'markdown',
        });
        await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Active });
        return;
      }
      case 'savePng': {
        const target = await vscode.window.showSaveDialog({
          filters: { 'PNG image': ['png'] },
          defaultUri:
            vscode.workspace.workspaceFolders?.[0] &&
            vscode.Uri.joinPath(
              vscode.workspace.workspaceFolders[0].uri,
              `${msg.payload.key.replace(/[^\w.-]+/g, '_')}.png`,
            ),
        });
        if (target)
          await fsp.writeFile(
            target.fsPath,
            Buffer.from(msg.payload.dataUrl.slice('data:image/png;base64,'.length), 'base64'),
          );
        return;
      }
      case 'setDirection': {
        const config = vscode.workspace.getConfiguration('modelRegistry');
        const next = { ...directionSettings() };
        if (msg.payload.direction === null) delete next[msg.payload.key];
        else next[msg.payload.key] = msg.payload.direction;
        const target = vscode.workspace.workspaceFolders
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
        await config.update('metricDirections', next, target);
        return;
      }
    }
  }
}

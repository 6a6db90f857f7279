import * as vscode from 'vscode';
import { isActiveStatus, readableRunOutput, RunProgress, RunRecord, runProgress } from '../../core';
import { log } from '../errors';
import { RegistryService } from '../registry/registryService';
import { rowTreeItem } from '../rowItem';
import { runRow } from './runRows';

/** How often the view reads the registry while a run is active: elapsed time and epoch move on. */
const POLL_MS = 1000;
const SHOWN_RUNS = 100;

/** The folders the user opened (file ones): the only places a run's output is read from. */
export function workspaceFolderPaths(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

/**
 * The Runs view: the registry's runs, newest first, each with its status, elapsed time, epoch or
 * step and the latest value of its recipe's metric. The runs belong to their detached runner, so
 * the view only reads: every second while one is active, and whenever the registry changes. It
 * tells listeners when a run it saw active has ended (notifications, Compare's live columns) and
 * when one starts running (its task).
 */
export class RunsTreeProvider implements vscode.TreeDataProvider<RunRecord>, vscode.Disposable {
  private runs: RunRecord[] = [];
  private readonly progress = new Map<string, RunProgress>();
  /** Runs whose progress was read after they succeeded: their last epoch and metric, read no more. */
  private readonly settled = new Set<string>();
  /** Status of each run when last read; undefined before the first read, so runs that ended before the window opened are not announced. */
  private statuses: Map<string, RunRecord['status']> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly ended = new vscode.EventEmitter<RunRecord>();
  /** A run seen queued or running has ended (succeeded, failed or stopped). */
  readonly onDidEndRun = this.ended.event;
  private readonly started = new vscode.EventEmitter<RunRecord>();
  /** A run is running (seen for the first time so, including runs that were running when the window opened). */
  readonly onDidStartRun = this.started.event;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly service: RegistryService) {
    this.disposables = [this.changed, this.ended, this.started, service.onDidChange(() => void this.refresh())];
    void this.refresh();
  }

  /** Reads the runs again now (coalesced: a read in progress is awaited, then one more is made). */
  async refresh(): Promise<void> {
    const previous = this.reading;
    const next = (async () => {
      await previous?.catch(() => undefined);
      await this.read();
    })();
    this.reading = next;
    return next;
  }

  private async read(): Promise<void> {
    clearTimeout(this.timer);
    try {
      if (!this.service.exists()) {
        this.runs = [];
      } else {
        const registry = await this.service.get();
        this.runs = await registry.listRuns({ limit: SHOWN_RUNS });
        await Promise.all(
          this.runs
            // A run last read while running wrote its final epoch after that read: read it once more.
            .filter((r) => r.status === 'running' || (r.status === 'succeeded' && !this.settled.has(r.id)))
            .map(async (r) => {
              // The registry may come from a cloned repository: no progress from an output outside the workspace.
              const output = readableRunOutput(r, workspaceFolderPaths());
              const progress = output ? await runProgress(output, r.metric).catch(() => emptyProgress) : emptyProgress;
              this.progress.set(r.id, progress);
              if (r.status === 'succeeded') this.settled.add(r.id);
            }),
        );
      }
    } catch (e) {
      log().appendLine(`The Runs view could not read the runs: ${(e as Error).message}`);
    }
    this.announce();
    this.changed.fire();
    if (this.runs.some((r) => isActiveStatus(r.status))) this.timer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  private announce(): void {
    const before = this.statuses;
    this.statuses = new Map(this.runs.map((r) => [r.id, r.status]));
    for (const r of this.runs) {
      const was = before?.get(r.id);
      if (r.status === 'running' && was !== 'running') this.started.fire(r);
      if (before && was && isActiveStatus(was) && !isActiveStatus(r.status)) this.ended.fire(r);
    }
  }

  /** The runs as last read (tests, the commands' pickers). */
  get all(): readonly RunRecord[] {
    return this.runs;
  }

  getTreeItem(run: RunRecord): vscode.TreeItem {
    return rowTreeItem(runRow(run, this.progress.get(run.id), Date.now()), run.id);
  }

  getChildren(element?: RunRecord): RunRecord[] {
    return element ? [] : this.runs;
  }

  /** For TreeView.reveal. */
  getParent(): undefined {
    return undefined;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

const emptyProgress: RunProgress = { step: null, epoch: null, metric: null };

import * as vscode from 'vscode';
import { ServedModel, ServerProcess } from '../../core';
import { COMMANDS } from '../commands/commandIds';
import { log } from '../errors';
import { rowTreeItem } from '../rowItem';
import { deploymentRow, servedModelRow } from './deploymentRows';

/** How often the view reads each ready server's /metrics. */
const METRICS_MS = 2000;

export type DeploymentNode = ServerProcess | { deployment: ServerProcess; model: ServedModel };

export const isDeployment = (n: unknown): n is ServerProcess => n instanceof ServerProcess;

/**
 * The Deployments view: the servers this window started (Deploy Locally…), each with its URL, status,
 * request count, p50/p95 and errors, updated live, and under it the versions it serves. The servers
 * run in processes of their own; they stop when the window closes.
 */
export class DeploymentsTreeProvider implements vscode.TreeDataProvider<DeploymentNode>, vscode.Disposable {
  readonly deployments: ServerProcess[] = [];
  private readonly changed = new vscode.EventEmitter<DeploymentNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Started by the first deployment: a window that never deploys runs no timer. */
  private timer: NodeJS.Timeout | undefined;

  add(d: ServerProcess): void {
    this.timer ??= setInterval(() => void this.readMetrics(), METRICS_MS);
    this.deployments.unshift(d);
    d.on('change', () => this.changed.fire(undefined));
    this.changed.fire(undefined);
  }

  remove(d: ServerProcess): void {
    const i = this.deployments.indexOf(d);
    if (i >= 0) this.deployments.splice(i, 1);
    this.changed.fire(undefined);
  }

  /** Reads every ready server's metrics now (the timer does it every 2 s; tests call it). */
  async readMetrics(): Promise<void> {
    await Promise.all(
      this.deployments
        .filter((d) => d.status === 'ready')
        .map((d) =>
          d.readMetrics(AbortSignal.timeout(METRICS_MS)).catch((e: Error) => {
            log().appendLine(`Deployments: could not read ${d.url}/metrics: ${e.message}`);
          }),
        ),
    );
  }

  getTreeItem(n: DeploymentNode): vscode.TreeItem {
    if (isDeployment(n))
      // Expanded from the start: its versions appear under it once it is ready.
      return rowTreeItem(
        deploymentRow(n.snapshot(), Date.now()),
        `deployment-${n.id}`,
        vscode.TreeItemCollapsibleState.Expanded,
      );
    const row = servedModelRow(n.model, n.deployment.metrics);
    const item = new vscode.TreeItem(row.label);
    item.id = `deployment-${n.deployment.id}-${n.model.ref}`;
    item.description = row.description;
    item.tooltip = row.tooltip;
    item.contextValue = `deployment.model.${n.deployment.status}`;
    item.iconPath = new vscode.ThemeIcon('symbol-method');
    item.command = { command: COMMANDS.openRequestPanel, title: 'Open Request Panel', arguments: [n] };
    return item;
  }

  getChildren(n?: DeploymentNode): DeploymentNode[] {
    if (!n) return this.deployments;
    return isDeployment(n) ? n.models.map((model) => ({ deployment: n, model })) : [];
  }

  getParent(n: DeploymentNode): DeploymentNode | undefined {
    return isDeployment(n) ? undefined : n.deployment;
  }

  dispose(): void {
    clearInterval(this.timer);
    this.changed.dispose();
    for (const d of this.deployments) void d.stop();
  }
}

import * as vscode from 'vscode';
import { storedConfigUri } from '../config/storedConfig';
import { formatBytes, formatCount, formatMetric, VersionRecord } from '../../core';
import { RegistryService } from './registryService';
import { nodeId, TreeNode } from './treeNodes';

/** Models → versions → Files / Metrics / Source. Children are queried on expand, never up front. */
export class RegistryTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;
  /** Parents of the nodes handed out, so that reveal() can walk up. */
  private readonly parents = new Map<string, TreeNode | undefined>();

  constructor(private readonly service: RegistryService) {
    this.subscription = service.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.parents.clear();
    this.changed.fire(undefined);
  }

  async getChildren(parent?: TreeNode): Promise<TreeNode[]> {
    const children = await this.childrenOf(parent);
    for (const c of children) this.parents.set(nodeId(c), parent);
    return children;
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.parents.get(nodeId(node));
  }

  private async childrenOf(parent?: TreeNode): Promise<TreeNode[]> {
    if (!parent) {
      if (!this.service.exists()) return []; // the view's welcome text offers the import
      const models = await (await this.service.get()).listModels();
      return models.map((model) => ({ kind: 'model', model }));
    }
    const registry = await this.service.get();
    switch (parent.kind) {
      case 'model':
        return (await registry.listVersions(parent.model.name)).map((version) => ({ kind: 'version', version }));
      case 'version':
        if (parent.version.status !== 'ready') return [];
        return [
          ...(parent.version.config ? [{ kind: 'config', version: parent.version } as const] : []),
          ...(['files', 'metrics', 'source'] as const).map((group) => ({ kind: 'group', group, version: parent.version }) as const),
        ];
      case 'group': {
        const v = parent.version;
        if (parent.group === 'files') return (await registry.files(v.id)).map((file) => ({ kind: 'file', file, version: v }));
        if (parent.group === 'metrics') {
          const metrics = await registry.finalMetrics(v.id);
          if (metrics.length === 0) return [{ kind: 'message', text: 'No metric logs found in this output' }];
          return metrics.map((metric) => ({ kind: 'metric', metric, version: v }));
        }
        return sourceFacts(v);
      }
      default:
        return [];
    }
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    const item = new vscode.TreeItem(label(n), collapsible(n));
    item.id = nodeId(n);
    item.contextValue = n.kind === 'version' ? `version.${n.version.status}` : n.kind === 'fact' && n.label === 'commit' && n.version.git ? 'commit' : n.kind;
    switch (n.kind) {
      case 'model':
        item.description = `${n.model.versionCount} version${n.model.versionCount === 1 ? '' : 's'}`;
        item.tooltip = new vscode.MarkdownString(`**${n.model.name}**${n.model.description ? `\n\n${n.model.description}` : ''}\n\nUpdated ${n.model.updatedAt}`);
        item.iconPath = new vscode.ThemeIcon('package');
        break;
      case 'version': {
        const v = n.version;
        item.description = versionDescription(v);
        item.tooltip = versionTooltip(v);
        item.iconPath = new vscode.ThemeIcon(v.status === 'importing' ? 'sync~spin' : v.status === 'failed' ? 'error' : 'versions');
        break;
      }
      case 'group':
        item.iconPath = new vscode.ThemeIcon(n.group === 'files' ? 'files' : n.group === 'metrics' ? 'graph-line' : 'git-commit');
        if (n.group === 'files') item.description = `${n.version.fileCount} · ${formatBytes(n.version.sizeBytes)}`;
        break;
      case 'file':
        item.description = `${formatBytes(n.file.size)} · ${n.file.sha256.slice(0, 12)}`;
        item.tooltip = `${n.file.path}\n${n.file.role}, ${n.file.size} bytes\nsha256 ${n.file.sha256}`;
        item.iconPath = new vscode.ThemeIcon(n.file.role === 'weights' ? 'symbol-array' : n.file.role === 'metrics' ? 'graph' : 'file');
        break;
      case 'metric':
        item.description = `${formatMetric(n.metric.value)}${n.metric.isBest ? ' (best)' : ''}`;
        item.tooltip = `${n.metric.key} = ${n.metric.value}${n.metric.step !== null ? ` at step ${n.metric.step}` : ''}\n${n.metric.pointCount} points from ${n.metric.source}`;
        item.iconPath = new vscode.ThemeIcon('symbol-number');
        break;
      case 'fact':
        item.description = n.value;
        item.tooltip = `${n.label}: ${n.value}`;
        if (n.label === 'commit' && n.version.git) item.command = { command: 'modelRegistry.openCommit', title: 'Open Commit', arguments: [n] };
        break;
      case 'config':
        item.description = n.version.config?.templateId ?? 'no template';
        item.tooltip = `The config.json ${n.version.ref} was imported with${n.version.config?.templateId ? ` (template ${n.version.config.templateId})` : ''}; read-only, checked like any model config.`;
        item.iconPath = new vscode.ThemeIcon('settings');
        item.command = { command: 'vscode.open', title: 'Open config.json', arguments: [storedConfigUri(n.version)] };
        break;
      case 'message':
        item.iconPath = new vscode.ThemeIcon('info');
        break;
    }
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

function label(n: TreeNode): string {
  switch (n.kind) {
    case 'model':
      return n.model.name;
    case 'version':
      return `v${n.version.number}`;
    case 'group':
      return n.group === 'files' ? 'Files' : n.group === 'metrics' ? 'Metrics' : 'Source';
    case 'file':
      return n.file.path;
    case 'metric':
      return n.metric.key;
    case 'fact':
      return n.label;
    case 'config':
      return 'config.json';
    case 'message':
      return n.text;
  }
}

function collapsible(n: TreeNode): vscode.TreeItemCollapsibleState {
  if (n.kind === 'model' || n.kind === 'group') return vscode.TreeItemCollapsibleState.Collapsed;
  if (n.kind === 'version' && n.version.status === 'ready') return vscode.TreeItemCollapsibleState.Collapsed;
  return vscode.TreeItemCollapsibleState.None;
}

function versionDescription(v: VersionRecord): string {
  if (v.status !== 'ready') return v.status === 'importing' ? 'importing…' : 'failed';
  const parts = [v.format ?? 'files', formatBytes(v.sizeBytes)];
  if (v.git) parts.push(v.git.commit.slice(0, 7) + (v.git.dirty ? '*' : ''));
  return parts.join(' · ');
}

function versionTooltip(v: VersionRecord): vscode.MarkdownString {
  const lines = [`**${v.ref}** — ${v.status}`, ''];
  lines.push(`- format: ${v.format ?? '—'} (${v.framework ?? '—'})`);
  if (v.parameterCount !== null) lines.push(`- parameters: ${formatCount(v.parameterCount)}`);
  lines.push(`- size: ${formatBytes(v.sizeBytes)} in ${v.fileCount} files`);
  if (v.git) lines.push(`- commit: \`${v.git.commit.slice(0, 10)}\`${v.git.dirty ? ' (uncommitted changes)' : ''} ${v.git.subject}`);
  lines.push(`- imported: ${v.createdAt}`);
  const md = new vscode.MarkdownString(lines.join('\n'));
  md.supportHtml = false;
  return md;
}

function sourceFacts(v: VersionRecord): TreeNode[] {
  const facts: [string, string][] = [];
  if (v.git) {
    facts.push(['commit', `${v.git.commit.slice(0, 10)}${v.git.dirty ? ' (dirty)' : ''} ${v.git.subject}`]);
    facts.push(['branch', v.git.branch ?? '(detached HEAD)']);
    if (v.git.remote) facts.push(['remote', v.git.remote]);
    facts.push(['author', `${v.git.author} · ${v.git.date}`]);
  } else {
    facts.push(['commit', 'not in a git repository']);
  }
  facts.push(['imported from', v.source.uri]);
  facts.push(['imported at', v.createdAt]);
  return facts.map(([label, value]) => ({ kind: 'fact', label, value, version: v }));
}

import * as vscode from 'vscode';
import { modelTooltip, versionTooltip } from './tooltips';
import { storedConfigUri } from './storedConfigUri';
import {
  evaluationsOf,
  formatBytes,
  hasEvaluations,
  formatMetric,
  ObjectStore,
  Registry,
  VersionRecord,
  versionWarnings,
} from '../../core';
import { nodeId, TreeNode } from './treeNodes';
import { COMMANDS } from '../commands/commandIds';

/** Rows per page: the tree asks for one page (plus one row, to know whether to offer "Show more…"). */
export const MODEL_PAGE = 200;
export const VERSION_PAGE = 100;

/** Where a tree's registry comes from: the workspace's (RegistryService) or the team's (TeamRegistryService). */
export interface RegistrySource {
  readonly onDidChange: vscode.Event<void>;
  /** False when there is nothing to open yet (the view's welcome text shows instead). */
  exists(): boolean;
  get(): Promise<Registry<ObjectStore>>;
  /** Resolves once a pending refresh has fired. */
  settled(): Promise<void>;
  /** This window changed the registry: refresh what shows it. */
  fireSoon(): void;
}

/**
 * Models → versions → Files / Metrics / Source / Lineage. Children are queried on expand, a page at
 * a time, never up front: a registry of 10,000 models opens as fast as one of ten.
 */
export class RegistryTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly filterChanged = new vscode.EventEmitter<void>();
  /** Fires when the filter or the archived toggle changes (the view's title shows them). */
  readonly onDidChangeFilter = this.filterChanged.event;
  private readonly subscription: vscode.Disposable;
  /**
   * Parents of the nodes handed out, so that reveal() can walk up. Kept across refreshes: node ids
   * are stable, and a refresh landing between finding a node and revealing it must not orphan it.
   */
  private readonly parents = new Map<string, TreeNode | undefined>();
  /** Rows shown per parent ("" for the models, else the model name), grown by "Show more…". */
  private readonly shown = new Map<string, number>();
  /** Nodes this tree handed out: a command given a node can tell which registry (view) it is from. */
  private readonly handedOut = new WeakSet<TreeNode>();
  private filterText = '';
  private archived = false;

  /** `team`: the team registry's tree, whose nodes open nothing locally (Pull brings a version here first). */
  constructor(
    private readonly service: RegistrySource,
    private readonly team = false,
  ) {
    this.subscription = service.onDidChange(() => this.refresh());
  }

  /** Resolves once a refresh the registry has scheduled has reached the tree (reveal waits for it). */
  settled(): Promise<void> {
    return this.service.settled();
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  get filter(): string {
    return this.filterText;
  }

  get showArchived(): boolean {
    return this.archived;
  }

  /** Shows only models and versions matching a search (see core/registry/search.ts); '' shows all. */
  setFilter(text: string, showArchived = this.archived): void {
    this.filterText = text.trim();
    this.archived = showArchived;
    this.shown.clear();
    this.filterChanged.fire();
    this.refresh();
  }

  /** "Show more…": the next page of the node's parent. */
  showMore(node: Extract<TreeNode, { kind: 'more' }>): void {
    const key = node.of ?? '';
    this.shown.set(
      key,
      (this.shown.get(key) ?? (node.of ? VERSION_PAGE : MODEL_PAGE)) + (node.of ? VERSION_PAGE : MODEL_PAGE),
    );
    const parent = this.parents.get(nodeId(node));
    this.changed.fire(parent);
  }

  /**
   * The tree node of a version, growing pages so that it is listed (reveal() needs it listed), and
   * clearing the filter if the filter hides it.
   */
  async nodeFor(version: VersionRecord): Promise<TreeNode | undefined> {
    const registry = await this.service.get();
    let at = await registry.positionOf(version, {
      filter: this.filterText || undefined,
      includeArchived: this.archived,
    });
    if (!at) {
      this.setFilter('', this.archived || version.archivedAt !== null);
      at = await registry.positionOf(version, { includeArchived: this.archived });
      if (!at) return undefined;
    }
    const grow = (key: string, index: number, page: number) => {
      if (index >= (this.shown.get(key) ?? page)) this.shown.set(key, (Math.floor(index / page) + 1) * page);
    };
    grow('', at.model, MODEL_PAGE);
    grow(version.model, at.version, VERSION_PAGE);
    const model = (await this.getChildren()).find((n) => n.kind === 'model' && n.model.name === version.model);
    if (!model) return undefined;
    return (await this.getChildren(model)).find((n) => n.kind === 'version' && n.version.id === version.id);
  }

  private listOptions(key: string, page: number) {
    return {
      limit: (this.shown.get(key) ?? page) + 1,
      filter: this.filterText || undefined,
      includeArchived: this.archived,
    };
  }

  async getChildren(parent?: TreeNode): Promise<TreeNode[]> {
    const children = await this.childrenOf(parent);
    for (const c of children) {
      this.parents.set(nodeId(c), parent);
      this.handedOut.add(c);
    }
    return children;
  }

  owns(node: TreeNode): boolean {
    return this.handedOut.has(node);
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.parents.get(nodeId(node));
  }

  private async childrenOf(parent?: TreeNode): Promise<TreeNode[]> {
    if (!parent) {
      if (!this.service.exists()) return []; // the view's welcome text offers what to do
      const opts = this.listOptions('', MODEL_PAGE);
      let registry: Registry<ObjectStore>;
      try {
        registry = await this.service.get();
      } catch (e) {
        // The team registry is a server away: say so in the tree rather than leave it blank.
        if (this.team) return [{ kind: 'message', text: `Team registry unavailable: ${(e as Error).message}` }];
        throw e;
      }
      const models = await registry.listModels(opts);
      if (models.length === 0 && this.filterText)
        return [{ kind: 'message', text: `No versions match "${this.filterText}"` }];
      return paged(
        models.map((model) => ({ kind: 'model', model }) as const),
        opts.limit,
        undefined,
      );
    }
    const registry = await this.service.get();
    switch (parent.kind) {
      case 'model': {
        const opts = this.listOptions(parent.model.name, VERSION_PAGE);
        const versions = await registry.listVersions(parent.model.name, opts);
        // A killed import writes no change stamp: look again while one runs, so it turns "interrupted".
        if (versions.some((v) => v.status === 'importing' && !v.interrupted))
          setTimeout(() => this.changed.fire(parent), 5000).unref();
        return paged(
          versions.map((version) => ({ kind: 'version', version }) as const),
          opts.limit,
          parent.model.name,
        );
      }
      case 'version': {
        const v = parent.version;
        if (v.status !== 'ready') return [];
        const related = v.parentId !== null || (await registry.childrenOf(v.id, 1)).length > 0;
        const evaluated = await hasEvaluations(registry, v.id);
        const groups = [
          'files',
          'metrics',
          ...(evaluated ? ['evaluations' as const] : []),
          'source',
          ...(related ? ['lineage' as const] : []),
        ] as const;
        return [
          ...(v.config ? [{ kind: 'config', version: v } as const] : []),
          ...groups.map((group) => ({ kind: 'group', group, version: v }) as const),
        ];
      }
      case 'group': {
        const v = parent.version;
        if (parent.group === 'lineage') {
          const from = v.parentId !== null ? await registry.getVersionById(v.parentId) : undefined;
          const nodes: TreeNode[] = from
            ? [{ kind: 'related', role: 'parent', relation: v.parentKind ?? 'derived', version: v, other: from }]
            : [];
          for (const child of await registry.childrenOf(v.id))
            nodes.push({
              kind: 'related',
              role: 'child',
              relation: child.parentKind ?? 'derived',
              version: v,
              other: child,
            });
          return nodes;
        }
        if (parent.group === 'evaluations')
          return (await evaluationsOf(registry, v.id)).map((evaluation) => ({
            kind: 'evaluation',
            evaluation,
            version: v,
          }));
        if (parent.group === 'files')
          return (await registry.files(v.id)).map((file) => ({ kind: 'file', file, version: v }));
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
    item.contextValue = contextValue(n);
    switch (n.kind) {
      case 'model': {
        const m = n.model;
        const counts = `${m.versionCount} version${m.versionCount === 1 ? '' : 's'}${m.archivedCount ? ` (+${m.archivedCount} archived)` : ''}`;
        item.description = [counts, ...m.tags.map((t) => `#${t}`)].join(' · ');
        item.tooltip = markdownText(modelTooltip(m));
        item.iconPath = new vscode.ThemeIcon('package');
        break;
      }
      case 'version': {
        const v = n.version;
        item.description = versionDescription(v);
        item.tooltip = markdownText(versionTooltip(v));
        item.iconPath = new vscode.ThemeIcon(
          v.interrupted
            ? 'debug-disconnect'
            : v.status === 'importing'
              ? 'sync~spin'
              : v.status === 'failed'
                ? 'error'
                : v.archivedAt
                  ? 'archive'
                  : v.aliases.length
                    ? 'star-full'
                    : 'versions',
        );
        break;
      }
      case 'related': {
        const o = n.other;
        item.description = `${n.role === 'parent' ? 'made from it' : 'made from this'} (${n.relation})${o.git ? ` · ${o.git.commit.slice(0, 7)}` : ''}`;
        item.tooltip = `${o.ref}: ${n.role === 'parent' ? `${n.version.ref} was made from it` : `made from ${n.version.ref}`} by ${n.relation}${o.git ? `\ncommit ${o.git.commit.slice(0, 10)} ${o.git.subject}` : ''}`;
        item.iconPath = new vscode.ThemeIcon(n.role === 'parent' ? 'arrow-up' : 'arrow-down');
        if (!this.team) item.command = { command: COMMANDS.revealVersion, title: 'Reveal Version', arguments: [o.ref] };
        break;
      }
      case 'more':
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: COMMANDS.showMore, title: 'Show More', arguments: [n] };
        break;
      case 'group':
        item.iconPath = new vscode.ThemeIcon(
          {
            files: 'files',
            metrics: 'graph-line',
            lineage: 'type-hierarchy',
            evaluations: 'checklist',
            source: 'git-commit',
          }[n.group],
        );
        if (n.group === 'files') item.description = `${n.version.fileCount} · ${formatBytes(n.version.sizeBytes)}`;
        break;
      case 'file':
        item.description = `${formatBytes(n.file.size)} · ${n.file.sha256.slice(0, 12)}`;
        item.tooltip = `${n.file.path}\n${n.file.role}, ${n.file.size} bytes\nsha256 ${n.file.sha256}`;
        item.iconPath = new vscode.ThemeIcon(
          n.file.role === 'weights' ? 'symbol-array' : n.file.role === 'metrics' ? 'graph' : 'file',
        );
        break;
      case 'metric':
        item.description = `${formatMetric(n.metric.value)}${n.metric.isBest ? ' (best)' : ''}`;
        item.tooltip = `${n.metric.key} = ${n.metric.value}${n.metric.step !== null ? ` at step ${n.metric.step}` : ''}\n${n.metric.pointCount} points from ${n.metric.source}`;
        item.iconPath = new vscode.ThemeIcon('symbol-number');
        break;
      case 'fact':
        item.description = n.value;
        item.tooltip = `${n.label}: ${n.value}`;
        if (n.label === 'warning')
          item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        if (n.label === 'commit' && n.version.git && !this.team)
          item.command = { command: COMMANDS.openCommit, title: 'Open Commit', arguments: [n] };
        break;
      case 'config':
        item.description = n.version.config?.templateId ?? 'no template';
        item.tooltip = `The config.json ${n.version.ref} was imported with${n.version.config?.templateId ? ` (template ${n.version.config.templateId})` : ''}; read-only, checked like any model config.`;
        item.iconPath = new vscode.ThemeIcon('settings');
        if (!this.team)
          item.command = { command: 'vscode.open', title: 'Open config.json', arguments: [storedConfigUri(n.version)] };
        break;
      case 'evaluation': {
        const e = n.evaluation;
        item.description = `accuracy ${formatMetric(e.metrics.accuracy ?? null)} · ${e.sampleCount} samples${e.errorCount ? ` (+${e.errorCount} errors)` : ''} · ${new Date(e.finishedAt ?? e.startedAt).toLocaleDateString()}`;
        item.tooltip = `${e.ref} on ${e.datasetName}${e.split ? `/${e.split}` : ''} (manifest ${e.datasetSha256.slice(0, 12)}), ${e.evaluator} evaluator${e.git ? `, workspace at ${e.git.commit.slice(0, 8)}${e.git.dirty ? ' (dirty)' : ''}` : ''}`;
        item.iconPath = new vscode.ThemeIcon('beaker');
        if (!this.team) item.command = { command: COMMANDS.openEvaluation, title: 'Open Evaluation', arguments: [n] };
        break;
      }
      case 'message':
        item.iconPath = new vscode.ThemeIcon('info');
        break;
    }
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
    this.filterChanged.dispose();
  }
}

/** A page of rows fetched with one extra: the extra becomes "Show more…". */
function paged(nodes: TreeNode[], limit: number, of: string | undefined): TreeNode[] {
  return nodes.length < limit ? nodes : [...nodes.slice(0, limit - 1), { kind: 'more', of }];
}

/** Menus in package.json match these: version.<status>[.aliased][.archived], commit, model… */
function contextValue(n: TreeNode): string {
  if (n.kind === 'version')
    return `version.${n.version.interrupted ? 'interrupted' : n.version.status}${n.version.aliases.length ? '.aliased' : ''}${n.version.archivedAt ? '.archived' : ''}`;
  if (n.kind === 'fact' && n.label === 'commit' && n.version.git) return 'commit';
  if (n.kind === 'group') return `group.${n.group}`;
  return n.kind;
}

function label(n: TreeNode): string {
  switch (n.kind) {
    case 'model':
      return n.model.name;
    case 'version':
      return `v${n.version.number}`;
    case 'group':
      return { files: 'Files', metrics: 'Metrics', source: 'Source', lineage: 'Lineage', evaluations: 'Evaluations' }[
        n.group
      ];
    case 'evaluation':
      return `${n.evaluation.datasetName}${n.evaluation.split ? `/${n.evaluation.split}` : ''}`;
    case 'related':
      return n.other.ref;
    case 'more':
      return 'Show more…';
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
  if (v.status !== 'ready')
    return v.interrupted ? 'interrupted: its import was stopped' : v.status === 'importing' ? 'importing…' : 'failed';
  const parts = [
    ...v.aliases.map((a) => `@${a}`),
    ...(v.archivedAt ? ['archived'] : []),
    v.format ?? 'files',
    formatBytes(v.sizeBytes),
  ];
  if (v.git) parts.push(v.git.commit.slice(0, 7) + (v.git.dirty ? '*' : ''));
  return parts.join(' · ');
}

/** Markdown we wrote around escaped text: no HTML, no command links. */
function markdownText(text: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(text);
  md.supportHtml = false;
  md.isTrusted = false;
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
  // What the weights' readers found alarming (a pickle naming posix.system), first so it is seen.
  for (const w of versionWarnings(v.details)) facts.unshift(['warning', w]);
  facts.push(['imported from', v.source.uri]);
  facts.push(['imported at', v.createdAt]);
  return facts.map(([label, value]) => ({ kind: 'fact', label, value, version: v }));
}

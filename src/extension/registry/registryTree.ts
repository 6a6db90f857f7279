import * as vscode from 'vscode';
import { storedConfigUri } from './storedConfigUri';
import { allProfiles, BUILTIN_PROFILES, ObjectStore, Registry, VersionRecord } from '../../core';
import { checkpointFileRows } from './checkpointRows';
import { groupChildren, versionChildren } from './treeChildren';
import { NodeData, nodeId, RegistryKey, TreeNode } from './treeNodes';
import { RowSettings, treeItemOf, TreeItemView } from './treeItems';

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
  private filterText = '';
  private archived = false;
  /** Read from the settings on first use, again when they change. */
  private settings: RowSettings | undefined;

  /** `registry`: which registry this tree shows; every node it hands out carries it (treeNodes.ts). */
  constructor(
    private readonly service: RegistrySource,
    readonly registry: RegistryKey,
  ) {
    this.subscription = vscode.Disposable.from(
      service.onDidChange(() => this.refresh()),
      // The profiles decide which rows offer Convert… and Evaluate….
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (
          e.affectsConfiguration('modelRegistry.convert.profiles') ||
          e.affectsConfiguration('modelRegistry.evaluate.profiles')
        ) {
          this.settings = undefined;
          this.refresh();
        }
      }),
    );
  }

  private rowSettings(): RowSettings {
    if (this.settings) return this.settings;
    const config = vscode.workspace.getConfiguration('modelRegistry');
    let profiles = BUILTIN_PROFILES;
    try {
      profiles = allProfiles(config.get<unknown[]>('convert.profiles') ?? []);
    } catch {
      // A broken profile setting is reported by Convert… itself; the menus go by the built-in ones.
    }
    const evaluators = config.get<unknown[]>('evaluate.profiles');
    return (this.settings = { profiles, evaluators: Array.isArray(evaluators) && evaluators.length > 0 });
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
    const children = (await this.childrenOf(parent)).map((c) => ({ ...c, registry: this.registry }));
    for (const c of children) this.parents.set(nodeId(c), parent);
    return children;
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.parents.get(nodeId(node));
  }

  private async childrenOf(parent?: TreeNode): Promise<NodeData[]> {
    if (!parent) {
      if (!this.service.exists()) return []; // the view's welcome text offers what to do
      const opts = this.listOptions('', MODEL_PAGE);
      let registry: Registry<ObjectStore>;
      try {
        registry = await this.service.get();
      } catch (e) {
        // The team registry is a server away: say so in the tree rather than leave it blank.
        if (this.registry === 'team')
          return [{ kind: 'message', text: `Team registry unavailable: ${(e as Error).message}` }];
        throw e;
      }
      const models = await registry.listModels(opts);
      if (models.length === 0 && this.filterText)
        return [
          { kind: 'message', text: await registry.explainNoMatch(this.filterText, { includeArchived: this.archived }) },
        ];
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
      case 'version':
        return versionChildren(registry, parent);
      case 'group':
        return groupChildren(registry, parent);
      case 'checkpoint':
        return checkpointFileRows(parent.version, await registry.files(parent.version.id), parent.checkpoint.name);
      default:
        return [];
    }
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    return toTreeItem(treeItemOf(n, this.rowSettings()));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
    this.filterChanged.dispose();
  }
}

/** A page of rows fetched with one extra: the extra becomes "Show more…". */
function paged(nodes: NodeData[], limit: number, of: string | undefined): NodeData[] {
  return nodes.length < limit ? nodes : [...nodes.slice(0, limit - 1), { kind: 'more', of }];
}

/** The vscode.TreeItem of a row described by treeItems.ts. */
export function toTreeItem(view: TreeItemView): vscode.TreeItem {
  const item = new vscode.TreeItem(
    view.label,
    view.collapsible ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = view.id;
  item.contextValue = view.contextValue;
  item.description = view.description;
  if (view.tooltip !== undefined)
    item.tooltip = typeof view.tooltip === 'string' ? view.tooltip : markdownText(view.tooltip.markdown);
  if (view.icon)
    item.iconPath = new vscode.ThemeIcon(
      view.icon.id,
      view.icon.color ? new vscode.ThemeColor(view.icon.color) : undefined,
    );
  const c = view.command;
  if (c)
    item.command =
      'openStoredConfig' in c
        ? { command: 'vscode.open', title: c.title, arguments: [storedConfigUri(c.openStoredConfig)] }
        : { command: c.id, title: c.title, arguments: c.arguments };
  return item;
}

/** Markdown we wrote around escaped text: no HTML, no command links. */
function markdownText(text: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(text);
  md.supportHtml = false;
  md.isTrusted = false;
  return md;
}

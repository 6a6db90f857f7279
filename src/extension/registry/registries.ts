import * as vscode from 'vscode';
import { ModelSummary, VersionRecord } from '../../core';
import { showError } from '../errors';
import { RegistryService } from './registryService';
import { RegistrySource, RegistryTreeProvider } from './registryTree';
import { askScope, modelOf, nodeOf, resolveTargets, Target, versionChoices, versionOf } from './targets';
import { TeamRegistryService } from './teamService';
import { RegistryKey, TreeNode } from './treeNodes';

/** One registry as the window shows it: where it is opened, its tree and its view. */
export interface RegistryView<S extends RegistrySource = RegistrySource> {
  key: RegistryKey;
  service: S;
  tree: RegistryTreeProvider;
  view: vscode.TreeView<TreeNode>;
}

/** The workspace's registry and the team's; a tree node's `registry` names one of them. */
export interface Registries {
  local: RegistryView<RegistryService>;
  team: RegistryView<TeamRegistryService>;
}

/** What the "which version?" QuickPick offers unless a command says otherwise. */
const isActive = (v: VersionRecord) => v.status === 'ready' && v.archivedAt === null;

/** A version a command runs on, with the registry it is in. */
export interface VersionTarget {
  version: VersionRecord;
  where: RegistryView;
}

/**
 * Works out what a command runs on (targets.ts) against the window's registries: the view whose
 * selection an empty call means, and the lookup of a reference in its registry.
 */
export class CommandTargets {
  constructor(readonly registries: Registries) {}

  /** The targets of a call; `registry`: which view's selection and which registry a bare reference means. */
  of(args: readonly unknown[], registry: RegistryKey = 'local', many = false): Target[] {
    return resolveTargets(args, { registry, selection: this.registries[registry].view.selection, many });
  }

  where(t: Target): RegistryView {
    return this.registries[t.registry];
  }

  /**
   * The one version a call is on (a version row, or with `under` any row under one, or a reference).
   * With `ask` (the command's name, for the QuickPick's title), a call from the palette with no
   * version selected asks which one, among the workspace's versions that pass `only` (default: the
   * imported, unarchived ones), instead of doing nothing.
   */
  async version(
    args: readonly unknown[],
    opts: { under?: boolean; ask?: string; only?: (v: VersionRecord) => boolean; offers?: RegExp } = {},
  ): Promise<VersionTarget | undefined> {
    const t = this.of(args)[0];
    if (opts.ask !== undefined) {
      const scope = askScope(args, t, opts);
      if (scope) {
        // `offers`: the pattern the row menu's `when` matches (viewItem =~ …), so the pick offers the same rows.
        const { tree } = this.registries.local;
        const row = (v: VersionRecord) =>
          String(tree.getTreeItem({ kind: 'version', version: v, registry: 'local' }).contextValue);
        const only = opts.only ?? isActive;
        const offers = opts.offers;
        return this.askVersion(opts.ask, scope.model, offers ? (v) => only(v) && offers.test(row(v)) : only);
      }
    }
    return t && this.lookUp(t, versionOf(t, opts));
  }

  /** Every version a call is on (the selection or the given rows; `ready`: only imported ones). */
  async versions(args: readonly unknown[], opts: { ready?: boolean } = {}): Promise<VersionTarget[]> {
    const found: VersionTarget[] = [];
    for (const t of this.of(args, 'local', true)) {
      const v = await this.lookUp(t, versionOf(t));
      if (v && (!opts.ready || v.version.status === 'ready')) found.push(v);
    }
    return found;
  }

  /** References of the versions a call is on, not looked up (Push and Pull resolve them where they copy from). */
  refs(args: readonly unknown[], registry: RegistryKey): string[] {
    return this.of(args, registry, true).flatMap((t) => {
      const v = versionOf(t);
      return v === undefined ? [] : [typeof v === 'string' ? v : v.ref];
    });
  }

  /**
   * The model or version row a call is on (Edit Tags, Edit Description); a reference is a version.
   * With `ask`, a call from the palette with nothing selected asks which version.
   */
  async modelOrVersion(
    args: readonly unknown[],
    opts: { ask?: string } = {},
  ): Promise<{ model: ModelSummary; where: RegistryView } | VersionTarget | undefined> {
    const t = this.of(args)[0];
    const model = t && nodeOf(t, 'model');
    if (model) return { model: model.model, where: this.where(t) };
    return this.version(args, opts);
  }

  /** The model a call is about: a model row, any row of one of its versions, or a reference's model. */
  model(args: readonly unknown[]): { model: string; where: RegistryView } | undefined {
    const t = this.of(args)[0];
    const model = t && modelOf(t);
    return model ? { model, where: this.where(t) } : undefined;
  }

  /** The row of the given kind a call is on, with its registry. */
  node<K extends TreeNode['kind']>(
    args: readonly unknown[],
    kind: K,
  ): { node: Extract<TreeNode, { kind: K }>; where: RegistryView } | undefined {
    const t = this.of(args)[0];
    const node = t && nodeOf(t, kind);
    return node ? { node, where: this.where(t) } : undefined;
  }

  private async askVersion(
    title: string,
    model: string | undefined,
    only: (v: VersionRecord) => boolean,
  ): Promise<VersionTarget | undefined> {
    const where = this.registries.local;
    let versions: VersionRecord[] = [];
    try {
      if (where.service.exists()) {
        const registry = await where.service.get();
        const models = model ? [model] : (await registry.listModels()).map((m) => m.name);
        for (const name of models)
          versions.push(...(await registry.listVersions(name, { limit: 200, includeArchived: true })));
        versions = versions.filter(only);
      }
    } catch (e) {
      showError('Could not list the versions to choose from', e);
      return undefined;
    }
    if (versions.length === 0) {
      void vscode.window.showInformationMessage(
        `${title}: no version to choose from${model ? ` in ${model}` : ''}. Import a training output first.`,
      );
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(versionChoices(versions), {
      title: `${title}: which version?`,
      placeHolder: 'Type a model name, version, alias or format',
      matchOnDescription: true,
      // Started from a walkthrough button, the page takes the focus back right after: keep the pick open.
      ignoreFocusOut: true,
    });
    return pick && { version: pick.version, where };
  }

  private async lookUp(t: Target, v: VersionRecord | string | undefined): Promise<VersionTarget | undefined> {
    const where = this.where(t);
    if (typeof v !== 'string') return v && { version: v, where };
    try {
      return { version: await (await where.service.get()).resolve(v), where };
    } catch (e) {
      showError(`Could not find ${v}`, e);
      return undefined;
    }
  }
}

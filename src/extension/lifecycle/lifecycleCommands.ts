import * as vscode from 'vscode';
import * as path from 'path';
import { exportVersion, formatBytes, ObjectStore, parseSearch, Registry, VersionRecord } from '../../core';
import { problemWith, showError } from '../errors';
import { withCancellableProgress } from '../progress';
import { revealVersion } from '../importing/importCommands';
import { RegistryService } from '../registry/registryService';
import { RegistrySource, RegistryTreeProvider } from '../registry/registryTree';
import { TreeNode } from '../registry/treeNodes';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand, setContext } from '../commands/register';

/** Aliases offered first when setting one; any other name can be typed. */
const COMMON_ALIASES = ['production', 'staging', 'candidate', 'champion', 'challenger'];

/**
 * Aliases, tags, descriptions, clone, archive, delete with undo, search and paging. Every command
 * takes its inputs as optional arguments too, so tests and keybindings can run it without pickers.
 */
export function registerLifecycleCommands(
  service: RegistryService,
  tree: RegistryTreeProvider,
  view: vscode.TreeView<TreeNode>,
  team: { service: RegistrySource; tree: RegistryTreeProvider },
): vscode.Disposable[] {
  /** Aliases, tags and descriptions work in the Team Registry view too: on the registry the node came from. */
  const sourceOf = (n?: TreeNode): RegistrySource => (n && team.tree.owns(n) ? team.service : service);
  const versionOf = (n?: TreeNode) => {
    const node = n ?? view.selection[0];
    return node?.kind === 'version' ? node.version : undefined;
  };
  const modelOf = (n?: TreeNode) => {
    const node = n ?? view.selection[0];
    return node?.kind === 'model' ? node.model.name : node && 'version' in node ? node.version.model : undefined;
  };
  /** Runs a registry change, then tells the tree (and open panels), or shows the failure as an error naming `what`. */
  const change = async <T>(
    what: string,
    fn: (r: Registry<ObjectStore>) => Promise<T>,
    source: RegistrySource = service,
  ): Promise<T | undefined> => {
    try {
      const result = await fn(await source.get());
      source.fireSoon();
      return result;
    } catch (e) {
      showError(what, e);
      return undefined;
    }
  };

  const updateTitle = () => {
    const parts = [tree.filter && `filter: ${tree.filter}`, tree.showArchived && 'archived shown'].filter(Boolean);
    view.description = parts.join(' · ') || undefined;
    // The title is often cut short by the view's buttons; the message above the tree always shows.
    view.message = tree.filter ? `Showing versions that match: ${tree.filter}` : undefined;
    void setContext('filtered', !!tree.filter);
    void setContext('showArchived', tree.showArchived);
  };

  return [
    tree.onDidChangeFilter(updateTitle),

    registerCommand(COMMANDS.setAlias, async (n?: TreeNode, arg?: unknown) => {
      const v = versionOf(n);
      if (!v) return;
      const source = sourceOf(n);
      const name = asString(arg) ?? (await pickAlias(await source.get(), v));
      if (!name) return;
      const move = await change(`Could not set alias ${name} on ${v.ref}`, (r) => r.setAlias(v.ref, name), source);
      if (move && move.from !== move.to)
        vscode.window.setStatusBarMessage(
          `${v.model}@${name} → v${move.to}${move.from ? ` (was v${move.from})` : ''}`,
          5000,
        );
      return move;
    }),

    registerCommand(COMMANDS.removeAlias, async (n?: TreeNode, arg?: unknown) => {
      const v = versionOf(n);
      if (!v?.aliases.length) return;
      const name =
        asString(arg) ??
        (v.aliases.length === 1
          ? v.aliases[0]
          : await vscode.window.showQuickPick(v.aliases, { title: `Remove which alias of ${v.ref}?` }));
      if (!name) return;
      return change(`Could not remove alias ${name}`, (r) => r.removeAlias(v.model, name), sourceOf(n));
    }),

    registerCommand(COMMANDS.aliasHistory, async (n?: TreeNode) => {
      const model = modelOf(n);
      if (!model) return;
      try {
        const moves = await (await sourceOf(n).get()).aliasHistory(model);
        if (moves.length === 0)
          return void vscode.window.showInformationMessage(`No alias of ${model} has been set yet.`);
        await vscode.window.showQuickPick(
          moves.map((m) => ({
            label: `${m.alias}: ${m.from === null ? 'set to' : m.to === null ? 'removed from' : `v${m.from} →`} v${m.to ?? m.from}`,
            description: m.by,
            detail: new Date(m.at).toLocaleString(),
          })),
          { title: `Alias history of ${model} (newest first)` },
        );
      } catch (e) {
        showError(`Could not read the alias history of ${model}`, e);
      }
    }),

    registerCommand(COMMANDS.editTags, async (n?: TreeNode, arg?: unknown) => {
      const tags = Array.isArray(arg) && arg.every((t) => typeof t === 'string') ? (arg as string[]) : undefined;
      const node = n ?? view.selection[0];
      if (node?.kind !== 'model' && node?.kind !== 'version') return;
      const source = sourceOf(node);
      const registry = await source.get();
      const current = node.kind === 'model' ? node.model.tags : node.version.tags;
      const label = node.kind === 'model' ? node.model.name : node.version.ref;
      const next = tags ?? (await pickTags(await registry.allTags(), current, label));
      if (!next) return;
      return change(
        `Could not set the tags of ${label}`,
        (r) => (node.kind === 'model' ? r.setModelTags(label, next) : r.setVersionTags(label, next)),
        source,
      );
    }),

    registerCommand(COMMANDS.editDescription, async (n?: TreeNode, arg?: unknown) => {
      const text = asString(arg);
      const node = n ?? view.selection[0];
      if (node?.kind !== 'model' && node?.kind !== 'version') return;
      const label = node.kind === 'model' ? node.model.name : node.version.ref;
      const next =
        text ??
        (await vscode.window.showInputBox({
          title: `Description of ${label}`,
          value: node.kind === 'model' ? node.model.description : node.version.description,
          prompt: 'Empty clears it',
        }));
      if (next === undefined) return;
      return change(
        `Could not set the description of ${label}`,
        (r) => (node.kind === 'model' ? r.setModelDescription(label, next) : r.setVersionDescription(label, next)),
        sourceOf(node),
      );
    }),

    registerCommand(COMMANDS.cloneVersion, async (n?: TreeNode, arg?: unknown) => {
      const v = versionOf(n);
      if (!v) return;
      const target = asString(arg) ?? (await pickCloneTarget(await service.get(), v));
      if (!target) return;
      const copy = await change(`Could not clone ${v.ref}`, (r) => r.cloneVersion(v.ref, target));
      if (copy) {
        void vscode.window
          .showInformationMessage(
            `Cloned ${v.ref} to ${copy.ref} (${formatBytes(copy.sizeBytes)} shared, nothing copied).`,
            'Reveal',
          )
          .then((c) => {
            if (c === 'Reveal') void revealVersion(tree, view, copy);
          });
      }
      return copy;
    }),

    registerCommand(COMMANDS.exportVersion, async (n?: TreeNode, arg?: unknown) => {
      const v = versionOf(n);
      if (!v) return;
      const dest = asString(arg) ?? (await pickExportTarget(v));
      return dest ? exportWithProgress(await service.get(), v, dest) : undefined;
    }),

    registerCommand(COMMANDS.archiveVersion, async (n?: TreeNode) => {
      const v = versionOf(n);
      if (!v) return;
      const force = v.aliases.length > 0 && (await confirmAliasRemoval(v, 'Archive'));
      if (v.aliases.length > 0 && !force) return;
      return change(`Could not archive ${v.ref}`, (r) => r.archiveVersion(v.ref, { force }));
    }),

    registerCommand(COMMANDS.unarchiveVersion, async (n?: TreeNode) => {
      const v = versionOf(n);
      if (!v) return;
      return change(`Could not unarchive ${v.ref}`, (r) => r.unarchiveVersion(v.ref));
    }),

    registerCommand(COMMANDS.deleteVersion, async (n?: TreeNode, confirmed?: unknown) => {
      const v = versionOf(n);
      if (!v) return;
      if (confirmed !== true) {
        const detail = `Its ${v.fileCount} files (${formatBytes(v.sizeBytes)}) stay in the store until "Remove Unreferenced Files (gc)" runs, so it can be undone until then.`;
        const button = v.aliases.length ? `Delete and Remove ${v.aliases.map((a) => `@${a}`).join(', ')}` : 'Delete';
        const message = v.aliases.length
          ? `${v.ref} is ${v.aliases.join(', ')}. Delete it anyway?`
          : `Delete ${v.ref}?`;
        if ((await vscode.window.showWarningMessage(message, { modal: true, detail }, button)) !== button) return;
      }
      const done = await change(`Could not delete ${v.ref}`, (r) => r.deleteVersion(v.ref, { force: true }));
      if (!done) return;
      void vscode.window.showInformationMessage(`Deleted ${v.ref}.`, 'Undo').then((c) => {
        if (c === 'Undo') void change(`Could not restore ${v.ref}`, (r) => r.restoreVersion(v.id, done.removedAliases));
      });
      return done;
    }),

    registerCommand(COMMANDS.filter, (arg?: unknown) => filterTree(tree, 'the Model Registry', asString(arg))),
    registerCommand(COMMANDS.filterTeam, (arg?: unknown) => filterTree(team.tree, 'the Team Registry', asString(arg))),
    registerCommand(COMMANDS.clearTeamFilter, () => team.tree.setFilter('')),
    registerCommand(COMMANDS.clearFilter, () => tree.setFilter('')),
    registerCommand(COMMANDS.showArchived, () => tree.setFilter(tree.filter, true)),
    registerCommand(COMMANDS.hideArchived, () => tree.setFilter(tree.filter, false)),
    registerCommand(
      COMMANDS.showMore,
      (n: TreeNode) => n?.kind === 'more' && (team.tree.owns(n) ? team.tree : tree).showMore(n),
    ),

    registerCommand(COMMANDS.revealVersion, async (arg?: unknown) => {
      const target =
        asString(arg) ??
        (await vscode.window.showInputBox({
          title: 'Go to Version',
          placeHolder: 'resnet@v3, resnet@production, resnet',
        }));
      if (!target) return;
      try {
        const v = await (await service.get()).resolve(target.trim());
        await revealVersion(tree, view, v);
        return v;
      } catch (e) {
        showError(`Could not find ${target}`, e);
        return undefined;
      }
    }),
  ];
}

/**
 * Commands take their input as a second argument (tests, keybindings); a menu passes other things
 * there (the selected nodes, its context), which must not be taken for input.
 */
function asString(arg: unknown): string | undefined {
  return typeof arg === 'string' ? arg : undefined;
}

/** Asks for a search (checked as it is typed) and filters the tree by it; empty shows everything. */
async function filterTree(tree: RegistryTreeProvider, title: string, text: string | undefined): Promise<void> {
  const query =
    text ??
    (await vscode.window.showInputBox({
      title: `Filter ${title}`,
      value: tree.filter,
      placeHolder: 'resnet tag:baseline @production format:onnx commit:3f2a accuracy>0.9 archived:yes',
      prompt:
        'Words match model names and tags; name:, tag:, alias: (or @), format:, commit:, archived:, and metric comparisons. Empty shows everything.',
      validateInput: problemWith(parseSearch),
    }));
  if (query !== undefined) tree.setFilter(query);
}

async function pickAlias(registry: Registry<ObjectStore>, v: VersionRecord): Promise<string | undefined> {
  const existing = await registry.aliases(v.model);
  const where = new Map(existing.map((a) => [a.alias, a.number]));
  const names = [...new Set([...existing.map((a) => a.alias), ...COMMON_ALIASES])];
  const items = names.map((alias) => ({
    label: alias,
    description: where.has(alias)
      ? where.get(alias) === v.number
        ? 'already here'
        : `now on v${where.get(alias)}; moves it`
      : 'new',
  }));
  const pick = vscode.window.createQuickPick<{ label: string; description: string }>();
  pick.title = `Set an alias on ${v.ref}`;
  pick.placeholder = 'Pick an alias or type a new name';
  pick.items = items;
  pick.onDidChangeValue((value) => {
    const typed = value.trim();
    pick.items = typed && !names.includes(typed) ? [{ label: typed, description: 'new' }, ...items] : items;
  });
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      resolve(pick.selectedItems[0]?.label ?? (pick.value.trim() || undefined));
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}

async function pickTags(all: string[], current: string[], label: string): Promise<string[] | undefined> {
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
  pick.title = `Tags of ${label}`;
  pick.placeholder = 'Tick the tags; type a new one and press Enter to add it';
  pick.canSelectMany = true;
  const items = [...new Set([...all, ...current])].map((t) => ({ label: t }));
  pick.items = items;
  pick.selectedItems = items.filter((i) => current.includes(i.label));
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      const typed = pick.value.trim();
      resolve([...pick.selectedItems.map((i) => i.label), ...(typed ? [typed] : [])]);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}

async function pickCloneTarget(registry: Registry, v: VersionRecord): Promise<string | undefined> {
  const models = await registry.listModels({ limit: 200 });
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
  pick.title = `Clone ${v.ref} into…`;
  pick.placeholder = 'A new model name, or an existing model (the clone becomes its next version)';
  const existing = models
    .filter((m) => m.name !== v.model)
    .map((m) => ({ label: m.name, description: `next version v${(m.latestVersion ?? 0) + 1}` }));
  pick.items = existing;
  pick.value = `${v.model}-copy`;
  const update = () => {
    const typed = pick.value.trim();
    pick.items =
      typed && !models.some((m) => m.name === typed)
        ? [{ label: typed, description: 'new model' }, ...existing]
        : existing;
  };
  update();
  pick.onDidChangeValue(update);
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      resolve(pick.selectedItems[0]?.label);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}

async function confirmAliasRemoval(v: VersionRecord, action: string): Promise<boolean> {
  const button = `${action} and Remove ${v.aliases.map((a) => `@${a}`).join(', ')}`;
  const choice = await vscode.window.showWarningMessage(
    `${v.ref} is ${v.aliases.join(', ')}.`,
    { modal: true, detail: `${action} removes the alias; nothing else points there until you set it again.` },
    button,
  );
  return choice === button;
}

/** Where to export: a .tar or .tar.gz file (save dialog), or a new folder inside a picked one. */
async function pickExportTarget(v: VersionRecord): Promise<string | undefined> {
  const base = `${v.model}-v${v.number}`;
  const near = vscode.workspace.workspaceFolders?.[0]?.uri;
  const kind = await vscode.window.showQuickPick(
    [
      {
        label: '.tar file',
        detail: 'One file with the files, metrics and a manifest of hashes and provenance',
        ext: '.tar',
      },
      { label: '.tar.gz file', detail: 'The same, compressed (slower; weights rarely shrink much)', ext: '.tar.gz' },
      { label: 'Folder', detail: `A new folder ${base}/ with manifest.json, metrics.json and files/`, ext: '' },
    ],
    { title: `Export ${v.ref} as` },
  );
  if (!kind) return undefined;
  if (kind.ext) {
    const uri = await vscode.window.showSaveDialog({
      title: `Export ${v.ref}`,
      saveLabel: 'Export',
      defaultUri: near && vscode.Uri.joinPath(near, base + kind.ext),
      filters: { 'Model archive': [kind.ext.slice(1)] },
    });
    return uri?.fsPath;
  }
  const parent = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: `Export ${base}/ Here`,
    defaultUri: near,
  });
  return parent && path.join(parent[0].fsPath, base);
}

async function exportWithProgress(registry: Registry, v: VersionRecord, dest: string): Promise<string | undefined> {
  try {
    const out = await withCancellableProgress(
      `Exporting ${v.ref}`,
      `Export of ${v.ref} cancelled; nothing was left behind.`,
      ({ signal, advance }) =>
        exportVersion(registry, v.ref, dest, {
          signal,
          onProgress: (done, total) => advance(done, total, `${formatBytes(done)} of ${formatBytes(total)}`),
        }),
    );
    if (!out) return undefined;
    void vscode.window
      .showInformationMessage(
        `Exported ${v.ref} to ${out.dest} (${formatBytes(out.bytes)}).`,
        'Reveal in File Explorer',
      )
      .then((c) => {
        if (c) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(out.dest));
      });
    return out.dest;
  } catch (e) {
    showError(`Could not export ${v.ref}`, e);
    return undefined;
  }
}

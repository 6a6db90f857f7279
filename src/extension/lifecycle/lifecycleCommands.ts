import * as vscode from 'vscode';
import * as path from 'path';
import { exportVersion, ObjectStore, parseSearch, Registry, VersionRecord } from '../../core';
import { formatBytes } from '../../shared/format';
import { problemWith, showError } from '../errors';
import { withCancellableProgress } from '../progress';
import { revealVersion } from '../importing/importCommands';
import { CommandTargets, RegistryView } from '../registry/registries';
import { COMMANDS } from '../commands/commandIds';
import { confirm } from '../statusMessage';
import { archived, descriptionSaved, exportButton, tagsSaved, unarchived } from './feedback';
import { registerCommand, setContext } from '../commands/register';

/** Aliases offered first when setting one; any other name can be typed. */
const COMMON_ALIASES = ['production', 'staging', 'candidate', 'champion', 'challenger'];

/**
 * Aliases, tags, descriptions, clone, archive, delete with undo, search and paging. Every command
 * takes its inputs as optional arguments too, so tests and keybindings can run it without pickers.
 */
export function registerLifecycleCommands(targets: CommandTargets): vscode.Disposable[] {
  const { local, team } = targets.registries;
  const { tree, view } = local;
  /** Runs a change in the registry `where`, then tells its tree (and open panels), or shows the failure as an error naming `what`. */
  const change = async <T>(
    what: string,
    fn: (r: Registry<ObjectStore>) => Promise<T>,
    where: RegistryView,
  ): Promise<T | undefined> => {
    try {
      const result = await fn(await where.service.get());
      where.service.fireSoon();
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

  updateTitle(); // the palette's Clear Filter / Show Archived read the keys from the start
  return [
    tree.onDidChangeFilter(updateTitle),

    registerCommand(COMMANDS.setAlias, async (...args: unknown[]) => {
      const target = await targets.version(args, { ask: 'Set Alias' });
      if (!target) return;
      const { version: v, where } = target;
      const name = asString(args[1]) ?? (await pickAlias(await where.service.get(), v));
      if (!name) return;
      const move = await change(`Could not set alias ${name} on ${v.ref}`, (r) => r.setAlias(v.ref, name), where);
      if (move && move.from !== move.to)
        vscode.window.setStatusBarMessage(
          `${v.model}@${name} → v${move.to}${move.from ? ` (was v${move.from})` : ''}`,
          5000,
        );
      return move;
    }),

    registerCommand(COMMANDS.removeAlias, async (...args: unknown[]) => {
      const target = await targets.version(args, { ask: 'Remove Alias', only: (v) => v.aliases.length > 0 });
      if (!target?.version.aliases.length) return;
      const { version: v, where } = target;
      const name =
        asString(args[1]) ??
        (v.aliases.length === 1
          ? v.aliases[0]
          : await vscode.window.showQuickPick(v.aliases, { title: `Remove which alias of ${v.ref}?` }));
      if (!name) return;
      return change(`Could not remove alias ${name}`, (r) => r.removeAlias(v.model, name), where);
    }),

    registerCommand(COMMANDS.aliasHistory, async (...args: unknown[]) => {
      const target = targets.model(args);
      if (!target) return;
      const { model, where } = target;
      try {
        const moves = await (await where.service.get()).aliasHistory(model);
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

    registerCommand(COMMANDS.editTags, async (...args: unknown[]) => {
      const arg = args[1];
      const tags = Array.isArray(arg) && arg.every((t) => typeof t === 'string') ? (arg as string[]) : undefined;
      const target = await targets.modelOrVersion(args, { ask: 'Edit Tags' });
      if (!target) return;
      const registry = await target.where.service.get();
      const current = 'model' in target ? target.model.tags : target.version.tags;
      const label = 'model' in target ? target.model.name : target.version.ref;
      const next = tags ?? (await pickTags(await registry.allTags(), current, label));
      if (!next) return;
      const saved = await change(
        `Could not set the tags of ${label}`,
        async (r) => {
          await ('model' in target ? r.setModelTags(label, next) : r.setVersionTags(label, next));
          return true;
        },
        target.where,
      );
      if (saved) confirm(tagsSaved(label, next));
    }),

    registerCommand(COMMANDS.editDescription, async (...args: unknown[]) => {
      const text = asString(args[1]);
      const target = await targets.modelOrVersion(args, { ask: 'Edit Description' });
      if (!target) return;
      const label = 'model' in target ? target.model.name : target.version.ref;
      const next =
        text ??
        (await vscode.window.showInputBox({
          title: `Description of ${label}`,
          value: 'model' in target ? target.model.description : target.version.description,
          prompt: 'Empty clears it',
        }));
      if (next === undefined) return;
      const saved = await change(
        `Could not set the description of ${label}`,
        async (r) => {
          await ('model' in target ? r.setModelDescription(label, next) : r.setVersionDescription(label, next));
          return true;
        },
        target.where,
      );
      if (saved) confirm(descriptionSaved(label, next));
    }),

    registerCommand(COMMANDS.cloneVersion, async (...args: unknown[]) => {
      const target = await targets.version(args, { ask: 'Clone' });
      if (target?.where !== local) return; // a team version is pulled into the workspace first
      const v = target.version;
      const into = asString(args[1]) ?? (await pickCloneTarget(await local.service.get(), v));
      if (!into) return;
      const copy = await change(`Could not clone ${v.ref}`, (r) => r.cloneVersion(v.ref, into), local);
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

    registerCommand(COMMANDS.exportVersion, async (...args: unknown[]) => {
      const target = await targets.version(args, { ask: 'Export' });
      if (target?.where !== local) return; // a team version is pulled into the workspace first
      const v = target.version;
      const dest = asString(args[1]) ?? (await pickExportTarget(v));
      // args[2]: the notification's button to press (tests, keybindings), awaited.
      return dest ? exportWithProgress(await local.service.get(), v, dest, asString(args[2])) : undefined;
    }),

    registerCommand(COMMANDS.archiveVersion, async (...args: unknown[]) => {
      const target = await targets.version(args, { ask: 'Archive' });
      if (!target) return;
      const { version: v, where } = target;
      const force = v.aliases.length > 0 && (await confirmAliasRemoval(v, 'Archive'));
      if (v.aliases.length > 0 && !force) return;
      const result = await change(`Could not archive ${v.ref}`, (r) => r.archiveVersion(v.ref, { force }), where);
      if (result === undefined) return;
      // Archived versions hidden (the default, or a filter): show them, so the row does not vanish.
      const show = !where.tree.showArchived;
      if (show) where.tree.setFilter(where.tree.filter, true);
      confirm(archived(v.ref, show));
      void keepInView(where, v.ref);
      return result;
    }),

    registerCommand(COMMANDS.unarchiveVersion, async (...args: unknown[]) => {
      const target = await targets.version(args, { ask: 'Unarchive', only: (v) => v.archivedAt !== null });
      if (!target) return;
      const { version: v, where } = target;
      const result = await change(`Could not unarchive ${v.ref}`, (r) => r.unarchiveVersion(v.ref), where);
      if (result !== undefined) confirm(unarchived(v.ref));
      return result;
    }),

    registerCommand(COMMANDS.deleteVersion, async (...args: unknown[]) => {
      const target = await targets.version(args, { ask: 'Delete' });
      if (!target) return;
      const { version: v, where } = target;
      if (args[1] !== true) {
        const detail = `Its ${v.fileCount} files (${formatBytes(v.sizeBytes)}) stay in the store until "Remove Unreferenced Files (gc)" runs, so it can be undone until then.`;
        const button = v.aliases.length ? `Delete and Remove ${v.aliases.map((a) => `@${a}`).join(', ')}` : 'Delete';
        const message = v.aliases.length
          ? `${v.ref} is ${v.aliases.join(', ')}. Delete it anyway?`
          : `Delete ${v.ref}?`;
        if ((await vscode.window.showWarningMessage(message, { modal: true, detail }, button)) !== button) return;
      }
      const done = await change(`Could not delete ${v.ref}`, (r) => r.deleteVersion(v.ref, { force: true }), where);
      if (!done) return;
      void vscode.window.showInformationMessage(`Deleted ${v.ref}.`, 'Undo').then((c) => {
        if (c === 'Undo')
          void change(`Could not restore ${v.ref}`, (r) => r.restoreVersion(v.id, done.removedAliases), where);
      });
      return done;
    }),

    registerCommand(COMMANDS.filter, (arg?: unknown) => filterTree(local, 'the Model Registry', asString(arg))),
    registerCommand(COMMANDS.filterTeam, (arg?: unknown) => filterTree(team, 'the Team Registry', asString(arg))),
    registerCommand(COMMANDS.clearTeamFilter, () => team.tree.setFilter('')),
    registerCommand(COMMANDS.clearFilter, () => tree.setFilter('')),
    registerCommand(COMMANDS.showArchived, () => tree.setFilter(tree.filter, true)),
    registerCommand(COMMANDS.hideArchived, () => tree.setFilter(tree.filter, false)),
    registerCommand(COMMANDS.showMore, (...args: unknown[]) => {
      const more = targets.node(args, 'more');
      more?.where.tree.showMore(more.node);
    }),

    registerCommand(COMMANDS.revealVersion, async (arg?: unknown) => {
      const target =
        asString(arg) ??
        (await vscode.window.showInputBox({
          title: 'Go to Version',
          placeHolder: 'resnet@v3, resnet@production, resnet',
        }));
      if (!target) return;
      try {
        const v = await (await local.service.get()).resolve(target.trim());
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
async function filterTree(where: RegistryView, title: string, text: string | undefined): Promise<void> {
  const { tree } = where;
  const query = text ?? (await askFilter(where, title));
  if (query !== undefined) tree.setFilter(query);
}

/** The filter's input box; its example comparison is a metric of this registry that some version passes. */
async function askFilter(where: RegistryView, title: string): Promise<string | undefined> {
  let example: string | undefined;
  try {
    example = where.service.exists() ? await (await where.service.get()).exampleComparison() : undefined;
  } catch {
    // No example then; the registry's own error shows in its tree.
  }
  const metric = example ?? 'accuracy>0.9';
  return vscode.window.showInputBox({
    title: `Filter ${title}`,
    value: where.tree.filter,
    placeHolder: `resnet tag:baseline @production format:onnx commit:3f2a ${metric} archived:yes`,
    prompt: `Words match model names and tags; name:, tag:, alias: (or @), format:, commit:, archived:, and metric comparisons (${metric}). Empty shows everything.`,
    validateInput: problemWith(parseSearch),
  });
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
  pick.ignoreFocusOut = true; // kept open when the focus moves: a walkthrough page that started this takes the focus back
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

async function exportWithProgress(
  registry: Registry,
  v: VersionRecord,
  dest: string,
  press?: string,
): Promise<string | undefined> {
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
    const uri = vscode.Uri.file(out.dest);
    const button = exportButton(
      (await vscode.commands.getCommands(true)).includes('revealFileInOS'),
      vscode.workspace.getWorkspaceFolder(uri) !== undefined,
    );
    const message = `Exported ${v.ref} to ${out.dest} (${formatBytes(out.bytes)}).`;
    const act = async (c: string | undefined) => {
      try {
        if (c === 'Reveal in File Explorer') await vscode.commands.executeCommand('revealFileInOS', uri);
        else if (c === 'Reveal in Explorer View') await vscode.commands.executeCommand('revealInExplorer', uri);
        else if (c === 'Copy Path') {
          await vscode.env.clipboard.writeText(out.dest);
          confirm(`Copied ${out.dest}`);
        }
      } catch (e) {
        showError(`Could not show ${out.dest}`, e);
      }
    };
    if (press) await act(press === button ? press : undefined);
    else void vscode.window.showInformationMessage(message, button).then(act);
    return out.dest;
  } catch (e) {
    showError(`Could not export ${v.ref}`, e);
    return undefined;
  }
}

/** Selects `ref` in its tree once the change has reached it (the filter is cleared if it hides it). */
async function keepInView(where: RegistryView, ref: string): Promise<void> {
  try {
    await where.service.settled();
    const v = await (await where.service.get()).resolve(ref);
    const node = await where.tree.nodeFor(v);
    if (node && where.view.visible) await where.view.reveal(node, { select: true, focus: false });
  } catch {
    // Only a courtesy: the archive itself succeeded and said so.
  }
}

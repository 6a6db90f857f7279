import * as vscode from 'vscode';
import { configImporter, currentLanguage } from './catalog';
import {
  describesModel,
  importArchive,
  ImportOptions,
  importTrainingOutput,
  Registry,
  VersionRecord,
} from '../../core';
import { formatBytes } from '../../shared/format';
import { RegistryService } from '../registry/registryService';
import { RegistryTreeProvider } from '../registry/registryTree';
import { TreeNode } from '../registry/treeNodes';
import { showError } from '../errors';
import { withCancellableProgress } from '../progress';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand } from '../commands/register';

/** "Import as Model" (Explorer context menu) and "Import Training Output…" (palette, view title). */
export function registerImportCommands(
  service: RegistryService,
  tree: RegistryTreeProvider,
  view: vscode.TreeView<TreeNode>,
): vscode.Disposable[] {
  const run = async (target: vscode.Uri) => {
    // A folder whose config.json names a template is checked against it, as "Import as Model" on the config is.
    const importer = (await describesModel(target.fsPath)) ? configImporter(await currentLanguage()) : undefined;
    return importAndAnnounce(service, tree, view, target, importer);
  };
  return [
    // Explorer passes (clicked, allSelected); import each selected output as its own version.
    registerCommand(COMMANDS.importOutput, async (uri?: vscode.Uri, uris?: vscode.Uri[]) => {
      const targets = uris?.length ? uris : uri ? [uri] : await pickOutput();
      const done: VersionRecord[] = [];
      for (const t of targets ?? []) {
        const v = await run(t);
        if (v) done.push(v);
      }
      return done.length === 1 ? done[0] : done;
    }),
    // An archive made by "Export Version…" or `modelreg export`: a .tar/.tar.gz or an exported folder.
    registerCommand(COMMANDS.importArchive, async (uri?: vscode.Uri) => {
      const target =
        uri ??
        (
          await vscode.window.showOpenDialog({
            canSelectFiles: true,
            canSelectFolders: true,
            openLabel: 'Import Archive',
            title: 'Pick an exported version: a .tar, .tar.gz or an exported folder',
            filters: { 'Model archives': ['tar', 'gz', 'tgz'] },
            defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
          })
        )?.[0];
      return target && importAndAnnounce(service, tree, view, target, archiveImporter);
    }),
    registerCommand(COMMANDS.importOutputPick, async () => {
      const picked = await pickOutput();
      return picked ? run(picked[0]) : undefined;
    }),
  ];
}

async function pickOutput(): Promise<vscode.Uri[] | undefined> {
  return vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: true,
    canSelectMany: false,
    openLabel: 'Import as Model',
    title: 'Pick a training output folder or a weights file',
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
}

/** Imports with progress, refreshes the tree and offers to reveal the new version. */
export async function importAndAnnounce(
  service: RegistryService,
  tree: RegistryTreeProvider,
  view: vscode.TreeView<TreeNode>,
  target: vscode.Uri,
  importer?: Importer,
) {
  const version = await importWithProgress(service, target, importer);
  if (!version) return undefined;
  service.fireSoon();
  tree.refresh();
  void vscode.window
    .showInformationMessage(
      `Imported ${version.ref} (${version.format ?? 'no weights detected'}, ${formatBytes(version.sizeBytes)}).`,
      'Reveal',
    )
    .then(async (choice) => {
      if (choice === 'Reveal') await revealVersion(tree, view, version);
    });
  return version;
}

/** importArchive in the shape of the other importers, its bytes reported as the copying phase. */
const archiveImporter: Importer = (registry, target, opts) =>
  importArchive(registry, target, {
    model: opts.model,
    signal: opts.signal,
    onProgress: (bytesDone, bytesTotal) => opts.onProgress?.({ phase: 'copying', bytesDone, bytesTotal }),
  });

type Importer = (registry: Registry, target: string, opts: ImportOptions) => Promise<VersionRecord>;

/** Runs an import with a cancellable progress notification; errors and cancels are shown, not thrown. */
export async function importWithProgress(
  service: RegistryService,
  target: vscode.Uri,
  importer: Importer = importTrainingOutput,
): Promise<VersionRecord | undefined> {
  const name = vscode.workspace.asRelativePath(target);
  try {
    return await withCancellableProgress(
      `Importing ${name}`,
      `Import of ${name} cancelled; nothing was registered.`,
      async ({ signal, say, advance }) =>
        importer(await service.get(), target.fsPath, {
          signal,
          // Links inside the workspace may point anywhere in it, but not out of it.
          boundary: vscode.workspace.getWorkspaceFolder(target)?.uri.fsPath,
          onProgress: (p) => {
            if (p.phase !== 'copying' || p.bytesTotal === 0) return say(`${p.phase}…`);
            advance(
              p.bytesDone,
              p.bytesTotal,
              `${p.file ?? ''} — ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`,
            );
          },
        }),
    );
  } catch (e) {
    showError(`Could not import ${name}`, e);
    return undefined;
  }
}

export async function revealVersion(
  tree: RegistryTreeProvider,
  view: vscode.TreeView<TreeNode>,
  version: VersionRecord,
): Promise<void> {
  // A refresh (this window's change arriving again through the file watcher) can land while reveal
  // walks the tree and make it lose the node; look it up again and retry.
  // Likewise a refresh this window has scheduled (a command just changed the registry) would reset
  // the selection right after the reveal: let it land first.
  await tree.settled();
  for (let attempt = 1; ; attempt++) {
    const node = await tree.nodeFor(version);
    if (!node) return;
    try {
      return await view.reveal(node, { select: true, focus: true, expand: true });
    } catch (e) {
      if (attempt === 3) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

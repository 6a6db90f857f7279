import * as vscode from 'vscode';
import { VersionRecord } from '../../core';
import { COMPARE_PAGE } from '../../shared/compare/contract';
import { showError } from '../errors';
import { registerPanelSerializer } from '../panels/basePanel';
import { RegistryService } from '../registry/registryService';
import { CommandTargets } from '../registry/registries';
import { registerGitFileProvider } from './codeDiff';
import { ComparePanel } from './comparePanel';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand, setContext } from '../commands/register';

/** Compare Versions (tree multi-select or palette), Compare with…, and panel restore after reload. */
export function registerCompareCommands(
  context: vscode.ExtensionContext,
  targets: CommandTargets,
): vscode.Disposable[] {
  const service = targets.registries.local.service;
  /** The ready versions a call names: the clicked and selected rows, rows passed along, references. */
  const versionsOf = async (args: unknown[]) => (await targets.versions(args, { ready: true })).map((t) => t.version);
  const open = (versions: VersionRecord[]) => {
    // The walkthrough's Compare step ticks off when a comparison opens, not when the command starts: an
    // onCommand tick re-renders the walkthrough page at once, and its focus closed the version picker.
    void setContext('compared', true);
    return ComparePanel.show(
      service,
      context.extensionUri,
      versions.map((v) => v.id),
    );
  };
  return [
    registerGitFileProvider(),
    registerPanelSerializer(COMPARE_PAGE, (panel, state) =>
      ComparePanel.revive(panel, service, context.extensionUri, state),
    ),
    // From the tree: (clicked, selection); from the palette: nothing, so ask.
    registerCommand(COMMANDS.compareVersions, async (...args: unknown[]) => {
      try {
        let versions = await versionsOf(args);
        if (versions.length < 2) versions = (await pickVersions(service, versions)) ?? [];
        if (versions.length < 2) return undefined;
        return open(versions);
      } catch (e) {
        showError('Could not compare', e);
        return undefined;
      }
    }),
    // From a model row (or any row of its versions); from the palette, ask which model.
    registerCommand(COMMANDS.plotAcrossVersions, async (...args: unknown[]) => {
      try {
        const model = targets.model(args)?.model ?? (await pickModel(service));
        if (!model) return undefined;
        const registry = await service.get();
        const ready = (await registry.listVersions(model)).filter((v) => v.status === 'ready');
        if (ready.length === 0) {
          void vscode.window.showInformationMessage(`${model} has no ready version to plot.`);
          return undefined;
        }
        void setContext('compared', true);
        return ComparePanel.show(
          service,
          context.extensionUri,
          ready.map((v) => v.id),
          model,
        );
      } catch (e) {
        showError('Could not plot across versions', e);
        return undefined;
      }
    }),
    registerCommand(COMMANDS.compareWith, async (...args: unknown[]) => {
      const first = (await versionsOf(args.slice(0, 1)))[0];
      if (!first) return undefined;
      const others = await pickVersions(service, [first], first.id);
      return others && others.length >= 2 ? open(others) : undefined;
    }),
  ];
}

/** Which model to plot across versions: models with a ready version, most versions first. */
async function pickModel(service: RegistryService): Promise<string | undefined> {
  if (!service.exists()) {
    void vscode.window.showInformationMessage('The registry is empty: import a training output first.');
    return undefined;
  }
  const registry = await service.get();
  const items: (vscode.QuickPickItem & { count: number })[] = [];
  for (const m of await registry.listModels()) {
    const count = (await registry.listVersions(m.name)).filter((v) => v.status === 'ready').length;
    if (count > 0) items.push({ label: m.name, description: count === 1 ? '1 version' : `${count} versions`, count });
  }
  items.sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  const chosen = await vscode.window.showQuickPick(items, {
    ignoreFocusOut: true,
    title: 'Plot Metric Across Versions',
    placeHolder: 'Which model?',
  });
  return chosen?.label;
}

/** A multi-select QuickPick of every ready version across models; `preselected` come checked. */
async function pickVersions(
  service: RegistryService,
  preselected: VersionRecord[],
  fixed?: number,
): Promise<VersionRecord[] | undefined> {
  if (!service.exists()) {
    void vscode.window.showInformationMessage('The registry is empty: import a training output first.');
    return undefined;
  }
  const registry = await service.get();
  const items: (vscode.QuickPickItem & { version: VersionRecord })[] = [];
  for (const m of await registry.listModels()) {
    for (const v of await registry.listVersions(m.name)) {
      if (v.status !== 'ready' || v.id === fixed) continue;
      items.push({
        label: v.ref,
        description: [v.format, v.git ? v.git.commit.slice(0, 7) : undefined].filter(Boolean).join(' · '),
        detail: v.git?.subject,
        picked: preselected.some((p) => p.id === v.id),
        version: v,
      });
    }
  }
  const chosen = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    ignoreFocusOut: true, // as the "which version?" pick: a walkthrough button's page takes the focus back
    title: fixed ? `Compare ${preselected[0].ref} with…` : 'Compare Versions',
    placeHolder: fixed ? 'Pick one or more versions' : 'Pick two or more versions',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!chosen) return undefined;
  const versions = chosen.map((c) => c.version);
  return fixed ? [preselected[0], ...versions] : versions;
}
